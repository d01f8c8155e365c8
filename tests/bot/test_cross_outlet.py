"""The same story from two outlets reaches a reader once, as one summary with both sources."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from tests.feeds.test_dedupe import rss

from .conftest import READER, say

pytestmark = pytest.mark.model


async def test_one_summary_two_sources(botapi, news_server, start_bot):
    date = format_datetime(datetime.now(timezone.utc))
    text = ("Foreign ministers of Armenia and Azerbaijan met in Geneva on Tuesday and agreed to resume talks on their border "
            "next month, officials from both governments said after the meeting, which was hosted by the Swiss foreign ministry. ") * 2
    a = news_server.put("a.xml", rss("Wire A", [{"title": "Armenia and Azerbaijan to resume border talks", "text": text,
                                                 "link": "https://news.example/story-1?utm_source=rss", "date": date}]))
    b = news_server.put("b.xml", rss("Wire B", [{"title": "Border talks between Baku and Yerevan to resume", "text": text,
                                                 "link": "http://www.news.example/story-1/", "date": date}]))
    sources = [{"url": a, "title": "Wire A"}, {"url": b, "title": "Wire B"}]
    async with start_bot(**{"feeds.sources": sources, "style.length": "brief", "feeds.full_text.enabled": False}) as (app, service):
        await say(botapi, READER, "/start", "Welcome")
        await say(botapi, READER, "/subscribe", "Subscribed")
        from bot.jobs import poll_feeds_job

        app.job_queue.run_once(poll_feeds_job, 0)
        msg = await botapi.wait_for(lambda: next((m for m in botapi.sent(READER) if m.buttons), None), timeout=180, what="the summary")
        assert "Wire A" in msg.text and "Wire B" in msg.text and msg.html.count("<a href=") == 2
        await app.bot_data["outbox"].stop()  # nothing else is on its way
        assert len([m for m in botapi.sent(READER) if m.buttons]) == 1
        assert service.db["summaries"].count == 1 and service.db["articles"].count == 2
