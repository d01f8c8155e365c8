"""Full text: extraction measured on saved article pages, boilerplate removed, teasers replaced during a poll."""

from __future__ import annotations

import json
import re
from collections import Counter
from email.utils import format_datetime
from datetime import datetime, timezone

from feeds.clean import clean_text
from feeds.extract import extract_text
from feeds.poll import poll_feeds, sync_sources
from feeds.settings import RelevanceSettings
from tests.conftest import SHARED
from tests.helpers.feed_server import FeedServer

from .conftest import quick_settings
from .test_dedupe import rss

PAGES = SHARED / "html" / "newspaper4k"


def token_f1(predicted: str, expected: str) -> float:
    p, g = Counter(re.findall(r"\w+", predicted.lower())), Counter(re.findall(r"\w+", expected.lower()))
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def test_extraction_matches_the_expected_text():
    scores = {}
    for page in sorted(PAGES.glob("*.html")):
        expected = page.with_name(page.name.replace(".html", ".expected.txt")).read_text(encoding="utf-8")
        scores[page.stem] = token_f1(extract_text(page.read_bytes()), expected)
    print("\ntoken F1: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()) + f"; mean {sum(scores.values()) / len(scores):.3f}")
    assert len(scores) == 5 and min(scores.values()) > 0.9


def test_boilerplate_is_removed_from_real_article_text():
    bbc = [json.loads(l)["article"] for l in (SHARED / "news_pairs.jsonl").read_text().splitlines() if "Share this with" in l or "Media playback" in l]
    assert len(bbc) >= 20
    for article in bbc:
        cleaned = clean_text(article, is_html=False)
        assert "Share this with" not in cleaned and "Media playback is" not in cleaned and "Copy this link" not in cleaned
        assert len(cleaned) > 0.8 * len(article) - 400  # the article itself stays
    page = (PAGES / "time_001.html").read_bytes()
    assert "More Must-Reads From TIME" not in extract_text(page)
    text = clean_text("<p>Talks resumed in Geneva.</p><p>By Jane Doe and John Roe</p><p>Image copyright Getty Images</p>"
                      "<p>Read more: the full story</p><p>kokobj@yna.co.kr</p><p>(END)</p>")
    assert text == "Talks resumed in Geneva."


async def test_teasers_are_replaced_by_the_article_page(feeds_db, news_server):
    date = format_datetime(datetime(2030, 1, 1, tzinfo=timezone.utc))
    async with FeedServer(SHARED / "html") as pages:
        items = []
        for page in sorted(PAGES.glob("*.html")):
            meta = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text())
            items.append({"title": meta["title"], "text": (meta.get("meta_description") or meta["title"])[:300],
                          "link": pages.url(f"newspaper4k/{page.name}"), "date": date})
        items.append({"title": "Page that is gone", "text": "A teaser whose page answers 404 keeps its teaser.", "link": pages.url("newspaper4k/missing.html"), "date": date})
        url = news_server.put("teasers.xml", rss("Teasers", items))
        settings = quick_settings([url], full_text=True, relevance=RelevanceSettings(threshold=0))
        sync_sources(feeds_db, settings)
        report = await poll_feeds(feeds_db, settings)
    assert report.full_text == 5 and not report.errors
    rows = {r["url"].rsplit("/", 1)[1]: r for r in feeds_db["articles"].rows}
    for page in sorted(PAGES.glob("*.html")):
        expected = page.with_name(page.name.replace(".html", ".expected.txt")).read_text(encoding="utf-8")
        row = rows[page.name]
        assert row["full_text"] == 1 and token_f1(row["text"], expected) > 0.9
    assert rows["missing.html"]["full_text"] == 0 and rows["missing.html"]["text"].startswith("A teaser")
