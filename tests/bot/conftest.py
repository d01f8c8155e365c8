"""A running bot against the loopback Bot API, for tests of reader and admin flows."""

from __future__ import annotations

import contextlib

import pytest

from bot.app import build_application, running

READER, OTHER, ADMIN = 2002, 3003, 1001


@pytest.fixture
def start_bot(make_settings, botapi):
    """``async with start_bot(**overrides) as (application, service):`` — the real PTB app, polling the loopback API."""

    @contextlib.asynccontextmanager
    async def start(**overrides):
        settings = make_settings(botapi, **overrides)
        application = build_application(settings)
        async with running(application):
            yield application, application.bot_data["service"]

    return start


async def say(botapi, chat_id: int, text: str, contains: str = "", timeout: float = 30, reply_to: int | None = None):
    """Send ``text`` as the reader and return the bot's next message (containing ``contains``)."""
    after = botapi.last_id(chat_id)
    await botapi.send_text(chat_id, text, reply_to=reply_to)
    return await botapi.wait_for_message(chat_id, contains, timeout=timeout, after=after)


async def press(botapi, chat_id: int, message, label: str, user_id: int | None = None) -> dict:
    """Press the button whose label contains ``label``; return the callback answer."""
    query_id = await botapi.press(chat_id, message.message_id, message.button(label)["callback_data"], user_id=user_id)
    return await botapi.wait_for(lambda: botapi.answer_for(query_id), what=f"an answer to {label}")
