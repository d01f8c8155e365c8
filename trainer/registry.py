"""Model versions: every fine-tune kept on disk with a row here; exactly one champion serves."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from .store import utcnow


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
            _set_champion(db, rows[0]["id"])
        return db["model_versions"].get(rows[0]["id"])
    pk = db["model_versions"].insert(
        {"name": "v0", "base_model": base_model, "adapter_path": None, "status": "candidate", "decision": "base model", "created_at": utcnow()}
    ).last_pk
    if not champion(db):
        _set_champion(db, pk)
    return db["model_versions"].get(pk)


def champion(db: sqlite_utils.Database) -> dict | None:
    rows = list(db["model_versions"].rows_where("status = 'champion'", order_by="promoted_at desc", limit=1))
    return rows[0] if rows else None


def get_version(db: sqlite_utils.Database, name_or_id: str | int) -> dict:
    key = str(name_or_id).strip().lower()
    if key.isdigit():
        key = f"v{key}"
    rows = list(db["model_versions"].rows_where("name = ?", [key]))
    if not rows:
        raise VersionNotFound(f"no model version {name_or_id!r}; /models lists them")
    return rows[0]


def list_versions(db: sqlite_utils.Database) -> list[dict]:
    return list(db["model_versions"].rows_where(order_by="id"))


def next_name(db: sqlite_utils.Database) -> str:
    n = db.execute("select count(*) from model_versions").fetchone()[0]
    while list(db["model_versions"].rows_where("name = ?", [f"v{n}"])):
        n += 1
    return f"v{n}"


def register(db: sqlite_utils.Database, name: str, base_model: str, adapter_path: str, parent_id: int | None, metrics: dict,
             train_pairs: int, holdout_pairs: int, params: dict, run_id: int | None) -> dict:
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
            "created_at": utcnow(),
        }
    ).last_pk
    return db["model_versions"].get(pk)


def record_decision(db: sqlite_utils.Database, version_id: int, promote: bool, reason: str) -> None:
    db["model_versions"].update(version_id, {"decision": reason})
    if promote:
        _set_champion(db, version_id)
    else:
        db["model_versions"].update(version_id, {"status": "rejected"})


def rollback(db: sqlite_utils.Database, name_or_id: str | int, models_dir: Path) -> dict:
    """Make an earlier version champion again (its files must still be there)."""
    version = get_version(db, name_or_id)
    if version["status"] == "champion":
        raise RollbackError(f"{version['name']} is already serving")
    if version["adapter_path"] and not (Path(models_dir) / version["adapter_path"] / "adapter_config.json").exists():
        raise RollbackError(f"{version['name']}'s adapter files are missing from {models_dir}")
    if version["status"] == "rejected":
        # allowed, but recorded: an admin may know better than the gate
        db["model_versions"].update(version["id"], {"decision": (version["decision"] or "") + " | promoted by rollback despite the gate"})
    _set_champion(db, version["id"])
    return db["model_versions"].get(version["id"])


def _set_champion(db: sqlite_utils.Database, version_id: int) -> None:
    with db.conn:
        db.execute("update model_versions set status = 'retired' where status = 'champion' and id != ?", [version_id])
        db.execute("update model_versions set status = 'champion', promoted_at = ? where id = ?", [utcnow(), version_id])


def adapter_dir(models_dir: Path, version: dict) -> Path | None:
    return Path(models_dir) / version["adapter_path"] if version.get("adapter_path") else None
