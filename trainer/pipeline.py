"""One training run end to end: dataset → fine-tune → evaluate against the champion → register → promote or reject."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlite_utils

from . import dataset, evaluate, pairs, registry, runs
from .finetune import finetune
from .modeling import load_model
from .progress import Reporter, null_reporter
from .settings import EvalSettings, ModelSettings, StyleSettings, TrainingSettings
from .summarize import Request, Summarizer

log = logging.getLogger(__name__)


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


def run_training(db: sqlite_utils.Database, cfg: TrainerConfig, run_id: int | None = None, trigger: str = "cli", report: Reporter = null_reporter) -> RunOutcome:
    """Train, evaluate and maybe promote. Never raises for a failed run: it is recorded and returned."""
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
        outcome = _run(db, cfg, run_id, report)
    except Exception as exc:  # the run fails; whoever started it goes on
        log.exception("training run %s failed", run_id)
        reason = f"{type(exc).__name__}: {exc}"[:500]
        runs.finish_run(db, run_id, "failed", reason)
        outcome = RunOutcome(run_id, "failed", reason)
    finally:
        lock.release()
    report({"stage": "done", "status": outcome.status, "reason": outcome.reason, "version": outcome.version})
    return outcome


def _run(db: sqlite_utils.Database, cfg: TrainerConfig, run_id: int, report: Reporter) -> RunOutcome:
    base = cfg.model.base
    champion = registry.ensure_base_version(db, base) if not registry.champion(db) else registry.champion(db)
    report({"stage": "dataset"})
    examples = dataset.collect(db, cfg.training.seed_files)
    split = dataset.split(examples, cfg.training.holdout_fraction)
    if not split.train:
        reason = "no training pairs (add seed files or accept corrections first)"
        runs.finish_run(db, run_id, "failed", reason)
        return RunOutcome(run_id, "failed", reason)
    holdout = split.holdout[-cfg.eval.max_holdout :]
    report({"stage": "dataset", "train": len(split.train), "holdout": len(split.holdout), "by_source": split.by_source})

    name = registry.next_name(db)
    out_dir = cfg.model.models_dir / name
    shutil.rmtree(out_dir, ignore_errors=True)
    from .modeling import load_tokenizer

    tokenizer = load_tokenizer(base)
    records = dataset.to_records(split.train, cfg.style, tokenizer, cfg.model.max_input_tokens, cfg.training.max_length)
    result = finetune(records, base, cfg.training, out_dir, cfg.model.device, report)

    report({"stage": "eval", "holdout": len(holdout)})
    references = [ex.output for ex in holdout]
    articles = [ex.input for ex in holdout]
    requests = [Request(ex.input, ex.length) for ex in holdout]
    champ_adapter = registry.adapter_dir(cfg.model.models_dir, champion)
    baseline = _score(load_model(base, champ_adapter, champion["name"], cfg.model.device), cfg, requests, references, articles)
    candidate = _score(load_model(base, out_dir, name, cfg.model.device), cfg, requests, references, articles)
    decision = evaluate.decide(candidate, baseline, cfg.eval.primary_metric, cfg.eval.min_improvement, cfg.eval.min_holdout)

    metrics = {"candidate": candidate, "baseline": baseline, "baseline_version": champion["name"],
               "train_loss": result.losses, "tokens_per_s": round(result.tokens_per_s, 1), "train_steps": result.steps}
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg.training).items() if k != "seed_files"}
    version = registry.register(db, name, base, name, champion["id"], metrics, len(split.train), len(holdout), params, run_id)
    registry.record_decision(db, version["id"], decision.promote, decision.reason)
    _write_model_card(out_dir, version, champion, split, metrics, params, decision)
    status = "promoted" if decision.promote else "rejected"
    runs.finish_run(db, run_id, status, decision.reason, version["id"])
    return RunOutcome(run_id, status, decision.reason, name, metrics)


def _score(loaded, cfg: TrainerConfig, requests, references, articles) -> dict:
    summaries = Summarizer(loaded, cfg.model.max_input_tokens, cfg.model.batch_size).summarize(requests, cfg.style)
    return evaluate.score([s.text for s in summaries], references, articles)


def _write_model_card(out_dir: Path, version: dict, parent: dict, split, metrics: dict, params: dict, decision) -> None:
    cand, base = metrics["candidate"], metrics["baseline"]
    rows = "\n".join(f"| {m} | {base[m]:.4f} | {cand[m]:.4f} |" for m in ("rouge1", "rouge2", "rougeLsum", "length_error", "unsupported"))
    card = f"""---
base_model: {version['base_model']}
library_name: peft
tags: [geobrief, lora, summarization]
---
# geobrief {version['name']}

LoRA adapter for news summarization, fine-tuned by geobrief on readers' corrections and seed pairs.

- Base model: `{version['base_model']}`
- Parent version: {parent['name']}
- Training pairs: {len(split.train)}; holdout pairs scored: {version['holdout_pairs']}; pairs by source: {json.dumps(split.by_source)}
- Decision: **{'promoted' if decision.promote else 'rejected'}** — {decision.reason}

## Holdout metrics

| metric | {parent['name']} | {version['name']} |
|---|---|---|
{rows}

## Hyperparameters

```json
{json.dumps(params, indent=2)}
```
"""
    (out_dir / "README.md").write_text(card, encoding="utf-8")
