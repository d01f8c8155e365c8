"""Polling 200 feeds: geobrief's concurrent conditional poll vs a sequential ``feedparser.parse(url)`` loop, in one run.

The 16 saved real news feeds of ../shared/data/feeds/news are served under 200 URLs by 50 loopback
servers (50 hosts, 4 feeds each). Each response waits ``--latency`` seconds first, standing in for a
real server's time to first byte (0.3 s is typical for a news feed over the Internet; 0 measures
pure CPU). Both pollers see the same servers in the same run. Then geobrief polls again with nothing
changed: every feed should answer 304 and nothing be parsed.

    python bench/feeds.py                 # 200 feeds, 0.3 s latency
    python bench/feeds.py --latency 0     # CPU-bound: what parsing and storing cost
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

import feedparser
import sqlite_utils
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds import store  # noqa: E402
from feeds.poll import poll_feeds, sync_sources  # noqa: E402
from feeds.settings import FeedSource, FeedsSettings, FullTextSettings  # noqa: E402

NEWS = ROOT.parent / "shared" / "data" / "feeds" / "news"


class Hosts:
    """``n_hosts`` aiohttp servers on 127.0.0.1 serving the saved feeds with ETag/304, after ``latency`` seconds."""

    def __init__(self, n_hosts: int, latency: float):
        self.files = [p.read_bytes() for p in sorted(NEWS.rglob("*")) if p.suffix in (".xml", ".rss")]
        self.n_hosts, self.latency = n_hosts, latency
        self.ports: list[int] = []
        self.requests = self.not_modified = 0
        self._runners: list[web.AppRunner] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.latency)
        body = self.files[int(request.match_info["n"]) % len(self.files)]
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def start(self) -> None:
        for _ in range(self.n_hosts):
            app = web.Application()
            app.router.add_get("/feed/{n}.xml", self._handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            self.ports.append(site._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for r in self._runners:
            await r.cleanup()

    def urls(self, n_feeds: int) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[i % self.n_hosts]}/feed/{i}.xml" for i in range(n_feeds)]


def run_servers(hosts: Hosts) -> asyncio.AbstractEventLoop:
    """The servers get their own thread and loop, so the sequential baseline can block freely."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(hosts.start())
        started.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    started.wait()
    return loop


def sequential(urls: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(u).entries) for u in urls)
    return time.perf_counter() - started, entries


async def geobrief(urls: list[str], db_path: Path):
    db = sqlite_utils.Database(db_path)
    store.migrate(db)
    settings = FeedsSettings(sources=[FeedSource(url=u) for u in urls], full_text=FullTextSettings(enabled=False))
    sync_sources(db, settings)
    started = time.perf_counter()
    first = await poll_feeds(db, settings)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = await poll_feeds(db, settings)
    second_s = time.perf_counter() - started
    return first, first_s, second, second_s, db["articles"].count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds each response waits before its first byte")
    args = parser.parse_args()
    hosts = Hosts(args.hosts, args.latency)
    loop = run_servers(hosts)
    urls = hosts.urls(args.feeds)
    print(f"{args.feeds} feeds on {args.hosts} loopback hosts, {args.latency:g} s per response before the first byte")

    seq_s, seq_entries = sequential(urls)
    print(f"  sequential feedparser.parse(url): {seq_s:7.2f} s  ({seq_entries} entries parsed)")
    with tempfile.TemporaryDirectory() as tmp:
        first, first_s, second, second_s, stored = asyncio.run(geobrief(urls, Path(tmp) / "bench.db"))
    print(f"  geobrief poll_feeds:              {first_s:7.2f} s  ({stored} articles stored: {len(first.new_article_ids)} to summarize, "
          f"{dict(first.skipped)}; parsing took {first.parse_s:.2f} s of CPU; {len(first.errors)} errors)")
    print(f"  ratio: {seq_s / first_s:.1f}x faster (goal >= 10x)")
    print(f"  second poll, nothing changed:     {second_s:7.2f} s  ({second.not_modified}/{second.polled} answered 304, "
          f"parse time {second.parse_s:.3f} s, {len(second.new_article_ids)} new)")
    loop.call_soon_threadsafe(loop.stop)
    return 0 if second.not_modified == second.polled == args.feeds and not first.errors else 1


if __name__ == "__main__":
    sys.exit(main())
