"""A Bot API server on loopback: the part of Telegram the bot uses, with Telegram's limits.

The offline run and the tests point PTB's ``base_url`` here. It answers with the real JSON shapes,
refuses what Telegram refuses (text over 4096 characters after entity parsing, malformed HTML,
callback_data over 64 bytes), answers 429 with ``retry_after`` when the bot sends faster than
Telegram allows, 403 for a reader who blocked the bot, and lets a test play the readers: send
messages and documents, press buttons, reply, and read everything the bot sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import ClientSession, web

from .telegram_html import MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH, HTMLParseError, parse_html, utf16_len

STRING_PARAMS = {
    "text", "caption", "parse_mode", "callback_query_id", "url", "file_id", "secret_token", "language_code",
    "action", "description", "short_description", "name", "business_connection_id", "inline_message_id", "message_effect_id",
}


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


class LoopbackBotApi:
    """Run with ``async with LoopbackBotApi() as api:``; use ``api.base_url`` as PTB's base_url."""

    def __init__(self, token: str = "123456:LOOPBACK", bot_username: str = "geobrief_bot", limits: Limits | None = None, host: str = "127.0.0.1", port: int = 0):
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.bot_username = bot_username
        self.limits = limits or Limits()
        self.host, self.port = host, port
        self.updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._confirmed = 0
        self._new_update = asyncio.Condition()
        self._changed = asyncio.Condition()
        self.messages: dict[int, list[SentMessage]] = defaultdict(list)  # chat -> messages the bot sent
        self.user_messages: dict[int, list[dict]] = defaultdict(list)
        self.callback_answers: list[dict] = []
        self.commands: dict[str, list[dict]] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.rejections: list[tuple[str, int, str]] = []
        self.webhook: dict | None = None
        self.fail_next: int = 0                 # answer this many sends with 502 (a network fault)
        self._overall = TokenBucket(self.limits.overall_per_s, self.limits.overall_burst)
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._users: dict[int, dict] = {}
        self._runner: web.AppRunner | None = None
        self._push_task: asyncio.Task | None = None
        self.sent_count = 0
        self.too_many = 0

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> "LoopbackBotApi":
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._push_task:
            self._push_task.cancel()
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "LoopbackBotApi":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ---- playing the readers ----------------------------------------------------------------

    def user(self, user_id: int, first_name: str | None = None, username: str | None = None) -> dict:
        if user_id not in self._users:
            self._users[user_id] = {"id": user_id, "is_bot": False, "first_name": first_name or f"Reader{user_id}", "username": username or f"reader{user_id}", "language_code": "en"}
        return self._users[user_id]

    def _chat(self, chat_id: int) -> dict:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        u = self.user(chat_id)
        return {"id": chat_id, "type": "private", "first_name": u["first_name"], "username": u["username"]}

    async def send_text(self, chat_id: int, text: str, user_id: int | None = None, reply_to: int | None = None) -> dict:
        """A reader types ``text`` (commands get their bot_command entity, as Telegram adds it)."""
        msg = self._user_message(chat_id, user_id)
        msg["text"] = text
        if text.startswith("/"):
            cmd = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(cmd)}]
        if reply_to is not None:
            msg["reply_to_message"] = self._message_json(self.message(chat_id, reply_to))
        await self._push({"message": msg})
        return msg

    async def send_document(self, chat_id: int, file_name: str, data: bytes, user_id: int | None = None, caption: str | None = None, mime_type: str = "application/octet-stream") -> dict:
        file_id = self._store_file(file_name, data)
        msg = self._user_message(chat_id, user_id)
        msg["document"] = {"file_id": file_id, "file_unique_id": file_id[:16], "file_name": file_name, "mime_type": mime_type, "file_size": len(data)}
        if caption:
            msg["caption"] = caption
            if caption.startswith("/"):
                msg["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(caption.split()[0])}]
        await self._push({"message": msg})
        return msg

    async def press(self, chat_id: int, message_id: int, data: str, user_id: int | None = None) -> str:
        """A reader presses an inline button; returns the callback query id."""
        query_id = secrets.token_hex(8)
        query = {"id": query_id, "from": self.user(user_id or chat_id), "chat_instance": str(chat_id), "data": data,
                 "message": self._message_json(self.message(chat_id, message_id))}
        await self._push({"callback_query": query})
        return query_id

    def block(self, chat_id: int) -> None:
        """The reader blocks the bot quietly: further sends get 403 (the bot learns it when it sends)."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    async def blocks_bot(self, chat_id: int, blocked: bool = True) -> None:
        """The reader blocks (or unblocks) the bot in the app: Telegram also sends a my_chat_member update."""
        (self.blocked.add if blocked else self.blocked.discard)(chat_id)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        bot_user = self._bot_user()
        member = lambda status: {"status": status, "user": bot_user, **({"until_date": 0} if status == "kicked" else {})}  # noqa: E731
        await self._push({"my_chat_member": {"chat": self._chat(chat_id), "from": self.user(chat_id), "date": int(time.time()),
                                             "old_chat_member": member(old), "new_chat_member": member(new)}})

    def _user_message(self, chat_id: int, user_id: int | None) -> dict:
        msg = {"message_id": next(self._message_ids), "from": self.user(user_id or chat_id), "chat": self._chat(chat_id), "date": int(time.time())}
        self.user_messages[chat_id].append(msg)
        return msg

    def _store_file(self, name: str, data: bytes) -> str:
        file_id = "F" + secrets.token_hex(12)
        self.files[file_id] = (name, data)
        return file_id

    # ---- reading what the bot did --------------------------------------------------------------

    def sent(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.messages.get(chat_id, []) if not m.deleted]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        for m in self.messages.get(chat_id, []):
            if m.message_id == message_id:
                return m
        raise LookupError(f"bot sent no message {message_id} to chat {chat_id}")

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the bot does something)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
                except TimeoutError:
                    pass

    async def wait_for_message(self, chat_id: int, contains: str = "", timeout: float = 30.0, after: int = 0) -> SentMessage:
        """The first message to ``chat_id`` with id > ``after`` whose text contains ``contains``."""

        def find():
            for m in self.sent(chat_id):
                if m.message_id > after and contains in m.text:
                    return m
            return None

        return await self.wait_for(find, timeout, f"a message to {chat_id} containing {contains!r}")

    def last_id(self, chat_id: int) -> int:
        msgs = self.messages.get(chat_id) or []
        return max((m.message_id for m in msgs), default=0)

    # ---- the HTTP side -----------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _push(self, update: dict) -> None:
        update["update_id"] = next(self._update_ids)
        async with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=404)
        file_id = request.match_info["path"].split("/")[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id][1])

    async def _params(self, request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            params.update(body or {})
            return params
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    params[part.name] = ("file", part.filename, await part.read())
                else:
                    params[part.name] = await part.text()
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key, value in list(params.items()):
            if isinstance(value, str) and key not in STRING_PARAMS:
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.requests.append((method, params))
        handler = getattr(self, f"api_{method.lower()}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            self.rejections.append((method, exc.code, exc.description))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

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
