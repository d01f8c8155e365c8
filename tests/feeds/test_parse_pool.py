"""Parsing in worker processes: the same result as in-process parsing, and a dead worker does not stop polling."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import sqlite_utils

from feeds import parse_pool, store
from feeds.parse import ParseError, parse_feed
from feeds.poll import poll_feeds, sync_sources

from .conftest import quick_settings

NEWS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "feeds" / "news"
GUARDIAN = NEWS / "rss-parser" / "guardian.rss"


@pytest.fixture(autouse=True)
def fresh_pool():
    parse_pool.shutdown()
    yield
    parse_pool.shutdown()


async def test_worker_parse_matches_in_process_parse():
    data = GUARDIAN.read_bytes()
    parsed, cpu_s = await parse_pool.parse_in_worker(data, {"content-type": "application/rss+xml"}, 20, processes=2)
    assert parsed == parse_feed(data, {"content-type": "application/rss+xml"}, 20)
    assert len(parsed.entries) == 20 and cpu_s > 0


async def test_parse_error_crosses_the_process_boundary():
    with pytest.raises(ParseError, match="not a feed"):
        await parse_pool.parse_in_worker(b"<html><body>a web page, not a feed</body></html>", {}, None, processes=2)


async def test_killed_worker_is_replaced_and_the_next_parse_works():
    data = GUARDIAN.read_bytes()
    await parse_pool.parse_in_worker(data, {}, 5, processes=2)
    pool = parse_pool._get_pool(2)
    for pid in list(pool._processes):  # what the OOM killer or a segfaulting parser would do
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not pool._broken and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._broken
    parsed, _ = await parse_pool.parse_in_worker(data, {}, 5, processes=2)
    assert len(parsed.entries) == 5 and parse_pool._get_pool(2) is not pool


async def test_poll_in_processes_stores_what_a_thread_stores(news_server, tmp_path):
    urls = [news_server.url(r) for r in ("chrome-extension-mocks/bbc.lstrip.xml", "rss-parser/guardian.rss")]
    stored = {}
    for processes in (1, 2):
        db = sqlite_utils.Database(tmp_path / f"p{processes}.db")
        store.migrate(db)
        settings = quick_settings(urls, parse_processes=processes)
        sync_sources(db, settings)
        report = await poll_feeds(db, settings)
        assert not report.errors and report.parse_s > 0
        stored[processes] = sorted((r["guid"], r["text"], r["skip_reason"]) for r in db["articles"].rows)
        db.conn.close()
    assert stored[1] == stored[2] and len(stored[1]) > 50
