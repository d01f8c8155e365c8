"""A training child killed mid-run: the run fails with the reason, the champion and lock are untouched, the next run resumes and works."""

from __future__ import annotations

import json

import pytest

from bot.app import build_application, running
from tests.helpers.training import overrides
from trainer import finetune, registry, runs

ADMIN = 1001
pytestmark = [pytest.mark.model, pytest.mark.training]


def result_after(botapi, after: int):
    return next((m for m in botapi.sent(ADMIN) if m.message_id > after and m.text.startswith(("✅", "❌", "⚠️"))), None)


def photos_after(botapi, after: int) -> list:
    return [m for m in botapi.sent(ADMIN) if m.message_id > after and m.kind == "photo"]


async def test_killed_child_fails_cleanly_and_the_next_run_resumes(botapi, make_settings, lead_seed):
    settings = make_settings(botapi, **overrides(lead_seed, **{"training.max_steps": 4, "training.save_steps": 1}))
    application = build_application(settings)
    service = application.bot_data["service"]
    work = settings.model.models_dir / ".work"
    async with running(application):
        await service.model_ready.wait()
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/retrain")
        await botapi.wait_for_message(ADMIN, "launched", after=after)
        busy_after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/retrain")
        busy = await botapi.wait_for_message(ADMIN, "Not started", after=busy_after)
        assert "training run #1 is still in progress" in busy.text  # one run at a time

        # Kill the child once it has trained a step and saved a checkpoint (as the OOM killer would: SIGKILL).
        await botapi.wait_for(lambda: any(finetune.last_checkpoint(d / "checkpoints") for d in work.glob("*")), timeout=600, what="a checkpoint")
        progress = await botapi.wait_for_message(ADMIN, "Training: step", after=after, timeout=60)
        service.training.process.kill()
        failed = await botapi.wait_for(lambda: result_after(botapi, after), timeout=120, what="the failure report")
        assert failed.text.startswith("⚠️ Run #1 failed; v0 keeps serving.") and "killed (SIGKILL" in failed.text
        run = runs.get_run(service.db, 1)
        assert run["status"] == "failed" and "killed (SIGKILL" in run["reason"]
        assert registry.champion(service.db)["name"] == "v0" and service.summarizer.version == "v0"
        assert [v["name"] for v in registry.list_versions(service.db)] == ["v0"]
        assert not runs.TrainingLock(settings.model.models_dir).held_elsewhere()  # the lock died with the child
        assert progress.edits > 0 and "░" in progress.text and "/4" in progress.text  # one message, edited into a progress bar
        charts = await botapi.wait_for(lambda: len(photos_after(botapi, failed.message_id)) == 2 and photos_after(botapi, failed.message_id),
                                       timeout=60, what="the charts")
        assert all(p.file_bytes.startswith(b"\x89PNG") for p in charts)  # the loss so far, and the eval history

        # The next run works, and continues from the checkpoint the killed one left.
        after = botapi.last_id(ADMIN)
        await botapi.send_text(ADMIN, "/retrain")
        done = await botapi.wait_for(lambda: result_after(botapi, after), timeout=900, what="the second run's result")
        run = runs.get_run(service.db, 2)
        assert run["status"] in ("promoted", "rejected"), (run["reason"], done.text)
        assert "checkpoint-" in run["resumed_from"]
        resumed_at = int(run["resumed_from"].rsplit("-", 1)[1])
        assert [s for s, _ in json.loads(run["losses"])] == list(range(resumed_at + 1, 5))  # only the steps still missing
        assert f"Resumed from checkpoint-{resumed_at}" in done.text and resumed_at < 4
        expected = "v1" if run["status"] == "promoted" else "v0"
        assert registry.champion(service.db)["name"] == service.summarizer.version == expected
        await botapi.wait_for(lambda: len(photos_after(botapi, done.message_id)) == 2, timeout=60, what="the charts")


async def test_schedule_waits_for_enough_new_corrections(botapi, make_settings, lead_seed, tmp_path):
    from types import SimpleNamespace

    from apscheduler.triggers.cron import CronTrigger

    from bot import jobs
    from trainer import pairs

    settings = make_settings(botapi, **overrides(lead_seed, **{"training.schedule": "0 3 * * *", "training.min_new_pairs": 2}))
    application = build_application(settings)
    service = application.bot_data["service"]
    context = SimpleNamespace(application=application)
    async with running(application):
        job = application.job_queue.get_jobs_by_name("retrain")[0]
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert isinstance(job.trigger, CronTrigger) and (fields["hour"], fields["minute"]) == ("3", "0") and job.next_t is not None
        pairs.add_pair(service.db, "Story one: " + "word " * 30, "A reader's better summary.", "correction", ref="article:1")
        await jobs.retrain_job(context)
        assert service.db["training_runs"].count == 0  # one new correction < training.min_new_pairs
        pairs.add_pair(service.db, "Story two: " + "word " * 30, "Another reader's summary.", "correction", ref="article:2")
        after = botapi.last_id(ADMIN)
        await jobs.retrain_job(context)
        assert runs.get_run(service.db, 1)["trigger"] == "schedule"
        await botapi.wait_for_message(ADMIN, "Training run #1 started (schedule)", after=after)  # admins follow scheduled runs too
        await botapi.wait_for(lambda: service.training.process is not None, timeout=30, what="the child")
        service.training.process.kill()
        await botapi.wait_for(lambda: result_after(botapi, after), timeout=120, what="the failure report")
        assert runs.get_run(service.db, 1)["status"] == "failed"
