"""Dedupe by guid, normalised URL, content hash, and the same story across outlets, on real material."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from email.utils import format_datetime
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from feeds import store
from feeds.dedupe import content_hash, url_key
from feeds.poll import poll_feeds, sync_sources
from feeds.settings import FeedSource, RelevanceSettings
from tests.conftest import SHARED

from .conftest import quick_settings

NO_RELEVANCE = RelevanceSettings(threshold=0)


def rss(title: str, items: list[dict]) -> bytes:
    body = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link><guid>{escape(i.get('guid', i['link']))}</guid>"
        f"<pubDate>{i['date']}</pubDate><description>{escape(i['text'])}</description></item>" for i in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>{body}</channel></rss>'.encode()


def test_url_key_normalises_what_does_not_name_a_different_page():
    same = ["https://www.bbc.co.uk/news/world-123?utm_source=rss&utm_medium=feed#top", "http://bbc.co.uk/news/world-123/",
            "https://m.bbc.co.uk/news/world-123?fbclid=abc", "https://BBC.co.uk/news/world-123"]
    assert len({url_key(u) for u in same}) == 1
    assert url_key("https://example.com/a?id=1&b=2") == url_key("https://example.com/a?b=2&id=1")
    assert url_key("https://example.com/a?id=1") != url_key("https://example.com/a?id=2")
    assert url_key("https://example.com/a") != url_key("https://example.com/b")


def test_content_hash_ignores_markup_and_case_but_not_words():
    text = "The foreign ministers met in Geneva on Tuesday and agreed to resume talks on the border dispute next month. " * 3
    assert content_hash("A", text) == content_hash("B", text.upper().replace(" ", "  "))
    assert content_hash("A", text) != content_hash("A", text.replace("Geneva", "Vienna"))
    assert content_hash("", "Read more") == ""  # too little to say anything


def neus_outlet_feeds() -> tuple[dict[str, list[dict]], dict[str, str]]:
    """The NeuS/AllSides roundups as three outlets' feeds: the same stories from a left, a centre and a right outlet."""
    feeds: dict[str, list[dict]] = defaultdict(list)
    story_of: dict[str, str] = {}
    for line in (SHARED / "news_pairs.jsonl").read_text().splitlines():
        r = json.loads(line)
        if not r["source_dataset"].startswith("NeuS / AllSides"):
            continue
        date = format_datetime(datetime.fromisoformat(r["date"][:10] + "T12:00:00+00:00"))
        for m in re.finditer(r"^\[(LEFT|CENTER|RIGHT) \| ([^\]]+)\] ([^\n]*)\n((?:(?!\n\n\[).)*)", r["article"], re.M | re.S):
            link = f"https://{m.group(1).lower()}.example/{r['id']}"
            feeds[m.group(1)].append({"title": m.group(3), "text": m.group(4).strip(), "link": link, "date": date})
            story_of[link] = r["id"]
    return feeds, story_of


async def test_same_story_from_three_outlets_becomes_one_item(news_server, feeds_db):
    outlets, story_of = neus_outlet_feeds()
    urls = [news_server.put(f"neus-{side}.xml", rss(f"{side} outlet", items)) for side, items in outlets.items()]
    settings = quick_settings(urls, relevance=NO_RELEVANCE, max_entries_per_feed=500)
    sync_sources(feeds_db, settings)
    report = await poll_feeds(feeds_db, settings)
    rows = {r["id"]: r for r in feeds_db["articles"].rows}
    assert len(rows) == sum(len(v) for v in outlets.values()) == 1017

    should_merge = len(rows) - len(set(story_of.values()))  # every copy after a story's first
    merged = [r for r in rows.values() if r["duplicate_of"]]
    right = [r for r in merged if story_of[r["url"]] == story_of[rows[r["duplicate_of"]]["url"]]]
    wrong = [r for r in merged if r not in right]
    # Roundups a day apart are often the same running story (the day-after follow-up); same-day mistakes are the real errors.
    same_day_wrong = [r for r in wrong if r["published_at"] == rows[r["duplicate_of"]]["published_at"]]
    print(f"\nNeuS cross-outlet: {len(right)}/{should_merge} copies merged into their story ({len(right) / should_merge:.0%}); "
          f"{len(wrong)} merged into another story: {len(same_day_wrong)} of the same day, {len(wrong) - len(same_day_wrong)} a day apart")
    for r in wrong:
        print(f"    {r['published_at'][:10]} {r['title'][:70]!r} -> {rows[r['duplicate_of']]['published_at'][:10]} {rows[r['duplicate_of']]['title'][:70]!r}")
    assert len(right) >= 0.5 * should_merge
    assert len(same_day_wrong) <= 0.01 * len(merged)
    assert all(r["skip_reason"].startswith(f"duplicate of #{r['duplicate_of']} (") for r in merged)
    assert all(rows[r["duplicate_of"]]["duplicate_of"] is None and rows[r["duplicate_of"]]["skip_reason"] is None for r in merged)
    assert len(report.new_article_ids) == len(rows) - len(merged)

    # sources_for: the canonical article first, then each other outlet once, from any member of the story.
    story = next(r["duplicate_of"] for r in right if sum(x["duplicate_of"] == r["duplicate_of"] for x in merged) == 2)
    member = next(r["id"] for r in merged if r["duplicate_of"] == story)
    sources = store.sources_for(feeds_db, member)
    assert [s["article_id"] for s in sources][0] == story and len(sources) == 3
    assert {s["feed_title"] for s in sources} == {"LEFT outlet", "CENTER outlet", "RIGHT outlet"}
    assert set(sources[0]) == {"article_id", "title", "url", "feed_id", "feed_title"}


async def test_saved_feeds_of_the_same_day_share_stories(news_server, feeds_db):
    rels = ["chrome-extension-mocks/bbc.lstrip.xml", "chrome-extension-mocks/theguardian.lstrip.xml",
            "chrome-extension-mocks/cnn.lstrip.xml", "chrome-extension-mocks/nytimes.lstrip.xml"]
    settings = quick_settings([news_server.url(r) for r in rels], relevance=NO_RELEVANCE)
    sync_sources(feeds_db, settings)
    await poll_feeds(feeds_db, settings)
    rows = {r["id"]: r for r in feeds_db["articles"].rows}
    pairs = {(rows[r["duplicate_of"]]["title"], r["title"]) for r in rows.values() if r["duplicate_of"]}
    print("\n" + "\n".join(f"  {a[:60]!r} <- {b[:60]!r}" for a, b in sorted(pairs)))

    def merged(a: str, b: str) -> bool:
        return any((a in x and b in y) or (b in x and a in y) for x, y in pairs)

    assert merged("Joseph McCann charged", "Man in court charged with kidnap and rape")            # BBC / Guardian
    assert merged("Keith Flint", "Keith Flint")
    assert merged("Phil Neville names squad", "England Women's World Cup squad")
    assert merged("Trump: Billion dollar losses", "Trump tax printouts")
    assert merged("New Year's Eve celebrations around the world", "New Year’s Eve 2020: Pictures")  # CNN / NYT
    assert not merged("Royal wedding choir", "show off newborn son")                              # a different story
    assert not merged("10 great places to spend New Year's Eve", "New Year’s Eve 2020: Pictures")
    assert not any(rows[r["duplicate_of"]]["feed_id"] == r["feed_id"] for r in rows.values() if r["duplicate_of"])


async def test_exact_duplicates_by_url_guid_and_text(news_server, feeds_db):
    date = format_datetime(datetime(2030, 1, 1, 8, tzinfo=timezone.utc))
    text = "Foreign ministers of both countries met in Geneva and agreed to resume border talks next month, officials said. " * 3
    a = news_server.put("a.xml", rss("Wire A", [{"title": "Border talks to resume", "text": text, "link": "https://news.example/story-1?utm_source=rss", "date": date}]))
    b = news_server.put("b.xml", rss("Wire B", [
        {"title": "Ministers agree to resume talks", "text": "Short teaser only.", "link": "http://www.news.example/story-1/", "date": date},
        {"title": "Different headline, same copy", "text": text, "link": "https://other.example/x", "date": date},
        {"title": "Guid reused", "text": "Another short teaser here.", "link": "https://other.example/y", "guid": "https://news.example/story-1?utm_source=rss", "date": date},
    ]))
    settings = quick_settings([FeedSource(url=a), FeedSource(url=b)], relevance=NO_RELEVANCE)
    sync_sources(feeds_db, settings)
    await poll_feeds(feeds_db, settings)
    reasons = {r["title"]: r["skip_reason"] for r in feeds_db["articles"].rows}
    assert reasons["Border talks to resume"] is None
    assert reasons["Ministers agree to resume talks"] == "duplicate of #1 (same URL)"
    assert reasons["Different headline, same copy"] == "duplicate of #1 (same text)"
    assert reasons["Guid reused"] == "duplicate of #1 (same guid)"
    assert [s["feed_title"] for s in store.sources_for(feeds_db, 1)] == ["Wire A", "Wire B"]
    again = await poll_feeds(feeds_db, settings)  # the same entries again are not new
    assert feeds_db["articles"].count == 4 and not again.new_article_ids
