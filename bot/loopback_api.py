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
import secrets
import time
from collections import defaultdict
from typing import Any, Callable

from aiohttp import web

from .loopback_methods import ApiError, BotApiMethods, Limits, SentMessage, TokenBucket
from .telegram_html import utf16_len

__all__ = ["ApiError", "Limits", "LoopbackBotApi", "SentMessage"]

STRING_PARAMS = {
    "text", "caption", "parse_mode", "callback_query_id", "url", "file_id", "secret_token", "language_code",
    "action", "description", "short_description", "name", "business_connection_id", "inline_message_id", "message_effect_id",
}


class LoopbackBotApi(BotApiMethods):
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
