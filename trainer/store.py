"""Migrations for the trainer's tables: ``pairs``, ``model_versions``, ``model_events``, ``training_runs``."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("trainer")


@migrations()
def m001_create_tables(db: sqlite_utils.Database) -> None:
    db["pairs"].create(
        {
            "id": int,
            "input": str,
            "output": str,
            "input_hash": str,
            "source": str,      # seed, correction, thumbs_up, import
            "ref": str,         # where it came from (correction id, file name)
            "length": str,      # brief / standard / detailed, when known
            "created_at": str,
            "active": int,
        },
        pk="id",
        not_null={"input", "output", "input_hash", "source"},
        defaults={"active": 1},
    )
    db["pairs"].create_index(["input_hash"])
    db["pairs"].create_index(["source", "ref"])
    db["model_versions"].create(
        {
            "id": int,
            "name": str,
            "base_model": str,
            "adapter_path": str,
            "parent_id": int,
            "status": str,      # champion, candidate, rejected, retired
            "metrics": str,     # JSON: candidate and baseline scores on the holdout
            "decision": str,    # why it was promoted or rejected
            "train_pairs": int,
            "holdout_pairs": int,
            "params": str,      # JSON hyperparameters
            "run_id": int,
            "created_at": str,
            "promoted_at": str,
        },
        pk="id",
        not_null={"name", "status"},
    )
    db["model_versions"].create_index(["name"], unique=True)
    db["training_runs"].create(
        {
            "id": int,
            "trigger": str,
            "status": str,      # queued, running, promoted, rejected, failed
            "pid": int,
            "started_at": str,
            "finished_at": str,
            "version_id": int,
            "reason": str,
            "progress": str,    # JSON of the last progress event
            "pairs_seen": int,  # accepted correction pairs when the run started
        },
        pk="id",
    )


@migrations()
def m002_origin_resume_events(db: sqlite_utils.Database) -> None:
    """Per-source reporting of imported pairs, resumable runs, and an audit trail of champion changes."""
    db["pairs"].add_column("origin", str)             # the dataset a pair came from (e.g. "XSum"), for ROUGE per source
    db["training_runs"].add_column("resumed_from", str)  # checkpoint a run continued from, when it did
    db["training_runs"].add_column("losses", str)     # JSON [[step, loss], ...] as training logged them
    db["model_versions"].add_column("fingerprint", str)  # hash of base, data and hyperparameters
    db["model_events"].create(
        {"id": int, "version_id": int, "event": str, "reason": str, "at": str},  # promoted, rejected, rolled_back
        pk="id",
    )


def migrate(db: sqlite_utils.Database) -> None:
    """Create or upgrade this package's tables."""
    migrations.apply(db)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
