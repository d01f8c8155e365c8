"""/settings, /timezone and /topics change what one chat receives, remembered in the database."""

from __future__ import annotations

import json

from bot import store
from bot.handlers.settings_menu import BadTimezone, parse_timezone

from .conftest import READER, press, say

import pytest


async def test_settings_buttons_change_and_redraw(botapi, start_bot):
    async with start_bot() as (app, service):
        menu = await say(botapi, READER, "/settings", "Your settings")
        assert "as they are published" in menu.text
        await press(botapi, READER, menu, "Daily digest")
        await press(botapi, READER, menu, "Hour +")
        await press(botapi, READER, menu, "Items −")
        await press(botapi, READER, menu, "Brief")
        await press(botapi, READER, menu, "Analytical")
        sub = store.get_subscriber(service.db, READER)
        assert (sub["mode"], sub["digest_hour"], sub["digest_size"], sub["length"], sub["tone"]) == ("digest", 9, 7, "brief", "analytical")
        menu = await botapi.wait_for(lambda: (m := botapi.message(READER, menu.message_id)).edits == 5 and m, what="5 edits")
        assert "daily digest at 09:00, up to 7 items" in menu.text
        assert "✓ Brief" in [b["text"] for b in menu.buttons]
        # a forged button changes nothing and raises nothing
        query = await botapi.press(READER, menu.message_id, "st:1:hour:+99")
        await botapi.wait_for(lambda: botapi.answer_for(query))
        assert store.get_subscriber(service.db, READER)["digest_hour"] == 9


async def test_timezone_and_topics(botapi, start_bot):
    async with start_bot() as (app, service):
        assert "Asia/Tokyo" in (await say(botapi, READER, "/timezone Asia/Tokyo", "Timezone set")).text
        assert "don't know" in (await say(botapi, READER, "/timezone Mars/Olympus", "timezone")).text
        await say(botapi, READER, "/timezone UTC+3", "Timezone set")
        assert store.get_subscriber(service.db, READER)["timezone"] == "Etc/GMT-3"
        await say(botapi, READER, "/topics include Ukraine, sanctions", "Saved")
        await say(botapi, READER, "/topics exclude football", "Saved")
        sub = store.get_subscriber(service.db, READER)
        assert json.loads(sub["include"]) == ["Ukraine", "sanctions"] and json.loads(sub["exclude"]) == ["football"]
        refused = await say(botapi, READER, "/topics exclude /(a+)+$/, /[unclosed/", "Not saved")
        assert json.loads(store.get_subscriber(service.db, READER)["exclude"]) == ["football"], refused.text
        await say(botapi, READER, "/topics clear", "cleared")
        assert store.get_subscriber(service.db, READER)["include"] == "[]"


@pytest.mark.parametrize("text, zone", [("Europe/Berlin", "Europe/Berlin"), ("utc-5", "Etc/GMT+5"), ("UTC", "UTC"), ("GMT+0", "UTC")])
def test_parse_timezone(text, zone):
    assert parse_timezone(text) == zone


@pytest.mark.parametrize("text", ["UTC+5:30", "UTC+15", "Nowhere/City", ""])
def test_parse_timezone_refuses(text):
    with pytest.raises(BadTimezone):
        parse_timezone(text)
