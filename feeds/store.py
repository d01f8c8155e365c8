"""The ``feeds`` and ``articles`` tables and the small functions that touch them."""

from __future__ import annotations

from datetime import datetime, timezone

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


def migrate(db: sqlite_utils.Database) -> None:
    """Create or upgrade this package's tables."""
    migrations.apply(db)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def add_feed(db: sqlite_utils.Database, url: str, title: str = "") -> dict:
    """Add a feed (or return the existing one with that URL)."""
    existing = list(db["feeds"].rows_where("url = ?", [url]))
    if existing:
        return existing[0]
    pk = db["feeds"].insert({"url": url, "title": title, "enabled": 1, "created_at": utcnow()}).last_pk
    return db["feeds"].get(pk)


def get_feed(db: sqlite_utils.Database, feed_id: int) -> dict:
    try:
        return db["feeds"].get(feed_id)
    except sqlite_utils.db.NotFoundError:
        raise FeedNotFound(f"no feed with id {feed_id}") from None


def list_feeds(db: sqlite_utils.Database, enabled_only: bool = False) -> list[dict]:
    where = "enabled = 1" if enabled_only else None
    return list(db["feeds"].rows_where(where, order_by="id"))


def update_feed(db: sqlite_utils.Database, feed_id: int, **fields) -> None:
    db["feeds"].update(feed_id, fields)


def get_article(db: sqlite_utils.Database, article_id: int) -> dict:
    return db["articles"].get(article_id)


def insert_articles(db: sqlite_utils.Database, feed_id: int, items: list[dict]) -> list[int]:
    """Store entries not seen before (by guid or URL); return the new article ids."""
    new_ids = []
    now = utcnow()
    with db.conn:
        for item in items:
            if db.execute(
                "select 1 from articles where (feed_id = ? and guid = ?) or (url != '' and url = ?) limit 1",
                [feed_id, item["guid"], item["url"]],
            ).fetchone():
                continue
            new_ids.append(db["articles"].insert({**item, "feed_id": feed_id, "fetched_at": now}).last_pk)
    return new_ids
