"""👍-rated summaries as an optional training source, joined from the bot's tables."""

from __future__ import annotations

from bot import store
from bot.model_stats import dataset_extras, online_stats, thumbs_up_pairs
from feeds import store as feed_store
from trainer import dataset, pairs
from trainer.prompts import article_input

READER = 2002


def test_thumbs_up_summaries_feed_training_only_when_asked(db):
    feed = feed_store.add_feed(db, "https://example.org/f.xml", "F")
    items = [{"guid": str(i), "url": f"https://example.org/{i}", "title": f"Title {i}", "text": " ".join(f"w{i}_{k}" for k in range(40))} for i in range(4)]
    ids = feed_store.insert_articles(db, feed["id"], items)
    sids = [store.add_summary(db, a, f"The summary of story {i}, liked or not.", "v1", "brief", "neutral") for i, a in enumerate(ids)]
    store.record_feedback(db, sids[0], READER, 1, "up")                       # liked
    store.record_feedback(db, sids[1], READER, 1, "up")
    store.record_feedback(db, sids[1], READER, 2, "down")                     # disputed
    store.record_feedback(db, sids[2], READER, 1, "up")
    store.add_correction(db, store.get_summary(db, sids[2]), READER, 3, "A reader's correction of it.", "accepted")  # corrected
    # sids[3]: no votes
    rows = thumbs_up_pairs(db)
    assert [(r["output"], r["source"], r["length"]) for r in rows] == [("The summary of story 0, liked or not.", "thumbs_up", "brief")]
    assert rows[0]["input"] == article_input("Title 0", items[0]["text"])
    assert dataset_extras(db, include_thumbs_up=False) == []

    data = dataset.build(db, [], 0.01, dataset_extras(db, include_thumbs_up=True))
    assert [(e.source, e.output) for e in data.train + data.holdout] == [("thumbs_up", "The summary of story 0, liked or not.")]
    pairs.add_pair(db, rows[0]["input"], "A correction beats a thumbs up.", "correction", ref=f"article:{ids[0]}")
    data = dataset.build(db, [], 0.01, dataset_extras(db, include_thumbs_up=True))
    assert [(e.source, e.output) for e in data.train + data.holdout] == [("correction", "A correction beats a thumbs up.")]

    stats = online_stats(db)["v1"]
    assert (stats.up, stats.down, stats.corrected, stats.delivered) == (3, 1, 1, 0)  # nothing was delivered through the outbox
    assert stats.up_rate == 0.75 and stats.correction_rate is None and stats.describe() == "not served yet"
