"""One polling pass: fetch due feeds concurrently, parse, decide, fetch full text for teasers, store, record health."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlite_utils

from . import health, store
from .extract import extract_text
from .fetch import ACCEPT_PAGE, FetchError, Fetcher, is_remote
from .health import DisabledFeed
from .ingest import Ingest, Pending
from .parse import ParseError
from .parse_pool import parse_in_worker
from .settings import FeedsSettings

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    """What one pass did."""

    new_article_ids: list[int] = field(default_factory=list)   # stored and to be summarized
    skipped_article_ids: list[int] = field(default_factory=list)  # stored with a skip_reason
    skipped: Counter = field(default_factory=Counter)          # "duplicate", "filter", "relevance" -> count
    polled: int = 0
    not_modified: int = 0
    deferred: int = 0                                           # feeds still in backoff or ttl, not fetched
    full_text: int = 0                                          # teasers replaced by the article page's text
    parse_s: float = 0.0                                        # CPU seconds spent parsing (0 when nothing changed)
    errors: dict[int, str] = field(default_factory=dict)
    disabled: list[DisabledFeed] = field(default_factory=list)  # feeds newly disabled by this pass


def sync_sources(db: sqlite_utils.Database, settings: FeedsSettings) -> None:
    """Make sure every configured feed has a row; feeds an admin removed stay removed."""
    for src in settings.sources:
        store.add_feed(db, src.url, src.title, revive=False)


async def poll_feeds(db: sqlite_utils.Database, settings: FeedsSettings, now: datetime | None = None) -> PollReport:
    """Fetch and parse every due feed concurrently; store new articles with their skip reasons; update feed health."""
    now = now or datetime.now(timezone.utc)
    report = PollReport()
    feeds = store.due_feeds(db, now.isoformat(timespec="seconds"))
    report.deferred = len(store.list_feeds(db, enabled_only=True)) - len(feeds)
    report.polled = len(feeds)
    async with Fetcher(settings.fetch) as fetcher:
        tasks = [asyncio.create_task(_fetch_and_parse(fetcher, feed, settings)) for feed in feeds]
        ingest = Ingest.open(db, settings, now)
        planned: list[tuple[dict, list[Pending]]] = []
        updates: dict[int, dict] = {}
        for feed, task in zip(feeds, tasks):  # in feed order (deterministic canonicals), while later feeds still fetch
            outcome, payload, headers, parse_s = await task
            report.parse_s += parse_s
            if outcome == "error":
                message, retry_after = payload
                fields, disabled = health.after_failure(feed, message, now, settings, retry_after)
                updates[feed["id"]] = fields
                report.errors[feed["id"]] = message
                if disabled:
                    report.disabled.append(disabled)
                log.warning("feed %s: %s", feed["url"], message)
                continue
            fields = health.after_success(now, settings, payload.ttl_s if outcome == "ok" else feed["ttl_s"])
            fields.update(_validators(feed, headers))
            if outcome == "ok":
                fields.update(title=feed["title"] or payload.title, ttl_s=payload.ttl_s)
                planned.append((feed, ingest.plan(feed, payload.entries, now)))
            else:
                report.not_modified += 1
            updates[feed["id"]] = fields
        report.full_text = await _fill_full_text(fetcher, [p for _, ps in planned for p in ps], settings)
    _store(db, planned, updates, report)
    return report


async def _fetch_and_parse(fetcher: Fetcher, feed: dict, settings: FeedsSettings):
    """("ok", ParsedFeed, headers, parse seconds), ("304", None, headers, 0) or ("error", (message, retry_after), {}, 0)."""
    try:
        result = await fetcher.fetch(feed["url"], feed["etag"], feed["last_modified"])
        if result.not_modified:
            return "304", None, result.headers, 0.0
        body_hash = hashlib.sha256(result.content).hexdigest()
        headers = {**result.headers, "x-body-hash": body_hash}
        if body_hash == feed["body_hash"]:  # no validators, same bytes: as good as a 304
            return "unchanged", None, headers, 0.0
        parsed, cpu_s = await parse_in_worker(result.content, result.headers, settings.max_entries_per_feed, settings.parse_processes)
        return "ok", parsed, headers, cpu_s
    except FetchError as exc:
        return "error", (str(exc), exc.retry_after_s), {}, 0.0
    except ParseError as exc:
        return "error", (str(exc), None), {}, 0.0


def _validators(feed: dict, headers: dict) -> dict:
    out = {}
    if headers.get("etag"):
        out["etag"] = headers["etag"][:500]
    if headers.get("last-modified"):
        out["last_modified"] = headers["last-modified"][:100]
    if headers.get("x-body-hash"):
        out["body_hash"] = headers["x-body-hash"]
    return out


async def _fill_full_text(fetcher: Fetcher, pending: list[Pending], settings: FeedsSettings) -> int:
    """Replace teasers of deliverable entries by their article page's main text (same limits as feeds)."""
    ft = settings.full_text
    if not ft.enabled:
        return 0
    wanted = [p for p in pending if p.duplicate_of is None and p.row.get("skip_reason") is None
              and len(p.row["text"]) < ft.min_chars and is_remote(p.row["url"])][: ft.max_per_poll]

    async def one(p: Pending) -> bool:
        try:
            page = await fetcher.fetch(p.row["url"], accept=ACCEPT_PAGE)
        except FetchError as exc:
            log.info("full text of %s: %s", p.row["url"], exc)
            return False
        text = await asyncio.to_thread(extract_text, page.content, p.row["url"])
        if len(text) > len(p.row["text"]):
            p.row["text"], p.row["full_text"] = text, 1
            return True
        return False

    return sum(await asyncio.gather(*(one(p) for p in wanted)))


def _store(db: sqlite_utils.Database, planned: list[tuple[dict, list[Pending]]], updates: dict[int, dict], report: PollReport) -> None:
    fetched_at = store.utcnow()
    with db.conn:
        for feed, pendings in planned:
            for p in pendings:
                canonical = p.canonical_id()
                if p.duplicate_of is not None:
                    if canonical is None:  # its canonical entry was not stored (cannot happen; be safe)
                        p.duplicate_of = None
                    else:
                        p.row["duplicate_of"] = canonical
                        p.row["skip_reason"] = f"duplicate of #{canonical} ({p.why})"
                p.id = store.insert_article(db, feed["id"], p.row, fetched_at)
                if p.row.get("skip_reason"):
                    report.skipped_article_ids.append(p.id)
                    reason = p.row["skip_reason"]
                    report.skipped["duplicate" if reason.startswith("duplicate") else "relevance" if reason.startswith("below") else "filter"] += 1
                else:
                    report.new_article_ids.append(p.id)
        for feed_id, fields in updates.items():
            store.set_feed_fields(db, feed_id, fields)
