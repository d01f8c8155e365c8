"""Daily digests: at each subscriber's local hour, the day's items they have not received, most relevant first."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from . import store

log = logging.getLogger(__name__)


def local_time(sub: dict, now_utc: datetime) -> datetime:
    return now_utc.astimezone(ZoneInfo(sub["timezone"] or "UTC"))


def is_due(sub: dict, now_utc: datetime) -> bool:
    """Due from the chosen local hour until midnight, once per local day (a bot that was down catches up)."""
    local = local_time(sub, now_utc)
    return local.hour >= sub["digest_hour"] and sub["last_digest_on"] != local.date().isoformat()


def digest_key(chat_id: int, local_date: str) -> str:
    return f"{chat_id}:{local_date}"


def candidates(db, sub: dict, now_utc: datetime, window_hours: int, allows=None) -> list[int]:
    """Summary ids for the digest: newest summary per article in the reader's variant, unseen, best first."""
    since = (now_utc - timedelta(hours=window_hours)).isoformat(timespec="seconds")
    rows = db.execute(
        """
        select max(s.id) as sid, a.id, a.title, a.text, coalesce(a.relevance, 0) as rel, coalesce(a.published_at, a.fetched_at) as at
        from summaries s join articles a on a.id = s.article_id
        where s.length = ? and s.tone = ? and a.fetched_at >= ? and a.skip_reason is null
          and a.id not in (select s2.article_id from outbox o join summaries s2 on s2.id = o.summary_id where o.chat_id = ?)
        group by a.id order by rel desc, at desc
        """,
        [sub["length"], sub["tone"], since, sub["chat_id"]],
    ).fetchall()
    chosen = []
    for sid, _aid, title, text, _rel, _at in rows:
        if allows is None or allows(f"{title}\n{text}"):
            chosen.append(sid)
        if len(chosen) >= sub["digest_size"]:
            break
    return chosen


def queue_due_digests(db, now_utc: datetime | None = None, window_hours: int = 24, filter_for=None) -> dict[int, int]:
    """Queue today's digest for every subscriber whose hour has come; return {chat_id: items queued}."""
    now_utc = now_utc or datetime.now(timezone.utc)
    queued = {}
    for sub in store.active_subscribers(db, "digest"):
        if not is_due(sub, now_utc):
            continue
        local_date = local_time(sub, now_utc).date().isoformat()
        allows = filter_for(sub) if filter_for else None
        ids = candidates(db, sub, now_utc, window_hours, allows)
        key = digest_key(sub["chat_id"], local_date)
        n = sum(store.enqueue(db, sub["chat_id"], sid, digest=key) for sid in ids)
        store.update_subscriber(db, sub["chat_id"], last_digest_on=local_date)
        queued[sub["chat_id"]] = n
        log.info("digest for %s (%s): %d items", sub["chat_id"], local_date, n)
    db.conn.commit()
    return queued
