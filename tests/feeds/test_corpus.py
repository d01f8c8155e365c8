"""Every file of feedparser's test corpus and every saved news feed, served over loopback with its headers, ingested cleanly."""

from __future__ import annotations

import re
import time
from datetime import datetime

from feeds import store
from feeds.poll import poll_feeds, sync_sources
from tests.conftest import SHARED
from tests.helpers.feed_server import FeedServer

from .conftest import quick_settings

CORPUS = SHARED / "feeds" / "feedparser-tests" / "tests"
NEWS = SHARED / "feeds" / "news"
GARBAGE = {
    "tag": re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>"),
    "entity": re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});"),
    "control": re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"),
}


def garbage_in(row: dict) -> list[str]:
    """What is wrong with a stored article, as short labels (empty when it is clean)."""
    found = [f"{field}:{name}" for field in ("title", "text") for name, rx in GARBAGE.items() if rx.search(row[field] or "")]
    if "\n" in (row["title"] or "") or len(row["title"] or "") > 300 or len(row["text"] or "") > 60_000:
        found.append("length")
    if row["published_at"]:
        try:
            when = datetime.fromisoformat(row["published_at"])
            if when.utcoffset().total_seconds() != 0 or not 1990 <= when.year <= 2100:
                found.append("date")
        except ValueError:
            found.append("date")
    if row["url"] and not row["url"].startswith(("http://", "https://")):
        found.append("url")
    return found


async def test_whole_corpus_ingests_without_exception_hang_or_garbage(feeds_db):
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file()) + sorted(p for p in NEWS.rglob("*") if p.suffix in (".xml", ".rss"))
    assert len(files) > 2100
    async with FeedServer(SHARED / "feeds", file_headers=True) as server:
        urls = [server.url(str(p.relative_to(SHARED / "feeds"))) for p in files]
        settings = quick_settings(urls, per_host=32)
        sync_sources(feeds_db, settings)
        started = time.perf_counter()
        report = await poll_feeds(feeds_db, settings)
        elapsed = time.perf_counter() - started
        rows = list(feeds_db["articles"].rows)
        assert report.polled == len(files)
        bad = {r["id"]: garbage_in(r) for r in rows if garbage_in(r)}
        assert not bad, [(feeds_db["articles"].get(i)["title"][:80], why) for i, why in list(bad.items())[:10]]
        feeds = store.list_feeds(feeds_db)
        errors = [f for f in feeds if f["last_error"]]
        assert all(len(f["last_error"]) < 400 and "\n" not in f["last_error"] for f in errors)
        assert all(f["last_success_at"] for f in feeds if not f["last_error"])
        ok = len(feeds) - len(errors)
        print(f"\ncorpus: {len(files)} files in {elapsed:.1f} s, {ok} parsed, {len(errors)} recorded errors, "
              f"{len(rows)} articles ({len(report.new_article_ids)} to summarize, {dict(report.skipped)})")
        assert ok > 0.6 * len(files) and len(rows) > 1000

        # The ill-formed real feeds still yield their entries.
        by_url = {f["url"]: f for f in feeds}
        for rel in ("news/chrome-extension-mocks/cnn.xml", "news/react-native-rss-parser/reuters.xml", "news/rss-parser/uolNoticias.rss"):
            feed = by_url[server.url(rel)]
            assert not feed["last_error"], feed
            assert feeds_db.execute("select count(*) from articles where feed_id = ?", [feed["id"]]).fetchone()[0] >= 10

        # A second pass: every feed answers 304 and nothing is parsed; failing feeds wait out their
        # backoff, and feeds whose <ttl> is longer than the poll interval wait for it.
        by_ttl = [f for f in feeds if not f["last_error"] and f["next_poll_at"]]
        assert by_ttl and all(f["ttl_s"] > settings.poll_interval_s for f in by_ttl)
        hits_before = sum(server.hits.values())
        second = await poll_feeds(feeds_db, settings)
        assert second.parse_s == 0 and not second.new_article_ids and not second.skipped_article_ids
        assert second.polled == second.not_modified == ok - len(by_ttl)
        assert sum(server.hits.values()) - hits_before == second.polled

