"""The bot's tables: subscribers, summaries, the outbox, feedback and corrections."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("bot")


@migrations()
def m001_create_tables(db: sqlite_utils.Database) -> None:
    db["subscribers"].create(
        {
            "chat_id": int,
            "user_id": int,
            "username": str,
            "first_name": str,
            "active": int,          # wants deliveries
            "blocked": int,         # Telegram said the bot is blocked
            "mode": str,            # realtime or digest
            "digest_hour": int,
            "timezone": str,
            "digest_size": int,
            "length": str,          # brief / standard / detailed
            "tone": str,
            "include": str,         # JSON list of words
            "exclude": str,         # JSON list of words
            "subscribed_at": str,
            "last_digest_on": str,  # local date of the last digest sent
        },
        pk="chat_id",
        defaults={"active": 0, "blocked": 0, "mode": "realtime", "digest_hour": 8, "timezone": "UTC", "digest_size": 8, "length": "standard", "tone": "neutral", "include": "[]", "exclude": "[]"},
    )
    db["summaries"].create(
        {"id": int, "article_id": int, "text": str, "version": str, "length": str, "tone": str, "created_at": str},
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["summaries"].create_index(["article_id", "length", "tone"])
    db["outbox"].create(
        {
            "id": int,
            "chat_id": int,
            "summary_id": int,
            "digest": str,          # digest key (chat:date) when part of a digest, else null
            "status": str,          # pending, sent, undeliverable
            "attempts": int,
            "next_attempt_at": float,
            "message_ids": str,
            "error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        defaults={"status": "pending", "attempts": 0, "next_attempt_at": 0.0},
    )
    db["outbox"].create_index(["chat_id", "summary_id"], unique=True)
    db["outbox"].create_index(["status", "next_attempt_at"])
    db["feedback"].create(
        {"id": int, "summary_id": int, "chat_id": int, "user_id": int, "rating": str, "created_at": str},
        pk="id",
    )
    db["feedback"].create_index(["summary_id", "user_id"], unique=True)
    db["corrections"].create(
        {
            "id": int,
            "summary_id": int,
            "article_id": int,
            "chat_id": int,
            "user_id": int,
            "text": str,
            "status": str,          # pending, accepted, rejected, withdrawn
            "pair_id": int,
            "created_at": str,
            "reviewed_at": str,
            "reviewed_by": int,
        },
        pk="id",
    )
    db["corrections"].create_index(["status"])
    db["corrections"].create_index(["user_id", "created_at"])
    db["readers"].create({"user_id": int, "trusted": int, "note": str, "updated_at": str}, pk="user_id", defaults={"trusted": 0})


def migrate(db: sqlite_utils.Database) -> None:
    """Create or upgrade this package's tables."""
    migrations.apply(db)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def now_ts() -> float:
    return time.time()


def iso_ago(hours: float) -> str:
    """A UTC timestamp ``hours`` ago in the same ISO form as the stored ones, so text comparison is time order."""
    return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds")


# ---- subscribers ---------------------------------------------------------------------------------

def get_subscriber(db: sqlite_utils.Database, chat_id: int) -> dict | None:
    try:
        return db["subscribers"].get(chat_id)
    except sqlite_utils.db.NotFoundError:
        return None


def touch_subscriber(db: sqlite_utils.Database, chat_id: int, user_id: int | None, username: str | None, first_name: str | None,
                     defaults: dict | None = None) -> dict:
    """Create the row on first contact (with the operator's default style); writing to us means not blocked."""
    row = get_subscriber(db, chat_id)
    if row is None:
        db["subscribers"].insert({"chat_id": chat_id, "user_id": user_id, "username": username, "first_name": first_name, "active": 0, "blocked": 0,
                                  **(defaults or {})})
    else:
        db["subscribers"].update(chat_id, {"user_id": user_id, "username": username, "first_name": first_name, "blocked": 0})
    return db["subscribers"].get(chat_id)


def set_active(db: sqlite_utils.Database, chat_id: int, active: bool) -> None:
    fields = {"active": int(active)}
    if active:
        fields["subscribed_at"] = utcnow()
    db["subscribers"].update(chat_id, fields)


def mark_blocked(db: sqlite_utils.Database, chat_id: int) -> None:
    db["subscribers"].update(chat_id, {"blocked": 1})


def active_subscribers(db: sqlite_utils.Database, mode: str | None = None) -> list[dict]:
    where, args = "active = 1 and blocked = 0", []
    if mode:
        where += " and mode = ?"
        args.append(mode)
    return list(db["subscribers"].rows_where(where, args))


# ---- summaries -----------------------------------------------------------------------------------

def add_summary(db: sqlite_utils.Database, article_id: int, text: str, version: str, length: str, tone: str) -> int:
    return db["summaries"].insert({"article_id": article_id, "text": text, "version": version, "length": length, "tone": tone, "created_at": utcnow()}).last_pk


def get_summary(db: sqlite_utils.Database, summary_id: int) -> dict | None:
    try:
        return db["summaries"].get(summary_id)
    except sqlite_utils.db.NotFoundError:
        return None


def latest_summary(db: sqlite_utils.Database, article_id: int, length: str, tone: str) -> dict | None:
    rows = list(db["summaries"].rows_where("article_id = ? and length = ? and tone = ?", [article_id, length, tone], order_by="id desc", limit=1))
    return rows[0] if rows else None


# ---- outbox --------------------------------------------------------------------------------------

def enqueue(db: sqlite_utils.Database, chat_id: int, summary_id: int, digest: str | None = None) -> bool:
    """Queue one (chat, summary); a pair already queued or sent is never queued again."""
    cur = db.execute(
        "insert or ignore into outbox (chat_id, summary_id, digest, status, attempts, next_attempt_at, created_at) values (?, ?, ?, 'pending', 0, 0, ?)",
        [chat_id, summary_id, digest, utcnow()],
    )
    return cur.rowcount == 1


def already_sent_articles(db: sqlite_utils.Database, chat_id: int) -> set[int]:
    rows = db.execute("select s.article_id from outbox o join summaries s on s.id = o.summary_id where o.chat_id = ?", [chat_id]).fetchall()
    return {r[0] for r in rows}


# ---- feedback and corrections --------------------------------------------------------------------

def record_feedback(db: sqlite_utils.Database, summary_id: int, chat_id: int, user_id: int, rating: str) -> None:
    db.execute(
        "insert into feedback (summary_id, chat_id, user_id, rating, created_at) values (?, ?, ?, ?, ?) "
        "on conflict(summary_id, user_id) do update set rating = excluded.rating, created_at = excluded.created_at",
        [summary_id, chat_id, user_id, rating, utcnow()],
    )
    db.conn.commit()


def add_correction(db: sqlite_utils.Database, summary: dict, chat_id: int, user_id: int, text: str, status: str) -> int:
    return db["corrections"].insert({"summary_id": summary["id"], "article_id": summary["article_id"], "chat_id": chat_id, "user_id": user_id,
                                     "text": text, "status": status, "created_at": utcnow()}).last_pk


def get_correction(db: sqlite_utils.Database, correction_id: int) -> dict | None:
    try:
        return db["corrections"].get(correction_id)
    except sqlite_utils.db.NotFoundError:
        return None


def update_correction(db: sqlite_utils.Database, correction_id: int, **fields) -> None:
    db["corrections"].update(correction_id, fields)


def corrections_today(db: sqlite_utils.Database, user_id: int) -> int:
    """Corrections a reader sent in the last 24 hours (withdrawn ones count: the cap is on sending)."""
    return db.execute("select count(*) from corrections where user_id = ? and created_at >= ?", [user_id, iso_ago(24)]).fetchone()[0]


def is_trusted(db: sqlite_utils.Database, user_id: int) -> bool:
    row = db.execute("select trusted from readers where user_id = ?", [user_id]).fetchone()
    return bool(row and row[0])


def set_trusted(db: sqlite_utils.Database, user_id: int, trusted: bool) -> None:
    db["readers"].upsert({"user_id": user_id, "trusted": int(trusted), "updated_at": utcnow()}, pk="user_id")


def pending_corrections(db: sqlite_utils.Database, limit: int = 1) -> list[dict]:
    return list(db["corrections"].rows_where("status = 'pending'", order_by="id", limit=limit))


def user_corrections(db: sqlite_utils.Database, user_id: int, limit: int = 10) -> list[dict]:
    return list(db["corrections"].rows_where("user_id = ?", [user_id], order_by="id desc", limit=limit))


def update_subscriber(db: sqlite_utils.Database, chat_id: int, **fields) -> dict:
    db["subscribers"].update(chat_id, fields)
    return db["subscribers"].get(chat_id)
