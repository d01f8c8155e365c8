"""What readers made of each model version online, and the 👍-rated summaries offered to training.

Lives in the bot layer because it joins the bot's tables (summaries, outbox, feedback, corrections) on
``summaries.version``; the trainer only ever sees the plain rows ``thumbs_up_pairs`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from trainer.prompts import article_input


@dataclass
class OnlineStats:
    """Per version: summaries delivered, 👍/👎 votes, and summaries readers corrected."""

    delivered: int = 0
    up: int = 0
    down: int = 0
    corrected: int = 0

    @property
    def up_rate(self) -> float | None:
        """Share of votes that were 👍 (None before any vote)."""
        return self.up / (self.up + self.down) if self.up + self.down else None

    @property
    def correction_rate(self) -> float | None:
        """Share of delivered summaries a reader sent a correction for (withdrawn ones not counted)."""
        return self.corrected / self.delivered if self.delivered else None

    def describe(self) -> str:
        if not self.delivered:
            return "not served yet"
        up = f"👍 {self.up_rate:.0%} of {self.up + self.down} votes" if self.up_rate is not None else "no votes"
        return f"{up}; corrected {self.correction_rate:.0%} of {self.delivered} delivered"


def online_stats(db: sqlite_utils.Database) -> dict[str, OnlineStats]:
    """``{version: OnlineStats}`` from what readers received and did."""
    stats: dict[str, OnlineStats] = {}

    def add(sql: str, attr: str | tuple[str, ...]) -> None:
        for version, *values in db.execute(sql).fetchall():
            row = stats.setdefault(version, OnlineStats())
            for name, value in zip((attr,) if isinstance(attr, str) else attr, values):
                setattr(row, name, int(value or 0))

    delivered = "select s.id from summaries s where exists (select 1 from outbox o where o.summary_id = s.id and o.status = 'sent')"
    add(f"select s.version, count(*) from summaries s where s.id in ({delivered}) group by s.version", "delivered")
    add("select s.version, sum(f.rating = 'up'), sum(f.rating = 'down') from feedback f join summaries s on s.id = f.summary_id "
        "group by s.version", ("up", "down"))
    add("select s.version, count(distinct c.summary_id) from corrections c join summaries s on s.id = c.summary_id "
        "where c.status != 'withdrawn' group by s.version", "corrected")
    return stats


def thumbs_up_pairs(db: sqlite_utils.Database) -> list[dict]:
    """Summaries with a 👍 and no 👎 or correction, as (article, summary) rows for ``training.include_thumbs_up``.

    The newest such summary per article; a correction of the article replaces it in the dataset anyway.
    """
    rows = db.execute(
        "select s.id, s.text, s.length, a.title, a.text from summaries s join articles a on a.id = s.article_id "
        "where exists (select 1 from feedback f where f.summary_id = s.id and f.rating = 'up') "
        "and not exists (select 1 from feedback f where f.summary_id = s.id and f.rating = 'down') "
        "and not exists (select 1 from corrections c where c.summary_id = s.id and c.status != 'withdrawn') "
        "order by s.id").fetchall()
    return [{"input": article_input(title, text), "output": summary, "source": "thumbs_up", "length": length, "ref": f"summary:{sid}"}
            for sid, summary, length, title, text in rows]


def dataset_extras(db: sqlite_utils.Database, include_thumbs_up: bool) -> list[dict]:
    """The rows the bot adds to the trainer's dataset (``extra_pairs``)."""
    return thumbs_up_pairs(db) if include_thumbs_up else []
