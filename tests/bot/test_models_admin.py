"""/models, /rollback and /export through the real PTB Application, on a registry with a real fine-tuned v1."""

from __future__ import annotations

import json

import pytest

from bot import store
from bot.app import build_application, running
from feeds import store as feed_store
from tests.helpers.training import overrides
from trainer import registry

ADMIN, READER = 1001, 2002
pytestmark = [pytest.mark.model, pytest.mark.training]


@pytest.fixture
def app(botapi, make_settings, trained, tmp_path, lead_seed):
    """The bot over a private copy of the trained registry (v0 base, v1 promoted and serving)."""
    root = trained.copy_to(tmp_path / "reg")
    settings = make_settings(botapi, **overrides(lead_seed, db_path=str(root / "geobrief.db"), **{"model.models_dir": str(root / "models")}))
    return build_application(settings)


def served(db, version: str, n: int, ups: int, downs: int, corrected: int) -> None:
    """``n`` delivered summaries by ``version``, with votes and corrections on the first ones."""
    feed = feed_store.add_feed(db, f"https://example.org/{version}.xml", version)
    items = [{"guid": f"{version}-{i}", "url": f"https://example.org/{version}/{i}", "title": f"Story {i}", "text": "Body text " * 30} for i in range(n)]
    for i, article_id in enumerate(feed_store.insert_articles(db, feed["id"], items)):
        sid = store.add_summary(db, article_id, f"Summary {i} by {version}.", version, "brief", "neutral")
        store.enqueue(db, READER, sid)
        db.execute("update outbox set status = 'sent' where summary_id = ?", [sid])
        if i < ups + downs:
            store.record_feedback(db, sid, READER, 3000 + i, "up" if i < ups else "down")
        if i < corrected:
            store.add_correction(db, {"id": sid, "article_id": article_id}, READER, READER, "A better summary of the story here.", "accepted")
    db.conn.commit()


async def command(botapi, user: int, text: str, contains: str = "", timeout: float = 60):
    after = botapi.last_id(user)
    await botapi.send_text(user, text)
    return await botapi.wait_for_message(user, contains, timeout=timeout, after=after)


async def test_models_lists_versions_with_metrics_and_online_rates(app, botapi):
    service = app.bot_data["service"]
    served(service.db, "v0", 4, ups=1, downs=3, corrected=2)
    served(service.db, "v1", 5, ups=4, downs=0, corrected=0)
    v1 = registry.metrics_of(registry.get_version(service.db, "v1"))
    async with running(app):
        reply = await command(botapi, ADMIN, "/models", "Model versions")
    text = reply.text
    assert "v0 retired" in text and "v1 ★ champion" in text
    assert f"rougeLsum {v1['candidate']['rougeLsum']:.4f} (vs v0 {v1['baseline']['rougeLsum']:.4f}), 31 pairs" in text
    assert "👍 25% of 4 votes; corrected 50% of 4 delivered" in text  # v0
    assert "👍 100% of 4 votes; corrected 0% of 5 delivered" in text  # v1
    assert v1 and registry.get_version(service.db, "v1")["decision"][:60] in text


async def test_rollback_swaps_the_serving_model_at_once(app, botapi):
    service = app.bot_data["service"]
    async with running(app):
        await service.model_ready.wait()
        assert service.summarizer.version == "v1"
        assert "Usage: /rollback N" in (await command(botapi, ADMIN, "/rollback")).text
        assert "no model version '9'" in (await command(botapi, ADMIN, "/rollback 9")).text
        assert "already serving" in (await command(botapi, ADMIN, "/rollback v1")).text
        reply = await command(botapi, ADMIN, "/rollback 0", "champion again", timeout=120)
        assert "v0 is the champion again" in reply.text and service.summarizer.version == "v0"  # swapped before the reply
        assert registry.champion(service.db)["name"] == "v0"
        event = registry.events(service.db)[0]
        assert event["event"] == "rolled_back" and event["name"] == "v0" and f"admin {ADMIN}" in event["reason"]
        await command(botapi, ADMIN, "/rollback 1", "champion again", timeout=120)
        assert service.summarizer.version == "v1" and registry.champion(service.db)["name"] == "v1"


async def test_export_sends_the_training_set_as_jsonl(app, botapi, tmp_path):
    from datasets import load_dataset

    async with running(app):
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/export")
        doc = await botapi.wait_for(lambda: next((m for m in botapi.sent(ADMIN) if m.message_id > after and m.kind == "document"), None),
                                    timeout=120, what="the export")
        holdout_after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/export holdout")
        held = await botapi.wait_for(lambda: next((m for m in botapi.sent(ADMIN) if m.message_id > holdout_after and m.kind == "document"), None),
                                     timeout=120, what="the holdout export")
    assert doc.file_name.startswith("geobrief-train-") and doc.file_name.endswith(".jsonl") and "31 train pairs" in doc.text
    path = tmp_path / doc.file_name
    path.write_bytes(doc.file_bytes)
    rows = load_dataset("json", data_files=str(path), split="train")
    assert len(rows) == 31 and set(rows.column_names) >= {"prompt", "completion", "split", "source", "input_hash"}
    assert {r["split"] for r in rows} == {"train"}
    held_rows = [json.loads(line) for line in held.file_bytes.decode().splitlines()]
    assert len(held_rows) == 9 and not {r["input_hash"] for r in held_rows} & set(rows["input_hash"])


async def test_each_command_is_refused_to_a_non_admin(app, botapi):
    service = app.bot_data["service"]
    async with running(app):
        for text in ("/models", "/rollback 0", "/export"):
            reply = await command(botapi, READER, text, "for admins only")
            assert reply.text == f"{text.split()[0]} is for admins only."
        assert registry.champion(service.db)["name"] == "v1"
        assert not [m for m in botapi.sent(READER) if m.kind == "document" or "Model versions" in m.text]
        assert "models" in botapi.commands_for(ADMIN) and "models" not in botapi.commands_for(READER)
