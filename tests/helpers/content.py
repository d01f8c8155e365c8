"""Articles and summaries written straight into a test database (for tests whose behaviour isn't the model's)."""

from __future__ import annotations

import json
from pathlib import Path

from bot import store
from feeds import store as feed_store

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def real_articles(n: int, offset: int = 0) -> list[dict]:
    """Real politics/world articles with reference summaries from the shared news pairs."""
    rows = [json.loads(l) for l in (SHARED / "news_pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["is_politics_or_world"] and r.get("url")]
    return rows[offset : offset + n]


def add_summarized(db, n: int, feed_title: str = "Test Wire", length: str = "standard", tone: str = "neutral", version: str = "v0",
                   offset: int = 0, relevance: list[float] | None = None) -> list[int]:
    """Store ``n`` real articles (one feed) with a summary each; return the summary ids."""
    feed = feed_store.add_feed(db, f"https://example.org/{feed_title.replace(' ', '-').lower()}.xml", feed_title)
    feed_store.update_feed(db, feed["id"], enabled=0)  # never polled: these articles are written here
    ids = []
    for i, row in enumerate(real_articles(n, offset)):
        title = row["article"].split(".")[0][:120]
        aid = db["articles"].insert({"feed_id": feed["id"], "guid": f"{feed_title}-{offset + i}", "url": row["url"], "title": title,
                                     "text": row["article"], "published_at": store.utcnow(), "fetched_at": store.utcnow(),
                                     "relevance": relevance[i] if relevance else None}).last_pk
        ids.append(store.add_summary(db, aid, row["summary"].replace(" .", "."), version, length, tone))
    return ids
