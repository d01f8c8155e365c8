"""Deciding what each new entry is: a story to summarize, a duplicate of one, or an item a filter drops.

Every new entry is stored (sources and statistics need them); ``skip_reason`` says why the bot
should not summarize it. Duplicates only ever point at a deliverable canonical article, so a story
that one feed's filter dropped is still delivered from another feed that carries it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from . import relevance
from .dedupe import Deduper, content_hash, fingerprint, parse_when, url_key
from .filters import Filter, compile_filters, feed_rules
from .settings import FeedsSettings

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """A decided entry waiting to be inserted; ``duplicate_of`` may name another Pending."""

    feed_id: int
    row: dict
    duplicate_of: object = None  # article id (int) or Pending
    why: str = ""                # how the duplicate was recognised
    id: int | None = None

    def canonical_id(self) -> int | None:
        dup = self.duplicate_of
        return dup.id if isinstance(dup, Pending) else dup


@dataclass
class Ingest:
    """One polling pass's view of recent articles; ``plan`` decides entries without writing."""

    db: sqlite_utils.Database
    settings: FeedsSettings
    deduper: Deduper
    vocab: relevance.Vocabulary
    _by_url: dict[str, object] = field(default_factory=dict)
    _by_hash: dict[str, object] = field(default_factory=dict)
    _by_guid: dict[str, object] = field(default_factory=dict)
    _filters: dict[int, Filter] = field(default_factory=dict)

    @classmethod
    def open(cls, db: sqlite_utils.Database, settings: FeedsSettings, now: datetime) -> "Ingest":
        d = settings.dedupe
        deduper = Deduper(timedelta(hours=d.window_hours), d.similarity)
        since = (now - timedelta(hours=d.window_hours)).isoformat(timespec="seconds")
        rows = db.execute(
            "select id, feed_id, coalesce(nullif(published_at, ''), fetched_at), fingerprint, duplicate_of from articles "
            "where fetched_at >= ? and fingerprint is not null and (skip_reason is null or duplicate_of is not null) order by id", [since])
        for aid, feed_id, when, fp, dup in rows:
            deduper.add(aid, feed_id, parse_when(when), fp, dup)
        r = settings.relevance
        return cls(db, settings, deduper, relevance.vocabulary(r.geopolitical_terms, r.off_topic_terms))

    def _feed_filter(self, feed: dict) -> tuple[Filter, float]:
        rules = feed_rules(feed, self.settings)
        if feed["id"] not in self._filters:
            try:
                self._filters[feed["id"]] = compile_filters(rules.include, rules.exclude, "feed filter")
            except ValueError as exc:  # validated when set; a database edited by hand must not stop polling
                log.warning("feed %s: ignoring its filters: %s", feed["url"], exc)
                self._filters[feed["id"]] = Filter()
        return self._filters[feed["id"]], rules.threshold

    def _seen_in_feed(self, feed_id: int, guid: str, key: str) -> bool:
        return self.db.execute("select 1 from articles where feed_id = ? and (guid = ? or (? != '' and url_key = ?)) limit 1",
                               [feed_id, guid, key, key]).fetchone() is not None

    def _exact(self, column: str, value: str, pending: dict[str, object]):
        """A deliverable canonical article (or pending entry) with this guid/url_key/content_hash."""
        if not value:
            return None
        if value in pending:
            return pending[value]
        row = self.db.execute(f"select id, duplicate_of, skip_reason from articles where {column} = ? order by id limit 1", [value]).fetchone()
        if not row:
            return None
        if row[1]:
            return row[1]
        return row[0] if row[2] is None else None

    def plan(self, feed: dict, entries: list[dict], now: datetime) -> list[Pending]:
        """Decide each entry not seen before in this feed; register the deliverable ones for later matches."""
        flt, threshold = self._feed_filter(feed)
        out: list[Pending] = []
        seen_now: set[str] = set()
        for e in entries:
            key = url_key(e["url"])
            if e["guid"] in seen_now or (key and key in seen_now) or self._seen_in_feed(feed["id"], e["guid"], key):
                continue
            seen_now.update({e["guid"], key} - {""})
            row = {**e, "url_key": key, "content_hash": content_hash(e["title"], e["text"]), "fingerprint": None, "relevance": None, "full_text": 0}
            p = Pending(feed["id"], row)
            when = parse_when(e["published_at"]) or now
            dup, why = self._exact_duplicate(row)
            if dup is None:  # exact copies need no fingerprint or score: the story is judged by its canonical
                row["fingerprint"] = fingerprint(e["title"], e["text"])
                row["relevance"] = relevance.score(self.vocab, e["title"], e["text"])
                match = self.deduper.match(feed["id"], when, row["fingerprint"])
                if match:
                    dup, why = match[0], f"same story, similarity {match[1]:.2f}"
            if dup is not None:
                p.duplicate_of, p.why = dup, why
            elif reason := flt.reason(e["title"] + "\n" + e["text"]):
                row["skip_reason"] = reason
            elif threshold > 0 and row["relevance"] < threshold:
                row["skip_reason"] = f"below relevance {row['relevance']:.2f} < {threshold:.2f}"
            if row.get("skip_reason") is None:  # deliverable, or a duplicate of a deliverable story
                canonical = dup if dup is not None else p
                if row["fingerprint"]:
                    self.deduper.add(("pending", id(p)), feed["id"], when, row["fingerprint"], canonical)
                for column, pend in (("guid", self._by_guid), ("url_key", self._by_url), ("content_hash", self._by_hash)):
                    if row[column] and row[column] not in pend:
                        pend[row[column]] = canonical
            out.append(p)
        return out

    def _exact_duplicate(self, row: dict):
        guid = row["guid"] if row["guid"].startswith(("http://", "https://", "urn:", "tag:")) else ""
        for column, value, pending, why in (("guid", guid, self._by_guid, "same guid"), ("url_key", row["url_key"], self._by_url, "same URL"),
                                            ("content_hash", row["content_hash"], self._by_hash, "same text")):
            found = self._exact(column, value, pending)
            if found is not None:
                return found, why
        return None, ""
