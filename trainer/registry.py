"""Model versions: every fine-tune kept in ``models/vN`` (adapter + model card) with a row here; one champion serves.

v0 is the base model. A candidate becomes champion only through the eval gate or an admin's rollback;
every change of champion is recorded in ``model_events`` with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from .store import utcnow

CARD_METRICS = ("rouge1", "rouge2", "rougeLsum", "length_error", "unsupported")


class VersionNotFound(LookupError):
    """No model version by that name or id."""


class RollbackError(ValueError):
    """That version cannot be made champion."""


def ensure_base_version(db: sqlite_utils.Database, base_model: str) -> dict:
    """v0 is the base model itself; it is champion until something beats it."""
    rows = list(db["model_versions"].rows_where("name = 'v0'"))
    if rows:
        if rows[0]["base_model"] != base_model:
            db["model_versions"].update(rows[0]["id"], {"base_model": base_model})
        if not champion(db):
            _set_champion(db, rows[0]["id"], "base model serves until a fine-tune beats it")
        return db["model_versions"].get(rows[0]["id"])
    pk = db["model_versions"].insert(
        {"name": "v0", "base_model": base_model, "adapter_path": None, "status": "candidate", "decision": "base model", "created_at": utcnow()}
    ).last_pk
    if not champion(db):
        _set_champion(db, pk, "base model serves until a fine-tune beats it")
    return db["model_versions"].get(pk)


def champion(db: sqlite_utils.Database) -> dict | None:
    rows = list(db["model_versions"].rows_where("status = 'champion'", order_by="promoted_at desc, id desc", limit=1))
    return rows[0] if rows else None


def get_version(db: sqlite_utils.Database, name_or_id: str | int) -> dict:
    key = str(name_or_id).strip().lower()
    if key.isdigit():
        key = f"v{key}"
    rows = list(db["model_versions"].rows_where("name = ?", [key]))
    if not rows:
        raise VersionNotFound(f"no model version {name_or_id!r}; /models or `geobrief models list` lists them")
    return rows[0]


def list_versions(db: sqlite_utils.Database) -> list[dict]:
    return list(db["model_versions"].rows_where(order_by="id"))


def metrics_of(version: dict) -> dict:
    return json.loads(version["metrics"]) if version.get("metrics") else {}


def next_name(db: sqlite_utils.Database) -> str:
    n = db.execute("select count(*) from model_versions").fetchone()[0]
    while list(db["model_versions"].rows_where("name = ?", [f"v{n}"])):
        n += 1
    return f"v{n}"


def register(db: sqlite_utils.Database, name: str, base_model: str, adapter_path: str, parent_id: int | None, metrics: dict,
             train_pairs: int, holdout_pairs: int, params: dict, run_id: int | None, fingerprint: str | None = None) -> dict:
    pk = db["model_versions"].insert(
        {
            "name": name,
            "base_model": base_model,
            "adapter_path": adapter_path,
            "parent_id": parent_id,
            "status": "candidate",
            "metrics": json.dumps(metrics),
            "train_pairs": train_pairs,
            "holdout_pairs": holdout_pairs,
            "params": json.dumps(params),
            "run_id": run_id,
            "fingerprint": fingerprint,
            "created_at": utcnow(),
        }
    ).last_pk
    return db["model_versions"].get(pk)


def record_decision(db: sqlite_utils.Database, version_id: int, promote: bool, reason: str) -> None:
    db["model_versions"].update(version_id, {"decision": reason})
    if promote:
        _set_champion(db, version_id, reason, "promoted")
    else:
        with db.conn:
            db.execute("update model_versions set status = 'rejected' where id = ?", [version_id])
            _event(db, version_id, "rejected", reason)


def rollback(db: sqlite_utils.Database, name_or_id: str | int, models_dir: Path, by: str = "admin") -> dict:
    """Make an earlier version champion again (its files must still be there)."""
    version = get_version(db, name_or_id)
    if version["status"] == "champion":
        raise RollbackError(f"{version['name']} is already serving")
    if version["adapter_path"] and not (Path(models_dir) / version["adapter_path"] / "adapter_config.json").exists():
        raise RollbackError(f"{version['name']}'s adapter files are missing from {models_dir}")
    previous = champion(db)
    reason = f"rolled back by {by} from {previous['name'] if previous else 'none'}"
    if version["status"] == "rejected":
        reason += "; the eval gate had rejected it"  # allowed: an admin may know better than the gate
    _set_champion(db, version["id"], reason, "rolled_back")
    return db["model_versions"].get(version["id"])


def events(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    """Champion changes and rejections, newest first, with the version name."""
    return list(db.query("select e.*, v.name from model_events e join model_versions v on v.id = e.version_id order by e.id desc limit ?", [limit]))


def _set_champion(db: sqlite_utils.Database, version_id: int, reason: str, event: str = "promoted") -> None:
    with db.conn:
        db.execute("update model_versions set status = 'retired' where status = 'champion' and id != ?", [version_id])
        db.execute("update model_versions set status = 'champion', promoted_at = ? where id = ?", [utcnow(), version_id])
        _event(db, version_id, event, reason)


def _event(db: sqlite_utils.Database, version_id: int, event: str, reason: str) -> None:
    db.execute("insert into model_events (version_id, event, reason, at) values (?, ?, ?, ?)", [version_id, event, reason, utcnow()])


def adapter_dir(models_dir: Path, version: dict) -> Path | None:
    return Path(models_dir) / version["adapter_path"] if version.get("adapter_path") else None


def write_model_card(out_dir: Path, version: dict, parent: dict, data: dict, metrics: dict, params: dict, promote: bool, reason: str) -> Path:
    """The Hugging Face model card ``README.md`` beside the adapter: base, data, hyperparameters, metrics, parent."""
    cand, base = metrics["candidate"], metrics["baseline"]
    rows = "\n".join(f"| {m} | {base[m]:.4f} | {cand[m]:.4f} |" for m in CARD_METRICS)
    per_source = "\n".join(
        f"| {g} | {int(cand_g['n'])} | {metrics['baseline_by_source'][g]['rougeLsum']:.4f} | {cand_g['rougeLsum']:.4f} |"
        for g, cand_g in metrics.get("candidate_by_source", {}).items()
    )
    sources = ", ".join(f"{k}: {v['train']} train / {v['holdout']} holdout" for k, v in data.get("by_origin", {}).items())
    card = f"""---
base_model: {version['base_model']}
library_name: peft
pipeline_tag: text-generation
tags: [geobrief, lora, summarization, trl, sft]
---
# geobrief {version['name']}

A LoRA adapter for news summarization, fine-tuned by geobrief with TRL's SFTTrainer on readers' corrections
and seed pairs. Load it with `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), this_folder)`.

- Base model: `{version['base_model']}`
- Parent version: {parent['name']} (the champion it was evaluated against)
- Training run: #{version['run_id']}; fingerprint `{version.get('fingerprint') or '-'}`
- Training pairs: {data['train']} (pairs by source: {json.dumps(data['by_source'])}); holdout pairs scored: {version['holdout_pairs']} of {data['holdout']}
- Per source: {sources or '-'}
- Left out as noise: {json.dumps(data.get('dropped', {}))}; articles cut to fit the token budget: {data.get('cut', 0)}
- Training: {metrics.get('train_steps')} steps at batch size {metrics.get('batch_size')} on {metrics.get('device')} ({metrics.get('precision', 'fp32')}), {metrics.get('tokens_per_s')} tokens/s{'; resumed from ' + metrics['resumed_from'] if metrics.get('resumed_from') else ''}
- Decision: **{'promoted' if promote else 'rejected'}** — {reason}

## Holdout metrics

ROUGE F1 with stemming against normalised references; `length_error`: distance from the target word range
of the requested length; `unsupported`: share of numbers and names in a summary that the article lacks.

| metric | {parent['name']} | {version['name']} |
|---|---|---|
{rows}

### ROUGE-Lsum per source

| source | pairs | {parent['name']} | {version['name']} |
|---|---|---|---|
{per_source}

## Hyperparameters

```json
{json.dumps(params, indent=2)}
```
"""
    path = Path(out_dir) / "README.md"
    path.write_text(card, encoding="utf-8")
    return path
