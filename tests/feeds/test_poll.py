"""Polling real saved news feeds over loopback HTTP, used without the bot."""

from __future__ import annotations

import sqlite_utils

from feeds import store
from feeds.poll import poll_feeds, sync_sources
from feeds.settings import FeedSource, FeedsSettings


def fresh_db(tmp_path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(tmp_path / "feeds.db")
    store.migrate(db)
    return db


async def test_poll_stores_articles_then_gets_304(news_server, tmp_path):
    db = fresh_db(tmp_path)
    rels = ["chrome-extension-mocks/bbc.lstrip.xml", "react-native-rss-parser/reuters.lstrip.xml", "rss-parser/guardian.rss"]
    settings = FeedsSettings(sources=[FeedSource(url=news_server.url(r)) for r in rels], max_entries_per_feed=100)
    sync_sources(db, settings)
    first = await poll_feeds(db, settings)
    assert not first.errors
    assert len(first.new_article_ids) == db["articles"].count > 50
    titles = [r["title"] for r in db["articles"].rows]
    assert all(t and "<" not in t for t in titles)
    assert all(r["published_at"].endswith("+00:00") for r in db["articles"].rows if r["published_at"])
    second = await poll_feeds(db, settings)
    assert second.not_modified == len(rels) and not second.new_article_ids
    assert all(news_server.not_modified.get(r) == 1 for r in rels)


async def test_local_file_feed_and_broken_feed(tmp_path, shared_data):
    db = fresh_db(tmp_path)
    broken = tmp_path / "broken.xml"
    broken.write_text("this is not a feed at all")
    settings = FeedsSettings(sources=[FeedSource(url=str(shared_data / "feeds/news/rss-parser/uolNoticias.rss")), FeedSource(url=str(broken)),
                                      FeedSource(url=str(tmp_path / "missing.xml"))])
    sync_sources(db, settings)
    report = await poll_feeds(db, settings)
    assert report.new_article_ids  # ill-formed Latin-1 feed still yields entries
    assert len(report.errors) == 2
    rows = {r["url"]: r for r in store.list_feeds(db)}
    assert rows[str(broken)]["last_error"] and rows[str(broken)]["consecutive_errors"] == 1
    assert "cannot read" in rows[str(tmp_path / "missing.xml")]["last_error"]
