"""Admin feed commands through the real PTB Application against the loopback Bot API; non-admins are refused."""

from __future__ import annotations

import re

import pytest

from bot.app import build_application, running
from bot.service import Service
from feeds import store
from feeds.opml import parse_opml
from tests.helpers.fault_server import FaultServer

ADMIN, READER = 1001, 2002
OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
<outline text="Reuters World" title="Reuters World" xmlUrl="https://example.org/reuters.xml"/>
<outline text="HuffPost" xmlUrl="https://example.org/huffpost.xml"/></body></opml>"""


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    """These tests are about feeds: the serving model is not loaded (summarizing stays idle)."""

    async def skip(self):
        self.model_error = "not loaded in feed admin tests"

    monkeypatch.setattr(Service, "load_model", skip)


def quick(make_settings, botapi, **extra):
    return make_settings(botapi, **{"feeds.full_text.enabled": False, "feeds.fetch.read_timeout_s": 2.0,
                                    "feeds.fetch.total_timeout_s": 5.0, **extra})


async def test_non_admins_are_refused_every_feed_command(botapi, make_settings, news_server):
    settings = quick(make_settings, botapi, **{"feeds.sources": [{"url": news_server.url("rss-parser/guardian.rss"), "title": "Guardian"}]})
    application = build_application(settings)
    db = application.bot_data["service"].db
    async with running(application):
        for command in ["/feeds", f"/addfeed {news_server.url('react-native-rss-parser/reuters.lstrip.xml')}", "/removefeed 1", "/enablefeed 1",
                        "/feedfilter 1 exclude Trump", "/exportopml"]:
            after = botapi.last_id(READER)
            await botapi.send_text(READER, command)
            reply = await botapi.wait_for_message(READER, "for admins only", after=after)
            assert reply.text == f"{command.split()[0]} is for admins only."
        after = botapi.last_id(READER)
        await botapi.send_document(READER, "subs.opml", OPML)
        await botapi.wait_for_message(READER, "That is for admins only.", after=after)
        assert [f["url"] for f in store.list_feeds(db)] == [news_server.url("rss-parser/guardian.rss")]
        assert store.stored_filters(store.get_feed(db, 1)) == ([], [], None)
        assert not any(m.kind == "document" for m in botapi.sent(READER))
        assert "feeds" not in botapi.commands_for(READER) and {"feeds", "addfeed", "exportopml"} <= set(botapi.commands_for(ADMIN))


async def test_admin_adds_lists_imports_exports_and_removes(botapi, make_settings, news_server):
    application = build_application(quick(make_settings, botapi))
    db = application.bot_data["service"].db
    async with running(application):
        await botapi.send_text(ADMIN, "/feeds")
        await botapi.wait_for_message(ADMIN, "No feeds yet")

        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, f"/addfeed {news_server.url('react-native-rss-parser/reuters.lstrip.xml')} Reuters World")
        added = await botapi.wait_for_message(ADMIN, "Added #1", after=after)
        assert "Reuters World (10 entries now)" in added.text

        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, f"/addfeed {news_server.url('nothing-here.xml')}")
        refused = await botapi.wait_for_message(ADMIN, "Not added", after=after)
        assert "HTTP 404" in refused.text
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/addfeed")
        await botapi.wait_for_message(ADMIN, "Usage: /addfeed URL [title]", after=after)

        after = botapi.last_id(ADMIN)
        await botapi.send_document(ADMIN, "subs.opml", OPML)
        imported = await botapi.wait_for_message(ADMIN, "Imported 2 feed(s)", after=after)
        assert "#2 Reuters World" in imported.text and "#3 HuffPost" in imported.text

        after = botapi.last_id(ADMIN)
        await botapi.send_document(ADMIN, "notes.xml", b"<rss><channel/></rss>")
        bad = await botapi.wait_for_message(ADMIN, "Nothing imported", after=after)
        assert "not an OPML file" in bad.text

        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/feeds")
        listing = await botapi.wait_for_message(ADMIN, "Feeds", after=after)
        # #1 may already have been polled by the first scheduled pass (then: ✅, 10 today).
        assert re.search(r"#1 (🆕 Reuters World\n    last success never · 0 today|✅ Reuters World\n    last success .* · 10 today)", listing.text)
        assert "#3 🆕 HuffPost\n    last success never · 0 today" in listing.text

        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/removefeed 2")
        await botapi.wait_for_message(ADMIN, "Removed #2 Reuters World", after=after)
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/removefeed 99")
        await botapi.wait_for_message(ADMIN, "no feed with id 99", after=after)

        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/exportopml")
        doc = await botapi.wait_for(lambda: next((m for m in botapi.sent(ADMIN) if m.message_id > after and m.kind == "document"), None), what="the OPML file")
        assert doc.file_name == "geobrief-feeds.opml"
        assert [(o.url, o.title) for o in parse_opml(doc.file_bytes)] == [
            (news_server.url("react-native-rss-parser/reuters.lstrip.xml"), "Reuters World"), ("https://example.org/huffpost.xml", "HuffPost")]
        assert len(store.list_feeds(db)) == 2


async def test_dead_feed_is_disabled_admin_told_and_reenabled_by_button(botapi, make_settings):
    async with FaultServer(bomb_mb=1, big_mb=1) as server:
        settings = quick(make_settings, botapi, **{"feeds.sources": [{"url": server.url("500"), "title": "Broken <Wire>"}],
                                                   "feeds.health.disable_after": 1})
        application = build_application(settings)
        db = application.bot_data["service"].db
        async with running(application):
            notice = await botapi.wait_for_message(ADMIN, "was disabled", timeout=30)  # the first scheduled poll
            assert notice.text.startswith("⛔ Feed #1 Broken <Wire> was disabled: 1 failures in a row; last: HTTP 500")
            assert "/enablefeed 1" in notice.text
            assert not botapi.sent(READER)

            after = botapi.last_id(ADMIN)
            await botapi.send_text(ADMIN, "/feeds")
            listing = await botapi.wait_for_message(ADMIN, "Feeds", after=after)
            assert "#1 ⛔ Broken <Wire>" in listing.text and "disabled: 1 failures in a row" in listing.text
            button = listing.button("Enable #1")
            assert len(button["callback_data"].encode()) <= 64

            query = await botapi.press(ADMIN, listing.message_id, "fa:0:en:1")  # a button from an older bot version
            await botapi.wait_for(lambda: botapi.answer_for(query), what="an answer")
            assert "older message" in botapi.answer_for(query)["text"]
            query = await botapi.press(ADMIN, listing.message_id, button["callback_data"], user_id=READER)  # a non-admin presses it
            await botapi.wait_for(lambda: botapi.answer_for(query), what="an answer")
            assert "admins only" in botapi.answer_for(query)["text"] and store.get_feed(db, 1)["enabled"] == 0

            query = await botapi.press(ADMIN, listing.message_id, button["callback_data"])
            await botapi.wait_for(lambda: botapi.answer_for(query), what="an answer")
            assert botapi.answer_for(query)["text"].startswith("Enabled #1")
            feed = store.get_feed(db, 1)
            assert feed["enabled"] == 1 and feed["consecutive_errors"] == 0 and feed["next_poll_at"] is None

            after = botapi.last_id(ADMIN)
            await botapi.send_text(ADMIN, "/enablefeed 1")
            await botapi.wait_for_message(ADMIN, "Enabled #1", after=after)
            after = botapi.last_id(ADMIN)
            await botapi.send_text(ADMIN, "/enablefeed x")
            await botapi.wait_for_message(ADMIN, "Usage: /enablefeed N", after=after)


async def test_admin_sets_a_feeds_filters_and_the_next_poll_applies_them(botapi, make_settings, news_server):
    url = news_server.url("rss-parser/guardian.rss")
    application = build_application(quick(make_settings, botapi, **{"feeds.max_entries_per_feed": 100}))
    db = application.bot_data["service"].db
    feed = store.add_feed(db, url, "Guardian")  # as /addfeed would: no config.toml entry
    store.update_feed(db, feed["id"], enabled=0)  # not polled until its filters are set
    async with running(application):
        async def say(text: str, expect: str):
            after = botapi.last_id(ADMIN)
            await botapi.send_text(ADMIN, text)
            return await botapi.wait_for_message(ADMIN, expect, after=after)

        await say("/feedfilter", "Usage: /feedfilter N")
        shown = await say(f"/feedfilter {feed['id']}", "Feed #1")
        assert shown.text == "Feed #1 Guardian: relevance ≥ 0.3 (global)"
        saved = await say("/feedfilter 1 exclude Trump, /Las Vegas|CDC/", "Saved.")
        assert saved.text == "Saved. Feed #1 Guardian: exclude: Trump, /Las Vegas|CDC/ · relevance ≥ 0.3 (global)"
        refused = await say("/feedfilter 1 include /(x)\\1/", "Not saved")
        assert "backreferences" in refused.text
        refused = await say("/feedfilter 1 relevance lots", "Not saved")
        assert "write a number between 0 and 1" in refused.text
        saved = await say("/feedfilter 1 relevance 0", "Saved.")
        assert saved.text.endswith("exclude: Trump, /Las Vegas|CDC/ · relevance ≥ 0")
        await say("/feedfilter 9 clear", "no feed with id 9")
        listing = await say("/feeds", "Feeds")
        assert "\n    exclude: Trump, /Las Vegas|CDC/ · relevance ≥ 0" in listing.text

        await say("/enablefeed 1", "Enabled #1")
        from bot.jobs import poll_feeds_job

        application.job_queue.run_once(poll_feeds_job, 0)
        await botapi.wait_for(lambda: store.get_feed(db, 1)["last_success_at"], what="the poll")
    reasons = {r["title"]: r["skip_reason"] for r in db["articles"].rows}
    assert reasons["Director of CDC resigns over financial conflicts of interest"] == 'excluded by feed filter "/Las Vegas|CDC/"'
    assert reasons["Tottenham Hotspur v Manchester United: Premier League – live!"] is None
