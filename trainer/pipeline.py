"""One training run end to end: dataset → fine-tune → evaluate against the champion → register → promote or reject.

Never raises for a failed run: the run is recorded as failed with its reason, the champion is untouched
and the lock released. Training happens in ``models/.work/<fingerprint>`` and only a finished, evaluated
adapter becomes ``models/vN``; a run interrupted after a checkpoint resumes from it when the next run
would train the same thing (same base, data and hyperparameters).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlite_utils
import torch

from . import dataset, evaluate, pairs, registry, runs
from .launch import finetune
from .modeling import load_model, load_tokenizer
from .progress import Reporter, null_reporter
from .settings import EvalSettings, ModelSettings, StyleSettings, TrainingSettings
from .summarize import Request, Summarizer

log = logging.getLogger(__name__)
# Settings that change what a fine-tune learns; the others (schedule, where checkpoints go) do not.
_FINGERPRINT_SKIP = {"seed_files", "include_thumbs_up", "holdout_fraction", "save_steps", "schedule", "min_new_pairs"}


@dataclass
class TrainerConfig:
    """The settings a training run reads."""

    model: ModelSettings = field(default_factory=ModelSettings)
    style: StyleSettings = field(default_factory=StyleSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)


@dataclass
class RunOutcome:
    run_id: int
    status: str          # promoted, rejected, failed
    reason: str
    version: str | None = None
    metrics: dict = field(default_factory=dict)


class RunFailed(RuntimeError):
    """The run cannot go on; the message is the reason recorded."""


def run_training(db: sqlite_utils.Database, cfg: TrainerConfig, run_id: int | None = None, trigger: str = "cli",
                 report: Reporter = null_reporter, extra_pairs: list[dict] = ()) -> RunOutcome:
    """Train, evaluate and maybe promote. ``extra_pairs``: rows the caller adds to the dataset (👍-rated summaries)."""
    if run_id is None:
        run_id = runs.create_run(db, trigger, pairs.count_active(db, "correction"))
    lock = runs.TrainingLock(cfg.model.models_dir)
    try:
        lock.acquire()
    except runs.TrainingBusy as exc:
        runs.finish_run(db, run_id, "failed", str(exc))
        return RunOutcome(run_id, "failed", str(exc))
    runs.update_run(db, run_id, status="running", pid=os.getpid())
    try:
        outcome = _run(db, cfg, run_id, report, list(extra_pairs))
    except Exception as exc:  # the run fails; whoever started it goes on
        if not isinstance(exc, RunFailed):
            log.exception("training run %s failed", run_id)
        reason = (str(exc) if isinstance(exc, RunFailed) else f"{type(exc).__name__}: {exc}")[:500]
        runs.finish_run(db, run_id, "failed", reason)
        outcome = RunOutcome(run_id, "failed", reason)
    finally:
        lock.release()
    report({"stage": "done", "status": outcome.status, "reason": outcome.reason, "version": outcome.version})
    return outcome


def fingerprint(base: str, training: TrainingSettings, records: list[dict]) -> str:
    """What a fine-tune learns from: equal fingerprints may share checkpoints."""
    params = {k: v for k, v in asdict(training).items() if k not in _FINGERPRINT_SKIP}
    blob = json.dumps({"base": base, "params": params, "records": records}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _run(db: sqlite_utils.Database, cfg: TrainerConfig, run_id: int, report: Reporter, extra_pairs: list[dict]) -> RunOutcome:
    base, models_dir = cfg.model.base, cfg.model.models_dir
    champion = registry.champion(db) or registry.ensure_base_version(db, base)
    report({"stage": "dataset"})
    data = dataset.build(db, cfg.training.seed_files, cfg.training.holdout_fraction, extra_pairs)
    tokenizer = load_tokenizer(base)
    fitter = dataset.PromptFitter(tokenizer, cfg.style, cfg.model.max_input_tokens, cfg.training.max_length)
    records = dataset.to_records(data.train, cfg.style, tokenizer, cfg.model.max_input_tokens, cfg.training.max_length, fitter)
    holdout = dataset.holdout_sample(data.holdout, cfg.eval.max_holdout)
    stats = {**data.stats(), "cut": fitter.cut, "dropped": {**data.stats()["dropped"], **fitter.dropped}}
    report({"stage": "dataset", "train": len(records), "holdout": len(holdout), "by_source": stats["by_source"], "dropped": stats["dropped"]})
    if not records:
        raise RunFailed("no training pairs (add seed files, import pairs or accept corrections first)")
    if len(holdout) < cfg.eval.min_holdout:
        raise RunFailed(f"only {len(holdout)} holdout pairs (eval.min_holdout = {cfg.eval.min_holdout}); add more pairs before training")

    fp = fingerprint(base, cfg.training, records)
    work = models_dir / ".work" / fp
    for stale in (models_dir / ".work").glob("*"):
        if stale != work:  # trained on other data or settings: cannot be resumed
            shutil.rmtree(stale, ignore_errors=True)
    result = finetune(records, base, cfg.training, work, cfg.model.device, report)
    runs.update_run(db, run_id, resumed_from=result.resumed_from, losses=result.losses)

    report({"stage": "eval", "holdout": len(holdout)})
    baseline, baseline_by, baseline_texts = _score(cfg, base, registry.adapter_dir(models_dir, champion), champion["name"], holdout)
    name = registry.next_name(db)
    candidate, candidate_by, candidate_texts = _score(cfg, base, result.adapter_dir, name, holdout)
    decision = evaluate.decide(candidate, baseline, cfg.eval.primary_metric, cfg.eval.min_improvement, cfg.eval.min_holdout, cfg.eval.tolerances())

    out_dir = models_dir / name
    shutil.rmtree(out_dir, ignore_errors=True)
    result.adapter_dir.rename(out_dir)
    metrics = {"candidate": candidate, "baseline": baseline, "baseline_version": champion["name"],
               "candidate_by_source": candidate_by, "baseline_by_source": baseline_by, "train_loss": result.losses,
               "tokens_per_s": round(result.tokens_per_s, 1), "train_tokens": result.train_tokens, "train_steps": result.steps,
               "train_runtime_s": round(result.runtime_s, 1), "batch_size": result.batch_size, "device": result.device,
               "precision": result.precision,
               "resumed_from": result.resumed_from}
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg.training).items()}
    params["seed_files"] = [Path(p).name for p in cfg.training.seed_files]
    _write_manifest(out_dir, data, holdout, stats, baseline_texts, candidate_texts, champion["name"], name)
    version = registry.register(db, name, base, name, champion["id"], metrics, len(records), len(holdout), params, run_id, fp)
    registry.record_decision(db, version["id"], decision.promote, decision.reason)
    registry.write_model_card(out_dir, version, champion, stats, metrics, params, decision.promote, decision.reason)
    shutil.rmtree(work, ignore_errors=True)
    status = "promoted" if decision.promote else "rejected"
    runs.finish_run(db, run_id, status, decision.reason, version["id"])
    return RunOutcome(run_id, status, decision.reason, name, metrics)


def _score(cfg: TrainerConfig, base: str, adapter: Path | None, name: str, holdout: list[dataset.Example]) -> tuple[dict, dict, list[str]]:
    """Summarize the holdout with one model and score it, pooled and per source; free the model after."""
    loaded = load_model(base, adapter, name, cfg.model.device)
    requests = [Request(ex.input, ex.length) for ex in holdout]
    texts = [s.text for s in Summarizer(loaded, cfg.model.max_input_tokens, cfg.model.batch_size).summarize(requests, cfg.style)]
    del loaded
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    columns = ([ex.output for ex in holdout], [ex.input for ex in holdout], [ex.length for ex in holdout])
    pooled = evaluate.score(texts, *columns)
    by_source = evaluate.score_by_group(texts, *columns, [ex.group for ex in holdout])
    return pooled, by_source, texts


def _write_manifest(out_dir: Path, data: dataset.Split, holdout: list, stats: dict, baseline_texts: list[str],
                    candidate_texts: list[str], baseline_name: str, name: str) -> None:
    """What this version saw: the input hashes on each side of the split, and each holdout summary both models wrote."""
    manifest = {"train": sorted(e.input_hash for e in data.train), "holdout": sorted(e.input_hash for e in data.holdout), "stats": stats}
    (out_dir / "dataset.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    with open(out_dir / "eval.jsonl", "w", encoding="utf-8") as f:
        for ex, b, c in zip(holdout, baseline_texts, candidate_texts):
            f.write(json.dumps({"input_hash": ex.input_hash, "source": ex.group, "reference": ex.output, baseline_name: b, name: c}, ensure_ascii=False) + "\n")
