"""A daily digest at the reader's local hour (time moved by the test), best first, nothing twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from bot import jobs, store
from tests.helpers.content import add_summarized

from .conftest import READER, say


async def test_digest_at_local_hour(botapi, start_bot):
    async with start_bot(**{"style.length": "standard"}) as (app, service):
        await say(botapi, READER, "/start", "Welcome")
        store.update_subscriber(service.db, READER, mode="digest", timezone="Asia/Tokyo", digest_hour=9, digest_size=3)
        await say(botapi, READER, "/subscribe", "daily digest comes at 09:00")
        ids = add_summarized(service.db, 5, "Wire A", relevance=[0.1, 0.9, 0.5, 0.7, 0.3])
        service.db.execute("update articles set fetched_at = '2026-12-04T20:00:00+00:00'")  # the test's clock, not the machine's
        service.db.conn.commit()

        # 08:30 in Tokyo: nothing yet.
        service.clock = lambda: datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc)
        app.job_queue.run_once(jobs.digest_job, 0)

        await asyncio.sleep(1.0)
        assert not [m for m in botapi.sent(READER) if "digest" in m.text.lower() and m.buttons]

        # 09:05 in Tokyo: one digest, the three most relevant, each with its source and buttons.
        service.clock = lambda: datetime(2026, 12, 5, 0, 5, tzinfo=timezone.utc)
        app.job_queue.run_once(jobs.digest_job, 0)
        digest = await botapi.wait_for_message(READER, "Your geobrief digest", timeout=20)
        assert "Saturday 5 December" in digest.text
        titles = [service.db["articles"].get(service.db["summaries"].get(s)["article_id"])["title"] for s in ids]
        order = [digest.text.index(titles[i]) for i in (1, 3, 2)]  # relevance 0.9, 0.7, 0.5
        assert order == sorted(order)
        assert titles[0] not in digest.text and titles[4] not in digest.text
        assert digest.text.count("Wire A") == 3 and '<a href="http' in digest.html
        assert [b["text"] for b in digest.buttons[:3]] == ["1 👍", "1 👎", "1 ✏️"] and len(digest.buttons) == 9

        # Later the same day: nothing again.
        count = len(botapi.sent(READER))
        service.clock = lambda: datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
        app.job_queue.run_once(jobs.digest_job, 0)
        await asyncio.sleep(1.0)
        assert len(botapi.sent(READER)) == count

        # Next day: only what the reader has not had (the two left, seen again during the day), never the three already sent.
        service.db.execute("update articles set fetched_at = '2026-12-05T12:00:00+00:00'")
        service.db.conn.commit()
        service.clock = lambda: datetime(2026, 12, 6, 0, 1, tzinfo=timezone.utc)
        app.job_queue.run_once(jobs.digest_job, 0)
        second = await botapi.wait_for_message(READER, "Your geobrief digest", after=digest.message_id, timeout=20)
        assert titles[0] in second.text and titles[4] in second.text
        assert all(titles[i] not in second.text for i in (1, 2, 3))
        per_chat = service.db.execute("select summary_id, count(*) from outbox where chat_id = ? group by summary_id", [READER]).fetchall()
        assert sorted(s for s, _ in per_chat) == sorted(ids) and all(c == 1 for _, c in per_chat)
