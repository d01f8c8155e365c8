"""The outbox: each (chat, item) once, within Telegram's limits, through 429s, blocks, faults and restarts."""

from __future__ import annotations

import asyncio

from bot import store
from bot.app import build_application, running
from bot.loopback_api import Limits, LoopbackBotApi
from tests.helpers.content import add_summarized

from .conftest import READER, say


def subscribe_many(db, chats: list[int]) -> None:
    for chat in chats:
        db["subscribers"].insert({"chat_id": chat, "user_id": chat, "active": 1, "blocked": 0, "mode": "realtime", "subscribed_at": "2000-01-01T00:00:00+00:00"})


def fan_out_app(make_settings, api, chats: list[int], items: int, **overrides):
    """A bot whose database holds ``chats`` realtime subscribers and ``items`` summarized articles."""
    app = build_application(make_settings(api, **overrides))
    service = app.bot_data["service"]
    subscribe_many(service.db, chats)
    add_summarized(service.db, items, "Wire")
    return app, service


def delivered(api, chats) -> dict[int, list[str]]:
    return {c: [m.buttons[0]["callback_data"] for m in api.sent(c) if m.buttons] for c in chats}


async def test_fan_out_300_subscribers_exactly_once(make_settings):
    chats = list(range(10_000, 10_300))
    async with LoopbackBotApi() as api:  # Telegram's limits: 30/s overall, about 1/s per chat
        app, service = fan_out_app(make_settings, api, chats, 5)
        async with running(app):
            assert service.enqueue_realtime() == 1500
            app.bot_data["outbox"].wake()
            await api.wait_for(lambda: api.sent_count >= 1500, timeout=240, what="1500 messages")
            await asyncio.sleep(0.5)
        got = delivered(api, chats)
        assert all(len(v) == 5 and len(set(v)) == 5 for v in got.values())
        assert api.sent_count == 1500
        assert service.db.execute("select count(*) from outbox where status = 'sent'").fetchone()[0] == 1500


async def test_429s_are_waited_out_and_nothing_is_lost(make_settings):
    chats = list(range(500, 520))
    # The server allows one message per chat per second with no burst; the bot is told it may send every 0.2 s.
    async with LoopbackBotApi(limits=Limits(per_chat_burst=1)) as api:
        app, service = fan_out_app(make_settings, api, chats, 3, **{"telegram.per_chat_interval_s": 0.2})
        async with running(app):
            service.enqueue_realtime()
            app.bot_data["outbox"].wake()
            await api.wait_for(lambda: api.sent_count >= 60, timeout=120, what="60 messages")
        assert api.too_many > 0  # limits were hit...
        got = delivered(api, chats)
        assert all(len(v) == 3 and len(set(v)) == 3 for v in got.values())  # ...and every item still arrived once


async def test_blocked_reader_is_deactivated_and_start_reactivates(botapi, start_bot):
    async with start_bot() as (app, service):
        await say(botapi, READER, "/start", "Welcome")
        await say(botapi, READER, "/subscribe", "Subscribed")
        botapi.block(READER)
        add_summarized(service.db, 1, "Wire")
        service.enqueue_realtime()
        app.bot_data["outbox"].wake()
        await botapi.wait_for(lambda: store.get_subscriber(service.db, READER)["blocked"] == 1, what="deactivation")
        assert service.db.execute("select status from outbox").fetchone()[0] == "undeliverable"
        botapi.unblock(READER)
        await say(botapi, READER, "/start", "Welcome")
        assert store.get_subscriber(service.db, READER)["blocked"] == 0
        await botapi.blocks_bot(READER)  # blocking in the app also tells the bot at once
        await botapi.wait_for(lambda: store.get_subscriber(service.db, READER)["blocked"] == 1, what="my_chat_member")


async def test_network_faults_are_retried(botapi, start_bot):
    async with start_bot() as (app, service):
        await say(botapi, READER, "/start", "Welcome")
        botapi.fail_next = 2
        add_summarized(service.db, 1, "Wire")
        store.set_active(service.db, READER, True)
        service.enqueue_realtime()
        app.bot_data["outbox"].wake()
        row = await botapi.wait_for(lambda: (r := service.db["outbox"].get(1))["status"] == "sent" and r, timeout=30, what="delivery after faults")
        assert row["attempts"] >= 2 and len([m for m in botapi.sent(READER) if m.buttons]) == 1


async def test_long_and_hostile_text_is_split_and_escaped(botapi, start_bot):
    async with start_bot() as (app, service):
        await say(botapi, READER, "/start", "Welcome")
        store.set_active(service.db, READER, True)
        (sid,) = add_summarized(service.db, 1, "<b>Evil & Co</b>")
        service.db["summaries"].update(sid, {"text": "<script>alert(1)</script> & " + "word " * 1500})
        service.enqueue_realtime()
        app.bot_data["outbox"].wake()
        await botapi.wait_for(lambda: [m for m in botapi.sent(READER) if m.buttons], timeout=30, what="the long summary")
        parts = [m for m in botapi.sent(READER) if "word word" in m.text]
        assert len(parts) == 2 and all(len(m.text) <= 4096 for m in parts)
        assert "<script>alert(1)</script>" in parts[0].text and "<b>Evil & Co</b>" in parts[-1].text  # shown literally
        assert parts[-1].buttons and not parts[0].buttons
        assert not botapi.rejections


async def test_restart_resumes_the_outbox_without_duplicates(make_settings):
    chats = list(range(700, 740))
    async with LoopbackBotApi() as api:
        app, service = fan_out_app(make_settings, api, chats, 2)
        settings = service.settings
        async with running(app):
            service.enqueue_realtime()
            app.bot_data["outbox"].wake()
            await api.wait_for(lambda: api.sent_count >= 20, timeout=60)
        sent_before = api.sent_count
        assert sent_before < 80
        app2 = build_application(settings)  # a new process would do the same: state is in the database
        async with running(app2):
            await api.wait_for(lambda: api.sent_count >= 80, timeout=120, what="the rest after restart")
            await asyncio.sleep(0.5)
        got = delivered(api, chats)
        assert all(len(v) == 2 and len(set(v)) == 2 for v in got.values()) and api.sent_count == 80


async def test_webhook_mode(make_settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with LoopbackBotApi() as api:
        settings = make_settings(api, **{"telegram.mode": "webhook", "telegram.webhook_url": f"http://127.0.0.1:{port}",
                                          "telegram.webhook_port": port, "telegram.webhook_secret": "s3cret-token"})
        app = build_application(settings)
        async with running(app):
            assert api.webhook and api.webhook["url"].endswith("/telegram") and api.webhook["secret_token"] == "s3cret-token"
            reply = await say(api, READER, "/start", "Welcome")
            assert reply
