"""Servers that hang, drip, fail, throttle, loop, flood or bomb: every fetch ends within its limits and lands in feed health."""

from __future__ import annotations

import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest

from feeds import store
from feeds.poll import poll_feeds, sync_sources
from feeds.settings import FetchSettings, HealthSettings
from tests.helpers.fault_server import FaultServer

from .conftest import quick_settings

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
pytestmark = pytest.mark.timeout(120)
FAULTS = ["ok", "gzip-ok", "hang", "drip", "500", "429", "503-date", "loop", "big", "big-chunked", "bomb", "html"]


def settings_for(server: FaultServer):
    fetch = FetchSettings(connect_timeout_s=2, read_timeout_s=1, total_timeout_s=3, max_bytes=1_000_000, max_redirects=3,
                          per_host=16, max_retry_after_s=14_400)
    return quick_settings([server.url(p) for p in FAULTS], fetch=fetch,
                          health=HealthSettings(backoff_base_s=60, backoff_max_s=3600, disable_after=3))


async def test_each_fault_is_bounded_and_recorded(feeds_db):
    async with FaultServer(bomb_mb=1024, big_mb=50) as server:
        settings = settings_for(server)
        sync_sources(feeds_db, settings)
        tracemalloc.start()
        started = time.perf_counter()
        report = await poll_feeds(feeds_db, settings, now=T0)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"\nfaults: one pass over {len(FAULTS)} feeds took {elapsed:.1f} s (total timeout 3 s), peak traced memory {peak / 1e6:.1f} MB")
        rows = {f["url"].rsplit("/", 1)[1]: f for f in store.list_feeds(feeds_db)}

        # 1 GB of gzip and 50 MB bodies stop at the 1 MB cap; nothing near their size is ever held.
        assert peak < 16_000_000, f"peak traced memory {peak:,} bytes"
        expected = {
            "hang": "timed out waiting for data",          # read timeout (1 s)
            "drip": "timed out after 3 s",                  # bytes keep coming: the total timeout ends it
            "500": "HTTP 500",
            "429": "HTTP 429 Too Many Requests (retry after 7200 s)",
            "503-date": "HTTP 503",
            "loop": "more than 3 redirects",
            "big": "over the 1,000,000-byte limit",         # refused on Content-Length
            "big-chunked": "body larger than 1,000,000 bytes",
            "bomb": "after gzip decoding",
            "html": "not a feed",
        }
        for path, message in expected.items():
            assert message in (rows[path]["last_error"] or ""), (path, rows[path]["last_error"])
            assert rows[path]["consecutive_errors"] == 1 and rows[path]["error_count"] == 1
        assert set(report.errors) == {rows[p]["id"] for p in expected}
        assert not rows["ok"]["last_error"] and not rows["gzip-ok"]["last_error"]
        assert feeds_db.execute("select count(*) from articles").fetchone()[0] == 2  # the fine feeds, one item each

        # Backoff: 60 s after a first failure; Retry-After wins when longer, capped by max_retry_after_s.
        at = lambda s: (T0 + timedelta(seconds=s)).isoformat(timespec="seconds")  # noqa: E731
        assert rows["500"]["next_poll_at"] == at(60)
        assert rows["429"]["next_poll_at"] == at(7200)
        assert rows["503-date"]["next_poll_at"] == at(14_400)
        assert rows["ok"]["next_poll_at"] is None


async def test_backoff_skips_then_retries_then_disables(feeds_db):
    async with FaultServer(bomb_mb=1, big_mb=1) as server:
        settings = settings_for(server)
        settings.sources = settings.sources[:1] + [s for s in settings.sources if s.url.endswith("/500")]
        sync_sources(feeds_db, settings)
        await poll_feeds(feeds_db, settings, now=T0)
        assert server.hits["500"] == 1

        # In backoff: the next pass does not touch it.
        report = await poll_feeds(feeds_db, settings, now=T0 + timedelta(seconds=20))
        assert server.hits["500"] == 1 and report.deferred == 1

        # After 60 s it is tried again, fails, and waits twice as long.
        report = await poll_feeds(feeds_db, settings, now=T0 + timedelta(seconds=61))
        assert server.hits["500"] == 2 and not report.disabled
        feed = next(f for f in store.list_feeds(feeds_db) if f["url"].endswith("/500"))
        assert feed["consecutive_errors"] == 2
        assert feed["next_poll_at"] == (T0 + timedelta(seconds=61 + 120)).isoformat(timespec="seconds")

        # The third consecutive failure disables it, and the report says so once.
        report = await poll_feeds(feeds_db, settings, now=T0 + timedelta(seconds=200))
        assert [d.id for d in report.disabled] == [feed["id"]]
        assert "3 failures in a row" in report.disabled[0].reason and "HTTP 500" in report.disabled[0].reason
        feed = store.get_feed(feeds_db, feed["id"])
        assert feed["enabled"] == 0 and feed["disabled_at"] and "HTTP 500" in feed["disabled_reason"]
        report = await poll_feeds(feeds_db, settings, now=T0 + timedelta(days=30))
        assert server.hits["500"] == 3 and not report.disabled

        # Re-enabled, it is polled at once with a clean slate.
        store.enable_feed(feeds_db, feed["id"])
        await poll_feeds(feeds_db, settings, now=T0 + timedelta(days=30, seconds=1))
        assert server.hits["500"] == 4
        assert store.get_feed(feeds_db, feed["id"])["consecutive_errors"] == 1
