"""Training runs and the lock that keeps them one at a time."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from . import pairs
from .store import utcnow

ACTIVE = ("queued", "running")


class TrainingBusy(RuntimeError):
    """Another training run holds the lock."""


def create_run(db: sqlite_utils.Database, trigger: str, pairs_seen: int = 0) -> int:
    return db["training_runs"].insert({"trigger": trigger, "status": "queued", "started_at": utcnow(), "pairs_seen": pairs_seen}).last_pk


def get_run(db: sqlite_utils.Database, run_id: int) -> dict:
    return db["training_runs"].get(run_id)


def update_run(db: sqlite_utils.Database, run_id: int, **fields) -> None:
    for key in ("progress", "losses"):
        if key in fields and not isinstance(fields[key], str):
            fields[key] = json.dumps(fields[key])
    db["training_runs"].update(run_id, fields)


def finish_run(db: sqlite_utils.Database, run_id: int, status: str, reason: str, version_id: int | None = None) -> None:
    update_run(db, run_id, status=status, reason=reason, version_id=version_id, finished_at=utcnow())


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale(db: sqlite_utils.Database, queued_timeout_s: int = 600) -> list[int]:
    """Mark runs whose process is gone as failed, so a crash never leaves a run 'running' forever.

    A run still 'queued' long after it was created never got a process (its launcher died first).
    """
    reaped = []
    for run in db["training_runs"].rows_where("status = 'running'"):
        if not _alive(run["pid"]):
            finish_run(db, run["id"], "failed", run["reason"] or "the training process exited without finishing (crash, OOM or kill)")
            reaped.append(run["id"])
    cutoff = (datetime.now(timezone.utc) - timedelta(seconds=queued_timeout_s)).isoformat(timespec="seconds")
    for run in db["training_runs"].rows_where("status = 'queued' and started_at < ?", [cutoff]):
        finish_run(db, run["id"], "failed", "the training process never started")
        reaped.append(run["id"])
    return reaped


def active_run(db: sqlite_utils.Database) -> dict | None:
    reap_stale(db)
    rows = list(db["training_runs"].rows_where("status = 'running'", order_by="id desc", limit=1))
    return rows[0] if rows else None


def last_run(db: sqlite_utils.Database) -> dict | None:
    rows = list(db["training_runs"].rows_where(order_by="id desc", limit=1))
    return rows[0] if rows else None


def last_completed_run(db: sqlite_utils.Database) -> dict | None:
    """The newest run that trained and was judged (promoted or rejected); failed runs taught nothing."""
    rows = list(db["training_runs"].rows_where("status in ('promoted', 'rejected')", order_by="id desc", limit=1))
    return rows[0] if rows else None


def new_pairs_since_last_run(db: sqlite_utils.Database, source: str = "correction") -> int:
    """Accepted pairs stored since the last completed run started: what a scheduled run waits for."""
    last = last_completed_run(db)
    return pairs.count_new_since(db, last["started_at"] if last else None, source)


class TrainingLock:
    """An exclusive flock on ``models/.training.lock``; the kernel drops it when the holder dies."""

    def __init__(self, models_dir: Path):
        self.path = Path(models_dir) / ".training.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise TrainingBusy("another training run is in progress") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        try:
            self.acquire()
        except TrainingBusy:
            return True
        self.release()
        return False

    def __enter__(self) -> "TrainingLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
