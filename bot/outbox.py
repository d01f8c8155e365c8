"""Delivery: each (chat, summary) in the outbox is sent once, within Telegram's limits, surviving restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import date

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from feeds import store as feed_store

from . import store
from .formatting import digest_messages, feedback_keyboard, summary_html
from .telegram_html import split_html

log = logging.getLogger(__name__)


class Outbox:
    """A worker that drains the ``outbox`` table: one message per chat per interval, many chats at once."""

    def __init__(self, db, bot: Bot, per_chat_interval_s: float = 1.0, concurrency: int = 32):
        self.db = db
        self.bot = bot
        self.per_chat_interval_s = per_chat_interval_s
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._next_ok: dict[int, float] = {}   # chat -> monotonic time it may be sent to again
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._stopping = False
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; pending rows left at a stop are sent after the next start."""
        while not self._stopping:
            try:
                launched, pause = await self._round()
            except Exception:
                log.exception("outbox round failed; retrying")
                launched, pause = 0, 2.0
            if not launched:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=pause)
                except TimeoutError:
                    pass

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def pending_count(self) -> int:
        return self.db.execute("select count(*) from outbox where status = 'pending'").fetchone()[0]

    async def _round(self) -> tuple[int, float]:
        now_wall, now = time.time(), time.monotonic()
        rows = self.db.execute(
            "select id, chat_id from outbox where status = 'pending' and next_attempt_at <= ? order by id limit 2000", [now_wall]
        ).fetchall()
        launched, seen = 0, set()
        pause = 5.0
        for row_id, chat_id in rows:
            if chat_id in seen or chat_id in self._in_flight:
                continue
            seen.add(chat_id)
            wait = self._next_ok.get(chat_id, 0) - now
            if wait > 0:
                pause = min(pause, wait)
                continue
            await self._slots.acquire()
            self._in_flight.add(chat_id)
            task = asyncio.create_task(self._deliver(row_id, chat_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            launched += 1
        if not rows:
            nxt = self.db.execute("select min(next_attempt_at) from outbox where status = 'pending'").fetchone()[0]
            if nxt:
                pause = max(0.05, min(pause, nxt - now_wall))
        elif not launched:
            pause = max(0.02, min(pause, 0.2))
        return launched, pause

    async def _deliver(self, row_id: int, chat_id: int) -> None:
        try:
            await self._send_row(row_id, chat_id)
        finally:
            self._next_ok[chat_id] = time.monotonic() + self.per_chat_interval_s
            self._in_flight.discard(chat_id)
            self._slots.release()
            self._wake.set()

    def _item(self, summary_id: int) -> tuple[dict, dict, list[dict]]:
        summary = store.get_summary(self.db, summary_id)
        article = feed_store.get_article(self.db, summary["article_id"])
        return article, summary, feed_store.sources_for(self.db, article["id"])

    def _render(self, rows: list[dict]) -> list[tuple[str, object]]:
        """The messages for one outbox row, or for a whole digest (all its rows)."""
        if rows[0]["digest"]:
            day = date.fromisoformat(rows[0]["digest"].split(":", 1)[1])
            return digest_messages(day, [self._item(r["summary_id"]) for r in rows])
        parts = split_html(summary_html(*self._item(rows[0]["summary_id"])))
        return [(part, feedback_keyboard(rows[0]["summary_id"]) if i == len(parts) - 1 else None) for i, part in enumerate(parts)]

    async def _send_row(self, row_id: int, chat_id: int) -> None:
        row = self.db["outbox"].get(row_id)
        rows = [row]
        if row["digest"]:
            rows = list(self.db["outbox"].rows_where("digest = ? and chat_id = ? and status = 'pending'", [row["digest"], chat_id], order_by="id"))
        ids = [r["id"] for r in rows]
        done_ids = json.loads(row["message_ids"] or "[]")
        try:
            messages = self._render(rows)
            for i, (text, markup) in enumerate(messages):
                if i < len(done_ids):
                    continue  # sent before a retry; never twice
                msg = await self.bot.send_message(chat_id, text, reply_markup=markup, disable_web_page_preview=True)
                done_ids.append(msg.message_id)
                self.db["outbox"].update(row_id, {"message_ids": json.dumps(done_ids)})
                if i < len(messages) - 1:
                    await asyncio.sleep(self.per_chat_interval_s)
        except RetryAfter as exc:
            delay = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else float(exc.retry_after)
            self._later(row_id, row, delay + 0.1, f"429 retry after {delay:g}s", count=False)
            self._next_ok[chat_id] = time.monotonic() + delay
            return
        except Forbidden as exc:
            store.mark_blocked(self.db, chat_id)
            self.db.execute("update outbox set status = 'undeliverable', error = ? where chat_id = ? and status = 'pending'", [str(exc), chat_id])
            self.db.conn.commit()
            log.info("chat %s blocked the bot; deactivated", chat_id)
            return
        except BadRequest as exc:
            self._mark(ids, status="undeliverable", error=f"BadRequest: {exc}")
            log.warning("outbox %s to %s refused: %s", row_id, chat_id, exc)
            return
        except (TimedOut, NetworkError) as exc:
            attempts = row["attempts"] + 1
            self._later(row_id, row, min(300.0, 2.0 ** attempts), f"{type(exc).__name__}: {exc}")
            return
        self._mark(ids, status="sent", sent_at=store.utcnow(), attempts=row["attempts"] + 1, error=None, message_ids=json.dumps(done_ids))
        self.sent += len(done_ids)

    def _mark(self, ids: list[int], **fields) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"update outbox set {sets} where id in ({', '.join('?' for _ in ids)})", [*fields.values(), *ids])
        self.db.conn.commit()

    def _later(self, row_id: int, row: dict, delay: float, error: str, count: bool = True) -> None:
        self.db["outbox"].update(row_id, {"next_attempt_at": time.time() + delay, "error": error, "attempts": row["attempts"] + (1 if count else 0)})
        log.info("outbox %s: %s; retrying in %.1fs", row_id, error, delay)
