"""The ``feeds`` and ``articles`` tables and the small functions that touch them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("feeds")


class FeedNotFound(LookupError):
    """No feed with that id or URL."""


@migrations()
def m001_create_tables(db: sqlite_utils.Database) -> None:
    db["feeds"].create(
        {
            "id": int,
            "url": str,
            "title": str,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "last_polled_at": str,
            "last_success_at": str,
            "last_error": str,
            "consecutive_errors": int,
            "error_count": int,
            "created_at": str,
        },
        pk="id",
        not_null={"url"},
        defaults={"enabled": 1, "consecutive_errors": 0, "error_count": 0, "title": ""},
    )
    db["feeds"].create_index(["url"], unique=True)
    db["articles"].create(
        {
            "id": int,
            "feed_id": int,
            "guid": str,
            "url": str,
            "title": str,
            "text": str,
            "published_at": str,
            "fetched_at": str,
        },
        pk="id",
        foreign_keys=[("feed_id", "feeds", "id")],
    )
    db["articles"].create_index(["feed_id", "guid"], unique=True)
    db["articles"].create_index(["url"])
    db["articles"].create_index(["fetched_at"])


@migrations()
def m002_health_dedupe_relevance(db: sqlite_utils.Database) -> None:
    """Feed health and backoff; why an article is skipped, what it duplicates, how relevant it is."""
    feeds = db["feeds"]
    for name in ("next_poll_at", "disabled_at", "disabled_reason", "removed_at", "body_hash"):
        feeds.add_column(name, str)
    feeds.add_column("ttl_s", int)
    articles = db["articles"]
    articles.add_column("skip_reason", str)
    articles.add_column("duplicate_of", int)
    articles.add_column("relevance", float)
    articles.add_column("url_key", str)
    articles.add_column("content_hash", str)
    articles.add_column("fingerprint", str)
    articles.add_column("full_text", int)
    articles.create_index(["url_key"])
    articles.create_index(["guid"])
    articles.create_index(["content_hash"])
    articles.create_index(["duplicate_of"])
    articles.create_index(["feed_id", "fetched_at"])


@migrations()
def m003_feed_filters(db: sqlite_utils.Database) -> None:
    """Filters an admin sets on a feed from the chat or the CLI (JSON lists; NULL threshold = the global one)."""
    feeds = db["feeds"]
    feeds.add_column("include", str)
    feeds.add_column("exclude", str)
    feeds.add_column("min_relevance", float)


def migrate(db: sqlite_utils.Database) -> None:
    """Create or upgrade this package's tables."""
    migrations.apply(db)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- feeds --------------------------------------------------------------------------------------

def add_feed(db: sqlite_utils.Database, url: str, title: str = "", revive: bool = True) -> dict:
    """Add a feed, or return the existing one with that URL (re-enabled when it had been removed and ``revive``)."""
    existing = list(db["feeds"].rows_where("url = ?", [url]))
    if existing:
        feed = existing[0]
        if revive and feed["removed_at"]:
            update_feed(db, feed["id"], removed_at=None, enabled=1, disabled_at=None, disabled_reason=None,
                        consecutive_errors=0, next_poll_at=None, title=title or feed["title"])
            return get_feed(db, feed["id"])
        return feed
    pk = db["feeds"].insert({"url": url, "title": title, "enabled": 1, "created_at": utcnow()}).last_pk
    return db["feeds"].get(pk)


def get_feed(db: sqlite_utils.Database, feed_id: int) -> dict:
    try:
        return db["feeds"].get(feed_id)
    except sqlite_utils.db.NotFoundError:
        raise FeedNotFound(f"no feed with id {feed_id}") from None


def list_feeds(db: sqlite_utils.Database, enabled_only: bool = False) -> list[dict]:
    """Feeds not removed by an admin, by id."""
    where = "removed_at is null" + (" and enabled = 1" if enabled_only else "")
    return list(db["feeds"].rows_where(where, order_by="id"))


def due_feeds(db: sqlite_utils.Database, now: str, slack_s: int = 30) -> list[dict]:
    """Enabled feeds whose backoff (``next_poll_at``) has passed, allowing ``slack_s`` of scheduling jitter."""
    soon = (datetime.fromisoformat(now) + timedelta(seconds=slack_s)).isoformat(timespec="seconds")
    return list(db["feeds"].rows_where("removed_at is null and enabled = 1 and (next_poll_at is null or next_poll_at <= ?)", [soon], order_by="id"))


def stored_filters(feed: dict) -> tuple[list[str], list[str], float | None]:
    """The include and exclude lists and relevance threshold set on this feed row (not config.toml's)."""
    return json.loads(feed.get("include") or "[]"), json.loads(feed.get("exclude") or "[]"), feed.get("min_relevance")


def update_feed(db: sqlite_utils.Database, feed_id: int, **fields) -> None:
    db["feeds"].update(feed_id, fields)


def remove_feed(db: sqlite_utils.Database, feed_id: int) -> dict:
    """Stop polling a feed and hide it; its articles stay (summaries and deliveries refer to them)."""
    feed = get_feed(db, feed_id)
    if feed["removed_at"]:
        raise FeedNotFound(f"feed {feed_id} was already removed")
    update_feed(db, feed_id, removed_at=utcnow(), enabled=0)
    return get_feed(db, feed_id)


def enable_feed(db: sqlite_utils.Database, feed_id: int) -> dict:
    """Re-enable a feed, forgetting its failures so the next poll tries it at once."""
    feed = get_feed(db, feed_id)
    if feed["removed_at"]:
        raise FeedNotFound(f"feed {feed_id} was removed; add it again instead")
    update_feed(db, feed_id, enabled=1, disabled_at=None, disabled_reason=None, consecutive_errors=0, next_poll_at=None)
    return get_feed(db, feed_id)


def feed_stats(db: sqlite_utils.Database) -> dict[int, dict]:
    """Per feed: articles stored today (UTC) and how many of them were skipped."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    rows = db.execute(
        "select feed_id, count(*), sum(skip_reason is not null) from articles where fetched_at >= ? group by feed_id", [today]).fetchall()
    return {r[0]: {"today": r[1], "skipped_today": r[2] or 0} for r in rows}


# ---- articles -----------------------------------------------------------------------------------

def get_article(db: sqlite_utils.Database, article_id: int) -> dict:
    return db["articles"].get(article_id)


def canonical_id(db: sqlite_utils.Database, article_id: int) -> int:
    row = db.execute("select duplicate_of from articles where id = ?", [article_id]).fetchone()
    return row[0] if row and row[0] else article_id


def sources_for(db: sqlite_utils.Database, article_id: int) -> list[dict]:
    """The story's sources, canonical first: one dict per outlet's article, for "Reuters · BBC" links."""
    canon = canonical_id(db, article_id)
    rows = db.execute(
        "select a.id, a.title, a.url, a.feed_id, coalesce(nullif(f.title, ''), f.url) from articles a join feeds f on f.id = a.feed_id "
        "where a.id = ? or a.duplicate_of = ? order by a.id != ?, a.id", [canon, canon, canon]).fetchall()
    out, seen_feeds = [], set()
    for r in rows:
        if r[3] in seen_feeds:  # the same outlet twice (a re-post) adds no source
            continue
        seen_feeds.add(r[3])
        out.append({"article_id": r[0], "title": r[1], "url": r[2], "feed_id": r[3], "feed_title": r[4]})
    return out


ARTICLE_COLUMNS = ("guid", "url", "title", "text", "published_at", "skip_reason", "duplicate_of", "relevance",
                   "url_key", "content_hash", "fingerprint", "full_text")


_INSERT = f"insert into articles (feed_id, fetched_at, {', '.join(ARTICLE_COLUMNS)}) values ({', '.join('?' * (len(ARTICLE_COLUMNS) + 2))})"


def insert_article(db: sqlite_utils.Database, feed_id: int, item: dict, fetched_at: str | None = None) -> int:
    """Store one decided entry (see feeds.ingest) in the caller's transaction; return its id."""
    return db.conn.execute(_INSERT, [feed_id, fetched_at or utcnow(), *(item.get(k) for k in ARTICLE_COLUMNS)]).lastrowid


def set_feed_fields(db: sqlite_utils.Database, feed_id: int, fields: dict) -> None:
    """Update a feed row in the caller's transaction (one commit for a whole polling pass)."""
    if fields:
        db.conn.execute(f"update feeds set {', '.join(f'[{k}] = ?' for k in fields)} where id = ?", [*fields.values(), feed_id])


def insert_articles(db: sqlite_utils.Database, feed_id: int, items: list[dict]) -> list[int]:
    """Store entries not seen before in this feed (by guid or URL); return the new article ids."""
    new_ids = []
    with db.conn:
        for item in items:
            if db.execute("select 1 from articles where feed_id = ? and (guid = ? or (url != '' and url = ?)) limit 1",
                          [feed_id, item["guid"], item.get("url") or ""]).fetchone():
                continue
            new_ids.append(insert_article(db, feed_id, item))
    return new_ids
