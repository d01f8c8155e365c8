"""Delivery: each (chat, summary) in the outbox is sent once, within Telegram's limits, surviving restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from feeds import store as feed_store

from . import store
from .formatting import feedback_keyboard, summary_html
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

    def _render(self, row: dict) -> list[str]:
        summary = store.get_summary(self.db, row["summary_id"])
        article = feed_store.get_article(self.db, summary["article_id"])
        feed = feed_store.get_feed(self.db, article["feed_id"])
        return split_html(summary_html(article, summary, feed["title"] or ""))

    async def _send_row(self, row_id: int, chat_id: int) -> None:
        row = self.db["outbox"].get(row_id)
        done_ids = json.loads(row["message_ids"] or "[]")
        try:
            parts = self._render(row)
            for i, part in enumerate(parts):
                if i < len(done_ids):
                    continue  # sent before a retry; never twice
                markup = feedback_keyboard(row["summary_id"]) if i == len(parts) - 1 else None
                msg = await self.bot.send_message(chat_id, part, reply_markup=markup, disable_web_page_preview=True)
                done_ids.append(msg.message_id)
                self.db["outbox"].update(row_id, {"message_ids": json.dumps(done_ids)})
                if i < len(parts) - 1:
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
            self.db["outbox"].update(row_id, {"status": "undeliverable", "error": f"BadRequest: {exc}"})
            log.warning("outbox %s to %s refused: %s", row_id, chat_id, exc)
            return
        except (TimedOut, NetworkError) as exc:
            attempts = row["attempts"] + 1
            self._later(row_id, row, min(300.0, 2.0 ** attempts), f"{type(exc).__name__}: {exc}")
            return
        self.db["outbox"].update(row_id, {"status": "sent", "sent_at": store.utcnow(), "attempts": row["attempts"] + 1, "error": None})
        self.sent += 1

    def _later(self, row_id: int, row: dict, delay: float, error: str, count: bool = True) -> None:
        self.db["outbox"].update(row_id, {"next_attempt_at": time.time() + delay, "error": error, "attempts": row["attempts"] + (1 if count else 0)})
        log.info("outbox %s: %s; retrying in %.1fs", row_id, error, delay)
