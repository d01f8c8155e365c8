"""Opening the one SQLite file and bringing every package's tables up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

import feeds.store
import trainer.store

from . import store


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database in WAL mode and apply pending migrations."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma busy_timeout = 30000")
    db.execute("pragma synchronous = normal")  # safe with WAL; a commit per delivered message stays cheap
    db.execute("pragma foreign_keys = on")
    feeds.store.migrate(db)
    trainer.store.migrate(db)
    store.migrate(db)
    return db
