"""The loopback Bot API server refuses what Telegram refuses, through PTB's real HTTP client."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.loopback_api import Limits, LoopbackBotApi


@pytest.fixture
async def bot(botapi):
    async with Bot(botapi.token, base_url=botapi.base_url, base_file_url=botapi.base_file_url) as b:
        yield b


async def test_text_over_4096_after_entities_is_refused(bot, botapi):
    await bot.send_message(5, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags don't count
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(5, "x" * 4097)


async def test_malformed_html_is_refused(bot):
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(5, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match="unsupported start tag"):
        await bot.send_message(5, "<script>x</script>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(5, "a < b", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(5, "hi", reply_markup=markup)


async def test_flood_gets_429_with_retry_after():
    async with LoopbackBotApi(limits=Limits(per_chat_burst=2)) as api:
        async with Bot(api.token, base_url=api.base_url) as bot:
            await bot.send_message(7, "one")
            await bot.send_message(7, "two")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(7, "three")
            assert caught.value.retry_after  # seconds to wait, as Telegram gives them
            await bot.send_message(8, "another chat is not limited")


async def test_blocked_reader_gets_403(bot, botapi):
    botapi.block(9)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(9, "hello")


async def test_updates_and_edits_round_trip(bot, botapi):
    await botapi.send_text(3, "/start")
    updates = await bot.get_updates(timeout=1)
    assert updates[0].message.text == "/start" and updates[0].message.entities[0].type == "bot_command"
    sent = await bot.send_message(3, "v1")
    await bot.edit_message_text("v2", chat_id=3, message_id=sent.message_id)
    assert botapi.message(3, sent.message_id).text == "v2"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("v2", chat_id=3, message_id=sent.message_id)
