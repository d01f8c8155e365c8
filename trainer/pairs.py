"""Training pairs: (article, better summary) rows in the ``pairs`` table."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import sqlite_utils

from .store import utcnow

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The form two inputs must share to count as the same article."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def input_hash(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def add_pair(db: sqlite_utils.Database, input: str, output: str, source: str, ref: str = "", length: str | None = None,
             origin: str | None = None) -> int:
    """Store a pair; for the same source and ref the latest replaces the earlier one.

    ``origin`` names the dataset an imported pair came from, so ROUGE can be reported per source.
    """
    row = {
        "input": input,
        "output": output.strip(),
        "input_hash": input_hash(input),
        "source": source,
        "ref": ref,
        "length": length,
        "created_at": utcnow(),
        "active": 1,
        "origin": origin,
    }
    with db.conn:
        if ref:
            db.execute("update pairs set active = 0 where source = ? and ref = ? and active = 1", [source, ref])
        pk = db["pairs"].insert(row).last_pk
    return pk


def deactivate(db: sqlite_utils.Database, source: str, ref: str) -> int:
    """Withdraw the pair(s) with this source and ref; return how many were active."""
    with db.conn:
        cur = db.execute("update pairs set active = 0 where source = ? and ref = ? and active = 1", [source, ref])
    return cur.rowcount


def active_pairs(db: sqlite_utils.Database, sources: tuple[str, ...] | None = None) -> list[dict]:
    """Active pairs, oldest first (so later rows win when deduplicating)."""
    where, args = "active = 1", []
    if sources:
        where += f" and source in ({', '.join('?' for _ in sources)})"
        args = list(sources)
    return list(db["pairs"].rows_where(where, args, order_by="id"))


def count_active(db: sqlite_utils.Database, source: str | None = None) -> int:
    if source:
        return db.execute("select count(*) from pairs where active = 1 and source = ?", [source]).fetchone()[0]
    return db.execute("select count(*) from pairs where active = 1").fetchone()[0]


def count_new_since(db: sqlite_utils.Database, since: str | None, source: str = "correction") -> int:
    """Active pairs of ``source`` stored since ``since`` (an ISO time, inclusive: a tie counts as new; None = ever)."""
    if not since:
        return count_active(db, source)
    return db.execute("select count(*) from pairs where active = 1 and source = ? and created_at >= ?", [source, since]).fetchone()[0]
