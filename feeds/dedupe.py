"""Recognising an article seen before: by guid, normalised URL, content hash, and the same story from another outlet.

Cross-outlet matching compares title and lead (the first 40 words) as sets of stemmed content
words, weighted by rarity (IDF over the articles in the window) and doubled for capitalised
names, blending title-to-title and title+lead cosine. Tuned on real material: the NeuS/AllSides
roundups (the same story from a left, a centre and a right outlet — the hard case, framings
differ) and saved BBC/Guardian and CNN/NYT feeds of the same days; see tests/feeds/test_dedupe.py.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import courlan

LEAD_WORDS = 40
TITLE_WEIGHT = 0.5       # share of the title-to-title similarity in the blend
MIN_HASH_CHARS = 200     # shorter texts are too generic to hash ("Click to read more")
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ocid|cmpid|cmp|ns_\w+|at_\w+|feedtype|feedname|rss|ref|src|smid|sref|partner|spm|__twitter_impression|ito|_ga)$", re.I)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both but by can
could did do does doing down during each few for from further had has have having he her here hers herself him himself his how
i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your yours yourself said says
say new one two year years like get got told week monday tuesday wednesday thursday friday saturday sunday last first news
live latest update updates video watch photos pictures
""".split())


def url_key(url: str) -> str:
    """The URL with scheme, www., fragment, tracking parameters, parameter order and trailing slash normalised away."""
    if not url:
        return ""
    try:
        url = courlan.normalize_url(url)
    except Exception:  # courlan refuses some odd URLs; fall back to our own rules alone
        pass
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)))
    path = re.sub(r"/+$", "", parts.path) or ""
    return f"{host}{path}" + (f"?{query}" if query else "")


def content_hash(title: str, text: str) -> str:
    """A hash of the words of the text (of the title too when the text is short); equal for trivially different copies."""
    words = " ".join(_WORD.findall((text or "").lower()))
    if len(words) < MIN_HASH_CHARS:
        words = " ".join(_WORD.findall((title or "").lower())) + " | " + words
        if len(words) < 40:
            return ""
    return hashlib.sha256(words.encode()).hexdigest()[:32]


def _stem(w: str) -> str:
    if w.endswith(("'s", "’s")):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def fingerprint(title: str, text: str) -> str:
    """Stemmed content words of title and lead, as stored: ``word`` or ``word^`` (a capitalised name), title words first, ``|`` between."""
    def terms(s: str) -> dict[str, bool]:
        words = _WORD.findall(s)
        # In Title Case Headlines capitals say nothing about names.
        caps_mean_names = sum(w[:1].isupper() for w in words) <= 0.6 * len(words)
        out: dict[str, bool] = {}
        for k, w in enumerate(words):
            lw = w.lower()
            name = caps_mean_names and k > 0 and w[:1].isupper()
            if (lw in STOPWORDS and not name) or (len(lw) < 3 and not lw.isdigit()):
                continue
            t = _stem(lw)
            out[t] = out.get(t, False) or name
        return out

    lead = " ".join((text or "").split()[:LEAD_WORDS])
    t = terms(title or "")
    body = dict(t)
    for w, name in terms(lead).items():
        body[w] = body.get(w, False) or name
    fmt = lambda d: " ".join(w + ("^" if cap else "") for w, cap in d.items())  # noqa: E731
    return fmt(t) + " | " + fmt(body)


def _parse_fp(fp: str) -> tuple[dict[str, float], dict[str, float]]:
    title, _, body = (fp or "").partition(" | ")
    read = lambda s: {w.rstrip("^"): (2.0 if w.endswith("^") else 1.0) for w in s.split()}  # noqa: E731
    return read(title), read(body)


@dataclass
class _Doc:
    id: object             # article id, or a pending row's key
    feed_id: int
    when: datetime | None
    title: dict[str, float]
    body: dict[str, float]


@dataclass
class Deduper:
    """The recent articles of every feed, indexed so a new entry finds its story's canonical article."""

    window: timedelta
    threshold: float
    docs: dict[object, _Doc] = field(default_factory=dict)
    canonical: dict[object, object] = field(default_factory=dict)
    postings: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    df: Counter = field(default_factory=Counter)

    def add(self, key, feed_id: int, when: datetime | None, fp: str, canonical=None) -> None:
        title, body = _parse_fp(fp)
        self.docs[key] = _Doc(key, feed_id, when, title, body)
        self.canonical[key] = canonical if canonical is not None else key
        for t in body:
            self.postings[t].add(key)
            self.df[t] += 1

    def _idf(self, t: str) -> float:
        n = max(len(self.docs), 20)  # a floor keeps weights sane while the window is nearly empty
        return math.log((n + 1) / (self.df.get(t, 0) + 0.5))

    def _cos(self, a: dict[str, float], b: dict[str, float]) -> float:
        if not a or not b:
            return 0.0
        common = sum(min(a[t], b[t]) * self._idf(t) for t in a.keys() & b.keys())
        if not common:
            return 0.0
        na = sum(w * self._idf(t) for t, w in a.items())
        nb = sum(w * self._idf(t) for t, w in b.items())
        return common / math.sqrt(na * nb) if na > 0 and nb > 0 else 0.0

    def similarity(self, fp_a: str, fp_b: str) -> float:
        (ta, ba), (tb, bb) = _parse_fp(fp_a), _parse_fp(fp_b)
        return TITLE_WEIGHT * self._cos(ta, tb) + (1 - TITLE_WEIGHT) * self._cos(ba, bb)

    def match(self, feed_id: int, when: datetime | None, fp: str) -> tuple[object, float] | None:
        """The canonical key of the same story from another feed, with its score; None when there is none."""
        if self.threshold >= 1:
            return None
        title, body = _parse_fp(fp)
        if len(body) < 3:
            return None
        rare = sorted(body, key=lambda t: self.df.get(t, 0))[:12]  # candidates share at least one rare word
        candidates = set().union(*(self.postings.get(t, set()) for t in rare)) if rare else set()
        best, best_score = None, 0.0
        for key in candidates:
            doc = self.docs[key]
            if doc.feed_id == feed_id:
                continue
            if when and doc.when and abs(when - doc.when) > self.window:
                continue
            score = TITLE_WEIGHT * self._cos(title, doc.title) + (1 - TITLE_WEIGHT) * self._cos(body, doc.body)
            if score > best_score:
                best, best_score = key, score
        if best is None or best_score < self.threshold:
            return None
        return self.canonical[best], best_score


def parse_when(iso: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None
