"""The whole loop through the real path: loopback Telegram, loopback feeds, the real model, a real fine-tune."""

from __future__ import annotations

import json
import re

import pytest

from bot.app import build_application, running
from trainer import registry

READER, ADMIN = 2002, 1001
pytestmark = [pytest.mark.model, pytest.mark.training]


def feed_with_items(xml: str, n: int) -> bytes:
    """The saved feed with only its first ``n`` items (a feed that grows later)."""
    items = list(re.finditer(r"\s*<item>.*?</item>", xml, re.S))
    return (xml[: items[0].start()] + "".join(m.group(0) for m in items[:n]) + xml[items[-1].end():]).encode("utf-8")


async def test_reader_to_promoted_model(botapi, news_server, make_settings, shared_data, tmp_path):
    reuters = (shared_data / "feeds/news/react-native-rss-parser/reuters.lstrip.xml").read_text(encoding="utf-8")
    url = news_server.put("reuters-world.xml", feed_with_items(reuters, 2))
    seed = tmp_path / "seed.jsonl"
    pairs = [json.loads(l) for l in (shared_data / "news_pairs.jsonl").read_text().splitlines()]
    xsum = [p for p in pairs if p["source_dataset"].startswith("XSum")][:40]
    seed.write_text("\n".join(json.dumps({"input": p["article"][:1500], "output": p["summary"]}) for p in xsum))
    settings = make_settings(
        botapi,
        **{
            "feeds.sources": [{"url": url, "title": "Reuters World"}],
            "training.seed_files": [str(seed)],
            "training.max_steps": 4,
            "training.learning_rate": 1e-3,
            "training.max_length": 384,
            "training.holdout_fraction": 0.2,
            "eval.max_holdout": 4,
            "model.max_input_tokens": 256,
            "style.length": "brief",
        },
    )
    application = build_application(settings)
    service = application.bot_data["service"]
    async with running(application):
        await botapi.send_text(READER, "/start")
        await botapi.wait_for_message(READER, "Welcome")
        await botapi.send_text(READER, "/subscribe")
        await botapi.wait_for_message(READER, "Subscribed")

        # Feeds → real model → delivered with feedback buttons, over real HTTP.
        summary_msg = await botapi.wait_for(lambda: next((m for m in botapi.sent(READER) if m.buttons), None), timeout=300, what="a summary")
        assert "Reuters World" in summary_msg.text and "model v0" in summary_msg.text
        assert [b["text"] for b in summary_msg.buttons] == ["👍", "👎", "✏️ Correct"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in summary_msg.buttons)
        summary_id = int(summary_msg.button("✏️")["callback_data"].split(":")[2])
        assert service.db["summaries"].get(summary_id)["version"] == "v0"

        # ✏️ → ForceReply prompt → correction stored as a training pair.
        after = botapi.last_id(READER)
        await botapi.press(READER, summary_msg.message_id, summary_msg.button("✏️")["callback_data"])
        prompt = await botapi.wait_for_message(READER, "corrected summary", after=after)
        assert prompt.force_reply
        correction = "Reuters reports a diplomatic development; officials described the talks and what each side wants next."
        after = botapi.last_id(READER)
        await botapi.send_text(READER, correction, reply_to=prompt.message_id)
        await botapi.wait_for_message(READER, "waits for an editor's review", after=after)
        assert service.db["pairs"].count == 0  # not training data until reviewed

        # The admin approves it in /review; now it is an (article, summary) training pair.
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/review")
        card = await botapi.wait_for_message(ADMIN, "Correction #1", after=after)
        await botapi.press(ADMIN, card.message_id, card.button("Approve")["callback_data"])
        await botapi.wait_for_message(READER, "was accepted")
        pair = service.db.execute("select input, output, source from pairs where source = 'correction'").fetchone()
        assert pair[1] == correction
        article = service.db["articles"].get(service.db["summaries"].get(summary_id)["article_id"])
        assert article["title"] in pair[0]

        # A reader's /retrain is refused and starts nothing.
        after = botapi.last_id(READER)
        await botapi.send_text(READER, "/retrain")
        await botapi.wait_for_message(READER, "for admins only", after=after)
        assert service.db["training_runs"].count == 0

        # The admin's /retrain runs a real fine-tune in a child process, with progress edits.
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/retrain")
        await botapi.wait_for_message(ADMIN, "launched", after=after)
        result = await botapi.wait_for(
            lambda: next((m for m in botapi.sent(ADMIN) if m.message_id > after and m.text.startswith(("✅", "❌", "⚠️"))), None),
            timeout=900, what="the training result")
        progress = [m for m in botapi.sent(ADMIN) if m.message_id > after and "Training run #" in m.text]
        assert any(m.edits > 0 for m in progress), "the progress message was never edited"

        run = service.db["training_runs"].get(1)
        assert run["status"] in ("promoted", "rejected"), (run["status"], run["reason"], result.text)
        assert run["reason"]
        version = service.db["model_versions"].get(run["version_id"])
        metrics = json.loads(version["metrics"])
        assert set(metrics["candidate"]) >= {"rouge1", "rouge2", "rougeLsum", "unsupported", "length_error"}
        assert metrics["baseline_version"] == "v0"
        assert (settings.model.models_dir / version["name"] / "adapter_model.safetensors").exists()
        assert (settings.model.models_dir / version["name"] / "README.md").exists()
        expected = version["name"] if run["status"] == "promoted" else "v0"
        assert registry.champion(service.db)["name"] == expected
        assert (run["status"] == "promoted") == result.text.startswith("✅")

        # A later article is summarized by whichever version now serves, without a restart.
        after = botapi.last_id(READER)
        news_server.put("reuters-world.xml", feed_with_items(reuters, 3))
        from bot.jobs import poll_feeds_job

        application.job_queue.run_once(poll_feeds_job, 0)
        late = await botapi.wait_for(lambda: next((m for m in botapi.sent(READER) if m.message_id > after and m.buttons), None), timeout=300, what="a later summary")
        assert f"model {expected}" in late.text
        late_id = int(late.button("👍")["callback_data"].split(":")[2])
        assert service.db["summaries"].get(late_id)["version"] == expected
