"""Feed management for admins and the CLI: check before adding, remove, re-enable, OPML in and out, a status table."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from . import opml, store
from .fetch import FetchError, Fetcher, is_remote
from .parse import ParseError, parse_feed
from .filters import compile_filters, feed_rules
from .settings import FeedsSettings, FetchSettings


class NotAFeed(ValueError):
    """The URL could not be fetched or is not a feed; the message says why."""


@dataclass
class FeedCheck:
    url: str
    title: str
    entries: int


async def check_feed(url: str, settings: FetchSettings, allow_files: bool = False) -> FeedCheck:
    """Fetch and parse ``url`` once; raise NotAFeed with a reason an admin can act on."""
    url = (url or "").strip()
    if not is_remote(url) and not allow_files:
        raise NotAFeed(f"{url or 'that'} is not an http(s) URL")
    try:
        async with Fetcher(settings) as fetcher:
            result = await fetcher.fetch(url)
        parsed = parse_feed(result.content, result.headers)
    except FetchError as exc:
        raise NotAFeed(f"cannot fetch {url}: {exc}") from None
    except ParseError as exc:
        raise NotAFeed(f"{url} is not an RSS/Atom feed ({exc})") from None
    return FeedCheck(url, parsed.title, len(parsed.entries))


async def add_checked(db: sqlite_utils.Database, url: str, title: str, settings: FetchSettings, allow_files: bool = False) -> tuple[dict, FeedCheck, bool]:
    """Check the feed, then add it (or revive a removed one); returns the row, the check and whether it is new."""
    check = await check_feed(url, settings, allow_files)
    existing = list(db["feeds"].rows_where("url = ? and removed_at is null", [check.url]))
    if existing:
        return existing[0], check, False
    return store.add_feed(db, check.url, title or check.title), check, True


def import_opml(db: sqlite_utils.Database, data: bytes) -> opml.ImportResult:
    """Add every feed of an OPML document (titles kept); existing ones are left as they are."""
    result = opml.ImportResult()
    for outline in opml.parse_opml(data):
        if not is_remote(outline.url):
            result.invalid.append(outline.url)
            continue
        before = list(db["feeds"].rows_where("url = ? and removed_at is null", [outline.url]))
        if before:
            result.existing.append(before[0])
        else:
            result.added.append(store.add_feed(db, outline.url, outline.title))
    return result


def export_opml(db: sqlite_utils.Database) -> bytes:
    return opml.to_opml(store.list_feeds(db))


def feed_state(feed: dict, now_iso: str) -> str:
    """One word for a feed's health: ok, failing, backoff, disabled."""
    if not feed["enabled"]:
        return "disabled"
    if feed["next_poll_at"] and feed["next_poll_at"] > now_iso and feed["consecutive_errors"]:
        return "backoff"
    if feed["consecutive_errors"]:
        return "failing"
    return "ok" if feed["last_success_at"] else "new"


def status_rows(db: sqlite_utils.Database, settings: FeedsSettings | None = None) -> list[dict]:
    """Each feed with its state, last success, items today and last error (for /feeds and `geobrief feeds list`);
    with ``settings``, also ``rules``: its filters and relevance threshold (FeedRules)."""
    now = store.utcnow()
    stats = store.feed_stats(db)
    rows = []
    for f in store.list_feeds(db):
        s = stats.get(f["id"], {})
        rules = feed_rules(f, settings) if settings else None
        rows.append({**f, "state": feed_state(f, now), "today": s.get("today", 0), "skipped_today": s.get("skipped_today", 0), "rules": rules})
    return rows


def set_filters(db: sqlite_utils.Database, feed_id: int, include: list[str] | None = None, exclude: list[str] | None = None,
                min_relevance: float | None = None, clear: bool = False) -> dict:
    """Change the filters set on a feed from the chat or CLI (None leaves that part as it is; ``min_relevance``
    -1 returns to the global threshold; ``clear`` drops them all first). ValueError says what is wrong, and
    then nothing is saved. They apply to entries from the next poll on; config.toml's filters stay in force."""
    feed = store.get_feed(db, feed_id)
    if feed["removed_at"]:
        raise store.FeedNotFound(f"feed {feed_id} was removed")
    old_include, old_exclude, threshold = ([], [], None) if clear else store.stored_filters(feed)
    include = [w.strip() for w in (old_include if include is None else include) if w.strip()]
    exclude = [w.strip() for w in (old_exclude if exclude is None else exclude) if w.strip()]
    if min_relevance is not None:
        if not (min_relevance == -1 or 0 <= min_relevance <= 1):
            raise ValueError("a relevance threshold is between 0 and 1 (0 keeps everything), or -1 for the global one")
        threshold = None if min_relevance == -1 else float(min_relevance)
    compile_filters(include, exclude, "feed filter")
    store.update_feed(db, feed_id, include=json.dumps(include), exclude=json.dumps(exclude), min_relevance=threshold)
    return store.get_feed(db, feed_id)
