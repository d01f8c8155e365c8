"""Running ``geobrief train`` as a child process and following it from the bot.

The child reports JSON progress lines; one message per admin chat is edited into a live progress bar,
and after the run each admin gets the result, the loss curve and the eval history as PNGs. A child
that crashes, runs out of memory or is killed leaves the run failed with the reason; the champion is
untouched and the training lock (an flock) dies with the child.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from telegram.error import TelegramError

from trainer import pairs, plots, registry, runs
from trainer.progress import bar, parse_line

from .settings import Settings
from .telegram_html import escape

log = logging.getLogger(__name__)


class TrainingRefused(RuntimeError):
    """A run cannot start now; the message says why."""


def settings_json(settings: Settings) -> str:
    """The effective settings for the child, without the bot token."""

    def plain(obj):
        if isinstance(obj, Path):
            return str(obj)
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items() if v is not None}
        if isinstance(obj, list):
            return [plain(v) for v in obj]
        return obj

    data = plain(asdict(settings))
    data["telegram"].pop("token", None)
    data["telegram"].pop("webhook_secret", None)
    data.pop("config_path", None)
    return json.dumps(data)


@dataclass
class TrainingJob:
    run_id: int
    trigger: str
    chat_ids: list[int]
    messages: dict[int, int] = field(default_factory=dict)   # chat -> progress message id
    last_event: dict = field(default_factory=dict)
    task: asyncio.Task | None = None
    process: asyncio.subprocess.Process | None = None
    outcome: dict = field(default_factory=dict)
    losses: list[tuple[int, float]] = field(default_factory=list)


def describe(event: dict) -> str:
    stage = event.get("stage")
    if stage == "train" and event.get("total"):
        eta = f", about {_duration(event['eta_s'])} left" if event.get("eta_s") is not None else ""
        loss = f"loss {event['loss']:.3f}" if event.get("loss") is not None else "first step running"
        resumed = f"\nresumed from {Path(event['resumed_from']).name}" if event.get("resumed_from") else ""
        return f"Training: step {event['step']}/{event['total']} {bar(event['step'] / event['total'])}\n{loss}{eta}{resumed}"
    if stage == "dataset":
        if "train" in event:
            dropped = sum((event.get("dropped") or {}).values())
            return f"Dataset: {event['train']} training pairs, {event['holdout']} held out" + (f", {dropped} left out as noise" if dropped else "")
        return "Building the dataset…"
    if stage == "eval":
        return f"Evaluating the candidate against the serving model on {event.get('holdout', '?')} held-out pairs…"
    return "Starting…"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 90 else f"{seconds} s"


async def start_training(application, trigger: str, notify: list[int]) -> TrainingJob:
    """Launch a run now unless one is in flight; progress is edited into a message in each ``notify`` chat."""
    service = application.bot_data["service"]
    if service.training and service.training.task and not service.training.task.done():
        raise TrainingRefused(f"training run #{service.training.run_id} is still in progress")
    if runs.active_run(service.db) or runs.TrainingLock(service.settings.model.models_dir).held_elsewhere():
        raise TrainingRefused("another training run is in progress (started outside this bot)")
    run_id = runs.create_run(service.db, trigger, pairs.count_active(service.db, "correction"))
    job = TrainingJob(run_id, trigger, list(dict.fromkeys(notify)))
    service.training = job
    job.task = asyncio.create_task(_follow(application, job), name=f"training-run-{run_id}")
    return job


async def _notify(bot, job: TrainingJob, text: str, final: bool = False) -> None:
    for chat_id in job.chat_ids:
        try:
            if chat_id in job.messages and not final:
                await bot.edit_message_text(text, chat_id=chat_id, message_id=job.messages[chat_id])
            else:
                msg = await bot.send_message(chat_id, text)
                job.messages.setdefault(chat_id, msg.message_id)
        except TelegramError as exc:
            if "not modified" not in str(exc):
                log.warning("cannot update training message in %s: %s", chat_id, exc)


async def _follow(application, job: TrainingJob) -> None:
    service = application.bot_data["service"]
    settings = service.settings
    bot = application.bot
    log_dir = settings.model.models_dir / "runs"
    log_dir.mkdir(parents=True, exist_ok=True)
    settings_file = log_dir / f"run-{job.run_id}.settings.json"
    settings_file.write_text(settings_json(settings), encoding="utf-8")
    log_path = log_dir / f"run-{job.run_id}.log"
    await _notify(bot, job, f"Training run #{job.run_id} started ({job.trigger}).")
    try:
        with open(log_path, "wb") as stderr:
            job.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "train", "--settings-json", str(settings_file), "--run-id", str(job.run_id), "--progress", "json",
                stdout=asyncio.subprocess.PIPE, stderr=stderr, env={**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"},
                cwd=str(Path(__file__).resolve().parent.parent),
            )
            last_edit = 0.0
            async for raw in job.process.stdout:
                event = parse_line(raw.decode("utf-8", "replace"))
                if not event:
                    continue
                previous, job.last_event = job.last_event, event
                stage_changed = event.get("stage") != previous.get("stage") or ("train" in event) != ("train" in previous)
                if event.get("stage") == "train":
                    if not stage_changed:  # keep "resumed from …" on the bar for the whole run
                        event.setdefault("resumed_from", previous.get("resumed_from"))
                    if event.get("loss") is not None:
                        job.losses.append((event["step"], event["loss"]))
                if event.get("stage") == "done":
                    continue
                service.db["training_runs"].update(job.run_id, {"progress": json.dumps(event)})
                if stage_changed or time.monotonic() - last_edit > 3:
                    last_edit = time.monotonic()
                    await _notify(bot, job, f"Training run #{job.run_id}\n{describe(event)}")
            code = await job.process.wait()
    except Exception as exc:  # launching failed: record it, keep serving
        log.exception("training run %s could not run", job.run_id)
        runs.finish_run(service.db, job.run_id, "failed", f"could not start the training process: {exc}")
        code = None
    run = runs.get_run(service.db, job.run_id)
    if run["status"] in runs.ACTIVE:
        tail = _tail(log_path)
        reason = f"the training process exited with code {code}" + (f": {tail}" if tail else "")
        if code is not None and code < 0:
            reason = f"the training process was killed ({_signal_name(-code)})" + (f"; last log line: {tail}" if tail else "")
        runs.finish_run(service.db, job.run_id, "failed", reason)
        run = runs.get_run(service.db, job.run_id)
    job.outcome = run
    await _report(application, job, run)


async def _report(application, job: TrainingJob, run: dict) -> None:
    service = application.bot_data["service"]
    serving = service.summarizer.version if service.summarizer else "?"
    version = service.db["model_versions"].get(run["version_id"]) if run["version_id"] else None
    reason = escape(run["reason"] or "")
    if run["status"] == "promoted":
        try:
            serving = await service.swap_to_champion()
            text = f"✅ Run #{run['id']}: {version['name']} promoted and now serving.\n{reason}"
        except Exception as exc:
            log.exception("cannot load the promoted model")
            text = f"⚠️ Run #{run['id']}: {version['name']} was promoted but could not be loaded ({escape(str(exc))}); still serving {serving}."
    elif run["status"] == "rejected":
        text = f"❌ Run #{run['id']}: {version['name']} rejected by the eval gate; {serving} keeps serving.\n{reason}"
    else:
        text = f"⚠️ Run #{run['id']} failed; {serving} keeps serving.\n{reason}"
    if run.get("resumed_from"):
        text += f"\n(Resumed from {escape(Path(run['resumed_from']).name)}, left by an interrupted run.)"
    await _notify(application.bot, job, text, final=True)
    await _send_charts(application, job, run)


async def _send_charts(application, job: TrainingJob, run: dict) -> None:
    """The run's loss curve (what training logged, even if it failed later) and the gate's history across versions."""
    service = application.bot_data["service"]
    losses = json.loads(run["losses"]) if run.get("losses") else job.losses
    metric = service.settings.eval.primary_metric
    versions = registry.list_versions(service.db)
    try:
        loss_png = await asyncio.to_thread(plots.loss_curve, [tuple(x) for x in losses], f"Run #{run['id']} training loss")
        history_png = await asyncio.to_thread(plots.eval_history, versions, metric)
    except Exception:  # a chart is a nicety; the result message is already out
        log.exception("cannot draw the training charts")
        return
    for chat_id in job.chat_ids:
        for png, name, caption in ((loss_png, f"run-{run['id']}-loss.png", f"Run #{run['id']}: training loss by step"),
                                   (history_png, "eval-history.png", f"Holdout {metric} of every version")):
            try:
                await application.bot.send_photo(chat_id, photo=png, filename=name, caption=caption)
            except TelegramError as exc:
                log.warning("cannot send %s to %s: %s", name, chat_id, exc)


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return f"{name}: out of memory, or stopped by an operator" if name == "SIGKILL" else name


def _tail(path: Path) -> str:
    try:
        lines = [l for l in path.read_text(encoding="utf-8", errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""
