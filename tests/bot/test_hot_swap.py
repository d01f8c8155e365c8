"""The bot swaps to a new champion without a restart: loaded beside the old one, switched between batches, nothing lost or mixed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.db import open_db
from bot.service import Service
from feeds import store as feed_store
from tests.helpers.training import lead_pairs, overrides
from trainer import registry
from trainer.modeling import load_model
from trainer.summarize import Request, Summarizer

pytestmark = [pytest.mark.model, pytest.mark.training]


def add_articles(db, pairs: list[dict], tag: str) -> list[int]:
    feed = feed_store.add_feed(db, f"https://example.org/{tag}.xml", tag)
    items = [{"guid": f"{tag}-{i}", "url": f"https://example.org/{tag}/{i}", "title": "", "text": p["input"]} for i, p in enumerate(pairs)]
    return feed_store.insert_articles(db, feed["id"], items)


async def test_swap_while_summaries_are_being_produced(trained, tmp_path, make_settings, lead_seed, shared_data, monkeypatch):
    root = trained.copy_to(tmp_path / "reg")
    settings = make_settings(None, **overrides(lead_seed, db_path=str(root / "geobrief.db"), **{"model.models_dir": str(root / "models"), "model.batch_size": 2}))
    db = open_db(settings.db_path)
    models_dir = settings.model.models_dir
    registry.rollback(db, "v0", models_dir)  # the base model serves first
    service = Service(settings, db)
    await service.load_model()
    assert service.summarizer.version == "v0"

    batches, first_batch_done, swapped = [], threading.Event(), threading.Event()
    real_generate = Summarizer._generate

    def generate(self, current, *args):  # the real generation; the first batch waits until the swap is done
        texts = real_generate(self, current, *args)
        batches.append(current.version)
        if len(batches) == 1:
            first_batch_done.set()
            swapped.wait(120)
        return texts

    monkeypatch.setattr(Summarizer, "_generate", generate)
    news = lead_pairs(shared_data / "news_pairs.jsonl", 40)
    first_ids = add_articles(db, news[:6], "early")
    work = asyncio.create_task(service.summarize_new())
    await asyncio.to_thread(first_batch_done.wait, 120)
    registry.rollback(db, "v1", models_dir)
    assert await service.swap_to_champion() == "v1"  # loaded beside v0 while v0 is mid-call
    assert service.summarizer.version == "v1" and not work.done()
    swapped.set()
    assert await work == 6

    rows = list(db.query("select article_id, text, version from summaries order by article_id"))
    assert [r["article_id"] for r in rows] == first_ids  # none lost, none twice
    assert batches == ["v0", "v0", "v0"] and {r["version"] for r in rows} == {"v0"}  # the call in flight kept its model
    # …and its last batch really is v0's writing, not v1's under v0's name
    last = [Request(p["input"], "brief") for p in news[4:6]]
    style = settings.style
    v0_texts = [s.text for s in Summarizer(load_model(settings.model.base, None, "v0", "cpu"), settings.model.max_input_tokens, 2).summarize(last, style)]
    v1_texts = [s.text for s in Summarizer(load_model(settings.model.base, models_dir / "v1", "v1", "cpu"), settings.model.max_input_tokens, 2).summarize(last, style)]
    assert [r["text"] for r in rows[4:6]] == v0_texts != v1_texts

    later_ids = add_articles(db, news[6:8], "late")
    seen = len(batches)
    assert await service.summarize_new() == 2
    later = list(db.query(f"select version from summaries where article_id in ({','.join(map(str, later_ids))})"))
    assert [r["version"] for r in later] == ["v1", "v1"] and batches[seen:] == ["v1"]
    service.model_executor.shutdown()
    db.conn.close()


async def test_two_quick_rollbacks_leave_the_newest_champion_serving(trained, tmp_path, make_settings, lead_seed, monkeypatch):
    root = trained.copy_to(tmp_path / "reg")
    settings = make_settings(None, **overrides(lead_seed, db_path=str(root / "geobrief.db"), **{"model.models_dir": str(root / "models")}))
    db = open_db(settings.db_path)
    service = Service(settings, db)
    await service.load_model()
    import bot.service

    def slow_base(base, adapter, version, device):  # v0 loads slower than v1, so unserialized swaps would finish out of order
        if version == "v0":
            threading.Event().wait(1.5)
        return load_model(base, adapter, version, device)

    monkeypatch.setattr(bot.service, "load_model", slow_base)
    registry.rollback(db, "v0", settings.model.models_dir)
    first = asyncio.create_task(service.swap_to_champion())
    await asyncio.sleep(0)  # the first swap is loading v0 …
    registry.rollback(db, "v1", settings.model.models_dir)  # … when v1 is made champion again
    second = asyncio.create_task(service.swap_to_champion())
    await asyncio.gather(first, second)
    assert service.summarizer.version == registry.champion(db)["name"] == "v1"
    service.model_executor.shutdown()
    db.conn.close()
