"""A geopolitical relevance score from a vocabulary, so sport and celebrity items in a general feed can be dropped.

score = (g + 1) / (g + o + 2), where g and o are the weighted hits of geopolitical and off-topic
terms in the title (counted twice) and the first 150 words. No evidence either way scores 0.5, so
an item is dropped only when the off-topic words clearly outweigh the geopolitical ones. Measured
on the BBC News Summary, XSum and CNN/DailyMail items of ../shared/data/news_pairs.jsonl by
tests/feeds/test_relevance.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEAD_WORDS = 150

GEOPOLITICAL = """
government minister ministers ministry president presidential prime-minister parliament parliamentary congress senate senator
lawmakers legislation election elections vote voters referendum campaign party opposition coalition democracy democratic
republican republicans democrats conservative labour policy policies diplomat diplomats diplomacy diplomatic embassy ambassador
foreign treaty sanctions sanction summit talks negotiations ceasefire truce peace war wars military troops army navy soldiers
defence defense missile missiles nuclear weapons strike strikes airstrike invasion occupation border borders refugee refugees
migrants asylum humanitarian united-nations un nato eu european-union security-council kremlin pentagon white-house
state-department regime rebels insurgents militants terrorism terrorist protest protesters protests coup crisis conflict
sovereignty territory annexation independence separatist geopolitical tariffs trade-war economy inflation central-bank
court supreme-court judge ruling constitution law rights human-rights police intelligence spy espionage cyberattack hackers
oil gas pipeline energy climate summit g7 g20 imf world-bank china russia ukraine iran israel gaza palestinian syria iraq
afghanistan north-korea taiwan beijing moscow washington brussels tehran kyiv
""".split()

OFF_TOPIC = """
football soccer cricket rugby tennis golf boxing cycling athletics marathon olympics olympic paralympic formula-one f1 nba nfl
mlb nhl premier-league champions-league world-cup league cup match matches goal goals striker midfielder defender goalkeeper
coach manager season fixture fixtures scored score scoring win wins won victory defeat draw title championship tournament
semi-final quarter-final final squad transfer stadium fans club clubs player players team teams race sprint medal medals
celebrity celebrities star stars actor actress singer rapper band album song songs chart film films movie movies box-office
hollywood oscars oscar grammy grammys emmy bafta awards premiere red-carpet fashion designer model models royal-baby
showbiz tv series sitcom reality-show dating romance wedding engaged divorce pregnant instagram tiktok influencer
recipe recipes diet fitness horoscope gossip theatre musical broadway novel novelist book books author festival
""".split()


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@dataclass(frozen=True)
class Vocabulary:
    """Term sets (a phrase is a tuple of words); build with :func:`vocabulary`."""

    geopolitical: frozenset
    off_topic: frozenset
    longest: int = 1


def _terms(terms: list[str]) -> set[tuple[str, ...]]:
    return {tuple(t.lower().replace("-", " ").split()) for t in terms if t.strip()}


def vocabulary(extra_geopolitical: list[str] | None = None, extra_off_topic: list[str] | None = None) -> Vocabulary:
    """The built-in vocabulary plus the operator's additions (words or phrases; '-' stands for a space)."""
    geo, off = _terms(GEOPOLITICAL + list(extra_geopolitical or [])), _terms(OFF_TOPIC + list(extra_off_topic or []))
    return Vocabulary(frozenset(geo), frozenset(off), max(len(t) for t in geo | off))


def _hits(vocab: Vocabulary, text: str) -> tuple[float, float]:
    """Weighted hits (geopolitical, off-topic): a distinct term counts 1, each repeat 0.25 more (up to 1 more)."""
    words = [w.lower() for w in _WORD.findall(text)]
    geo: dict[tuple, int] = {}
    off: dict[tuple, int] = {}
    for i in range(len(words)):
        for n in range(1, vocab.longest + 1):
            gram = tuple(words[i:i + n])
            if len(gram) < n:
                break
            if gram in vocab.geopolitical:
                geo[gram] = geo.get(gram, 0) + 1
            if gram in vocab.off_topic:
                off[gram] = off.get(gram, 0) + 1
    weigh = lambda counts: sum(1 + min(1.0, 0.25 * (c - 1)) for c in counts.values())  # noqa: E731
    return weigh(geo), weigh(off)


def score(vocab: Vocabulary, title: str, text: str) -> float:
    """Relevance in (0, 1): 0.5 with no evidence, towards 1 for geopolitics, towards 0 for sport and celebrity."""
    lead = " ".join((text or "").split()[:LEAD_WORDS])
    (tg, to), (lg, lo) = _hits(vocab, title or ""), _hits(vocab, lead)
    g, o = 2 * tg + lg, 2 * to + lo
    return round((g + 1) / (g + o + 2), 3)
