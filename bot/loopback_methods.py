"""The Bot API methods the loopback server answers, and the limits it enforces, as Telegram does.

A mixin of :class:`bot.loopback_api.LoopbackBotApi`: the state (messages, files, buckets) lives there.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession

from .telegram_html import MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH, HTMLParseError, parse_html, utf16_len

class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class TokenBucket:
    """``rate`` per second with bursts up to ``capacity``; the model of Telegram's flood limits."""

    def __init__(self, rate: float, capacity: float):
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, time.monotonic()

    def take(self) -> float:
        """Take a token; return 0, or the seconds until one is free (nothing taken)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    """Telegram's limits as this server enforces them."""

    overall_per_s: float = 30.0
    overall_burst: float = 30.0
    per_chat_per_s: float = 1.0
    per_chat_burst: float = 3.0
    group_per_min: float = 20.0


@dataclass
class SentMessage:
    """A message the bot sent (or edited), as a reader sees it."""

    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None
    kind: str = "text"         # text, document, photo
    file_name: str | None = None
    file_bytes: bytes | None = None
    edits: int = 0
    force_reply: bool = False
    deleted: bool = False

    @property
    def buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b for row in rows for b in row]

    def button(self, label_part: str) -> dict:
        for b in self.buttons:
            if label_part in b.get("text", "") or label_part == b.get("callback_data"):
                return b
        raise LookupError(f"no button {label_part!r} on message {self.message_id}: {[b.get('text') for b in self.buttons]}")


class BotApiMethods:
    """sendMessage, editMessageText, getUpdates, …: one ``api_<method>`` each, with Telegram's checks."""

    # ---- limits --------------------------------------------------------------------------------

    def _check_send(self, chat_id: Any) -> int:
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ApiError(502, "Bad Gateway")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                bucket = TokenBucket(self.limits.group_per_min / 60.0, self.limits.group_per_min)
            else:
                bucket = TokenBucket(self.limits.per_chat_per_s, self.limits.per_chat_burst)
            self._chat_buckets[chat_id] = bucket
        wait = self._overall.take()
        if wait:
            self.too_many += 1
            raise ApiError(429, f"Too Many Requests: retry after {math.ceil(wait)}", math.ceil(wait))
        wait = bucket.take()
        if wait:
            self._overall.tokens = min(self._overall.capacity, self._overall.tokens + 1)  # refund
            self.too_many += 1
            raise ApiError(429, f"Too Many Requests: retry after {math.ceil(wait)}", math.ceil(wait))
        return chat_id

    def _check_markup(self, markup: Any) -> dict | None:
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _render(text: Any, parse_mode: Any, limit: int, empty_ok: bool = False) -> tuple[str, str]:
        text = "" if text is None else str(text)
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                plain = parse_html(text).text
            except HTMLParseError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        else:
            plain = text
        if not plain.strip() and not empty_ok:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError(400, "Bad Request: message is too long" if limit == MAX_MESSAGE_LENGTH else "Bad Request: message caption is too long")
        return text, plain

    # ---- methods ---------------------------------------------------------------------------------

    def _bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "geobrief", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _message_json(self, m: SentMessage) -> dict:
        out: dict[str, Any] = {"message_id": m.message_id, "from": self._bot_user(), "chat": self._chat(m.chat_id), "date": int(time.time())}
        if m.kind == "text":
            out["text"] = m.text
        else:
            file_id = next((fid for fid, (name, data) in self.files.items() if data is m.file_bytes), "F0")
            if m.kind == "photo":
                out["photo"] = [{"file_id": file_id, "file_unique_id": file_id[:16], "width": 800, "height": 600, "file_size": len(m.file_bytes or b"")}]
            else:
                out["document"] = {"file_id": file_id, "file_unique_id": file_id[:16], "file_name": m.file_name, "file_size": len(m.file_bytes or b"")}
            if m.text:
                out["caption"] = m.text
        if m.reply_markup and "inline_keyboard" in m.reply_markup:
            out["reply_markup"] = m.reply_markup
        return out

    async def api_getme(self, p: dict) -> dict:
        return self._bot_user()

    async def api_logout(self, p: dict) -> bool:
        return True

    async def api_close(self, p: dict) -> bool:
        return True

    async def api_getupdates(self, p: dict) -> list[dict]:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        async with self._new_update:
            while not self.updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return self.updates[:limit]

    async def api_deletewebhook(self, p: dict) -> bool:
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        if self._push_task:
            self._push_task.cancel()
            self._push_task = None
        return True

    async def api_setwebhook(self, p: dict) -> bool:
        url = p.get("url") or ""
        if not url:
            return await self.api_deletewebhook(p)
        self.webhook = {"url": url, "secret_token": p.get("secret_token")}
        if self._push_task is None:
            self._push_task = asyncio.create_task(self._push_webhook())
        return True

    async def api_getwebhookinfo(self, p: dict) -> dict:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    async def _push_webhook(self) -> None:
        """POST queued updates to the webhook, as Telegram does, until it answers 200."""
        async with ClientSession() as session:
            while self.webhook:
                async with self._new_update:
                    if not self.updates:
                        await self._new_update.wait()
                if not self.webhook or not self.updates:
                    continue
                update = self.updates[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret_token"]} if self.webhook.get("secret_token") else {}
                try:
                    async with session.post(self.webhook["url"], json=update, headers=headers) as resp:
                        if resp.status == 200:
                            self.updates.pop(0)
                            continue
                except Exception:
                    pass
                await asyncio.sleep(0.2)

    async def api_setmycommands(self, p: dict) -> bool:
        self.commands[self._scope_key(p)] = list(p.get("commands") or [])
        return True

    async def api_getmycommands(self, p: dict) -> list[dict]:
        return self.commands.get(self._scope_key(p), [])

    async def api_deletemycommands(self, p: dict) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    @staticmethod
    def _scope_key(p: dict) -> str:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def commands_for(self, chat_id: int) -> list[str]:
        """The command menu a chat sees: its chat scope if set, else the private-chats or default scope."""
        for scope in ({"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, {"type": "default"}):
            key = json.dumps(scope, sort_keys=True)
            if key in self.commands:
                return [c["command"] for c in self.commands[key]]
        return []

    async def api_sendchataction(self, p: dict) -> bool:
        return True

    async def api_sendmessage(self, p: dict) -> dict:
        markup = p.get("reply_markup")
        markup = self._check_markup(markup) if not (isinstance(markup, dict) and "force_reply" in markup) else markup
        source, plain = self._render(p.get("text"), p.get("parse_mode"), MAX_MESSAGE_LENGTH)
        chat_id = self._check_send(p.get("chat_id"))
        m = SentMessage(chat_id, next(self._message_ids), source, plain, markup if markup and "inline_keyboard" in markup else None,
                        force_reply=bool(markup and markup.get("force_reply")))
        self.messages[chat_id].append(m)
        self.sent_count += 1
        return self._message_json(m)

    async def _send_file(self, p: dict, field_name: str, kind: str) -> dict:
        value = p.get(field_name)
        if isinstance(value, tuple):
            _, name, data = value
        elif isinstance(value, str) and value.startswith("attach://"):
            _, name, data = p[value.removeprefix("attach://")]
        elif isinstance(value, str) and value in self.files:
            name, data = self.files[value]
        else:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        source, plain = self._render(p.get("caption"), p.get("parse_mode"), MAX_CAPTION_LENGTH, empty_ok=True)
        markup = self._check_markup(p.get("reply_markup"))
        chat_id = self._check_send(p.get("chat_id"))
        self._store_file(name, data)
        m = SentMessage(chat_id, next(self._message_ids), source, plain, markup, kind=kind, file_name=name, file_bytes=data)
        self.messages[chat_id].append(m)
        self.sent_count += 1
        return self._message_json(m)

    async def api_senddocument(self, p: dict) -> dict:
        return await self._send_file(p, "document", "document")

    async def api_sendphoto(self, p: dict) -> dict:
        return await self._send_file(p, "photo", "photo")

    async def api_getfile(self, p: dict) -> dict:
        file_id = p.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        name, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id[:16], "file_size": len(data), "file_path": f"documents/{file_id}"}

    def _edit_target(self, p: dict) -> SentMessage:
        try:
            return self.message(int(p.get("chat_id")), int(p.get("message_id")))
        except (LookupError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: message to edit not found") from None

    async def api_editmessagetext(self, p: dict) -> dict:
        m = self._edit_target(p)
        source, plain = self._render(p.get("text"), p.get("parse_mode"), MAX_MESSAGE_LENGTH)
        markup = self._check_markup(p.get("reply_markup"))
        if source == m.html and markup == m.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        m.html, m.text, m.reply_markup = source, plain, markup
        m.edits += 1
        return self._message_json(m)

    async def api_editmessagereplymarkup(self, p: dict) -> dict:
        m = self._edit_target(p)
        markup = self._check_markup(p.get("reply_markup"))
        if markup == m.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        m.reply_markup = markup
        m.edits += 1
        return self._message_json(m)

    async def api_deletemessage(self, p: dict) -> bool:
        self._edit_target(p).deleted = True
        return True

    async def api_answercallbackquery(self, p: dict) -> bool:
        text = p.get("text") or ""
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append({"id": p.get("callback_query_id"), "text": text, "show_alert": bool(p.get("show_alert"))})
        return True

    def answer_for(self, query_id: str) -> dict | None:
        return next((a for a in self.callback_answers if a["id"] == query_id), None)
