"""Polling real saved news feeds over loopback HTTP, used without the bot."""

from __future__ import annotations

import pytest

from feeds import manage, store
from feeds.poll import poll_feeds, sync_sources
from feeds.settings import FeedSource, RelevanceSettings

from .conftest import quick_settings

RELS = ["chrome-extension-mocks/bbc.lstrip.xml", "react-native-rss-parser/reuters.lstrip.xml", "rss-parser/guardian.rss"]


async def test_poll_stores_articles_then_gets_304(news_server, feeds_db):
    settings = quick_settings([news_server.url(r) for r in RELS])
    sync_sources(feeds_db, settings)
    first = await poll_feeds(feeds_db, settings)
    assert not first.errors and first.parse_s > 0
    rows = list(feeds_db["articles"].rows)
    assert len(first.new_article_ids) + len(first.skipped_article_ids) == len(rows) > 50
    assert {r["id"] for r in rows if r["skip_reason"] is None} == set(first.new_article_ids)
    assert all(r["title"] and "<" not in r["title"] for r in rows)
    assert all(r["published_at"].endswith("+00:00") for r in rows if r["published_at"])
    assert all(0 < r["relevance"] < 1 and r["url_key"] and r["fingerprint"] for r in rows)
    feeds = store.list_feeds(feeds_db)
    assert all(f["title"] and f["etag"] and f["last_success_at"] for f in feeds)

    second = await poll_feeds(feeds_db, settings)
    assert second.not_modified == len(RELS) and not second.new_article_ids and second.parse_s == 0
    assert all(news_server.not_modified.get(r) == 1 for r in RELS)


async def test_same_bytes_without_validators_are_not_reparsed(news_server, feeds_db):
    body = (news_server.root / RELS[1]).read_bytes()
    url = news_server.put("no-etag.xml", body)
    settings = quick_settings([url])
    sync_sources(feeds_db, settings)
    await poll_feeds(feeds_db, settings)
    feeds_db["feeds"].update(1, {"etag": None, "last_modified": None})  # as if the server sent no validators
    again = await poll_feeds(feeds_db, settings)
    assert again.not_modified == 1 and again.parse_s == 0


async def test_local_file_feed_and_broken_feed(tmp_path, shared_data, feeds_db):
    broken = tmp_path / "broken.xml"
    broken.write_text("this is not a feed at all")
    settings = quick_settings([str(shared_data / "feeds/news/rss-parser/uolNoticias.rss"), str(broken), str(tmp_path / "missing.xml")],
                              relevance=RelevanceSettings(threshold=0))
    sync_sources(feeds_db, settings)
    report = await poll_feeds(feeds_db, settings)
    assert len(report.new_article_ids) == 15  # ill-formed Latin-1 feed still yields every entry
    assert any("ç" in r["title"] or "ã" in r["title"] for r in feeds_db["articles"].rows)  # decoded, not mojibake
    assert len(report.errors) == 2
    rows = {r["url"]: r for r in store.list_feeds(feeds_db)}
    assert "not a feed" in rows[str(broken)]["last_error"] and rows[str(broken)]["consecutive_errors"] == 1
    assert "cannot read" in rows[str(tmp_path / "missing.xml")]["last_error"]


async def test_per_feed_filters_and_relevance_set_skip_reasons(news_server, feeds_db):
    url = news_server.url("rss-parser/guardian.rss")
    settings = quick_settings([FeedSource(url=url, exclude=["Trump"], include=[])])
    sync_sources(feeds_db, settings)
    await poll_feeds(feeds_db, settings)
    rows = list(feeds_db["articles"].rows)
    trump = [r for r in rows if "trump" in (r["title"] + " " + r["text"]).lower()]
    assert trump and all(r["skip_reason"] == 'excluded by feed filter "Trump"' for r in trump)
    sport = [r for r in rows if r["skip_reason"] and r["skip_reason"].startswith("below relevance")]
    assert sport and all(r["relevance"] < 0.3 for r in sport)
    assert any(r["title"].startswith("Tottenham Hotspur v Manchester United") for r in sport)
    assert all(r["skip_reason"] is None for r in rows if r not in trump and r not in sport)


async def test_filters_set_on_a_feed_join_the_config_ones(news_server, feeds_db):
    url = news_server.url("rss-parser/guardian.rss")
    settings = quick_settings([FeedSource(url=url, exclude=["Trump"])])
    sync_sources(feeds_db, settings)
    feed_id = store.list_feeds(feeds_db)[0]["id"]
    with pytest.raises(ValueError, match="backreferences"):
        manage.set_filters(feeds_db, feed_id, exclude=["/(a)\\1/"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        manage.set_filters(feeds_db, feed_id, min_relevance=3)
    assert store.stored_filters(store.get_feed(feeds_db, feed_id)) == ([], [], None)  # nothing saved on refusal
    manage.set_filters(feeds_db, feed_id, exclude=["/Las Vegas|CDC/"], min_relevance=0)
    rules = manage.status_rows(feeds_db, settings)[0]["rules"]
    assert rules.custom and rules.describe() == "exclude: Trump, /Las Vegas|CDC/ · relevance ≥ 0"

    await poll_feeds(feeds_db, settings)
    reasons = {r["title"]: r["skip_reason"] for r in feeds_db["articles"].rows}
    assert reasons["Director of CDC resigns over financial conflicts of interest"] == 'excluded by feed filter "/Las Vegas|CDC/"'
    assert reasons["FBI has 'grave concerns' about Trump plan to release controversial memo"] == 'excluded by feed filter "Trump"'
    assert reasons["Tottenham Hotspur v Manchester United: Premier League – live!"] is None  # threshold 0 keeps sport
    manage.set_filters(feeds_db, feed_id, clear=True)
    assert manage.status_rows(feeds_db, settings)[0]["rules"].describe() == "exclude: Trump · relevance ≥ 0.3 (global)"
    assert not manage.status_rows(feeds_db, quick_settings([url]))[0]["rules"].custom  # without config.toml's exclude


async def test_removed_feed_stays_removed_and_is_not_polled(news_server, feeds_db):
    settings = quick_settings([news_server.url(RELS[0])])
    sync_sources(feeds_db, settings)
    feed = store.list_feeds(feeds_db)[0]
    store.remove_feed(feeds_db, feed["id"])
    sync_sources(feeds_db, settings)  # a restart does not bring it back
    report = await poll_feeds(feeds_db, settings)
    assert report.polled == 0 and store.list_feeds(feeds_db) == []
    assert store.add_feed(feeds_db, feed["url"])["id"] == feed["id"]  # adding it again revives it
    assert len(store.list_feeds(feeds_db)) == 1
