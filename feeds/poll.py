"""One polling pass over every enabled feed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import sqlite_utils

from . import store
from .fetch import FetchError, fetch, make_client
from .parse import ParseError, parse_feed
from .settings import FeedsSettings

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    """What one pass did, per feed."""

    new_article_ids: list[int] = field(default_factory=list)
    not_modified: int = 0
    errors: dict[int, str] = field(default_factory=dict)


def sync_sources(db: sqlite_utils.Database, settings: FeedsSettings) -> None:
    """Make sure every configured feed has a row (feeds added from the chat stay too)."""
    for src in settings.sources:
        store.add_feed(db, src.url, src.title)


async def poll_feeds(db: sqlite_utils.Database, settings: FeedsSettings) -> PollReport:
    """Fetch and parse all enabled feeds concurrently; store new articles."""
    report = PollReport()
    feeds = store.list_feeds(db, enabled_only=True)
    async with make_client(settings.fetch) as client:
        results = await asyncio.gather(*(_poll_one(client, feed, settings) for feed in feeds))
    for feed, (outcome, payload) in zip(feeds, results):
        now = store.utcnow()
        if outcome == "error":
            report.errors[feed["id"]] = payload
            store.update_feed(db, feed["id"], last_polled_at=now, last_error=payload,
                              consecutive_errors=(feed["consecutive_errors"] or 0) + 1, error_count=(feed["error_count"] or 0) + 1)
            log.warning("feed %s: %s", feed["url"], payload)
        elif outcome == "304":
            report.not_modified += 1
            store.update_feed(db, feed["id"], last_polled_at=now, last_success_at=now, consecutive_errors=0)
        else:
            title, entries, headers = payload
            new = store.insert_articles(db, feed["id"], entries[: settings.max_entries_per_feed])
            report.new_article_ids.extend(new)
            store.update_feed(db, feed["id"], last_polled_at=now, last_success_at=now, consecutive_errors=0, last_error=None,
                              title=feed["title"] or title, etag=headers.get("etag"), last_modified=headers.get("last-modified"))
    return report


async def _poll_one(client, feed: dict, settings: FeedsSettings):
    try:
        result = await fetch(client, feed["url"], settings.fetch, feed["etag"], feed["last_modified"])
        if result.not_modified:
            return "304", None
        title, entries = await asyncio.to_thread(parse_feed, result.content, result.headers)
        return "ok", (title, entries, {k.lower(): v for k, v in result.headers.items()})
    except (FetchError, ParseError) as exc:
        return "error", str(exc)
