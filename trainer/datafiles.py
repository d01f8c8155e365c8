"""Pair files on disk: reading seed JSONL, importing other JSONL layouts, exporting the training set.

The seed layout is one ``{"input": article, "output": summary}`` object a line. Exports load with
``datasets.load_dataset("json", data_files=...)``: ``seed`` writes that layout, ``chat`` writes the
conversational prompt–completion records SFTTrainer trains on, with the split and source of each.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import pairs


class DatasetError(ValueError):
    """A pairs file or the pairs table cannot be used."""


def _json_lines(path: Path):
    """(line number, object) for each non-blank line, naming the first bad one."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{n}: expected a JSON object")
        yield n, obj


def read_seed_file(path: Path) -> list[dict]:
    """Read a seed JSONL of {"input", "output"} objects, naming the first bad line."""
    rows = []
    for n, obj in _json_lines(path):
        if not isinstance(obj.get("input"), str) or not isinstance(obj.get("output"), str):
            raise DatasetError(f"{path}:{n}: expected {{\"input\": str, \"output\": str}}; other layouts: geobrief dataset import")
        rows.append(obj)
    return rows


@dataclass
class ImportReport:
    added: int = 0
    skipped: Counter = field(default_factory=Counter)
    origins: Counter = field(default_factory=Counter)


def import_jsonl(db: sqlite_utils.Database | None, path: Path, input_field: str, output_field: str, origin_field: str | None = None,
                 id_field: str | None = None, to: Path | None = None) -> ImportReport:
    """Read pairs from any JSONL layout into the pairs table (source ``import``), or into a seed file ``to``.

    Re-importing a file replaces its earlier rows (same file name and id), so an import can be repeated.
    """
    path = Path(path)
    report = ImportReport()
    seed_rows = []
    first = True
    for n, obj in _json_lines(path):
        if first and (input_field not in obj or output_field not in obj):
            raise DatasetError(f"{path}:{n}: no field {input_field if input_field not in obj else output_field!r}; fields here: {', '.join(obj)}")
        first = False
        article, summary = obj.get(input_field), obj.get(output_field)
        if not isinstance(article, str) or not isinstance(summary, str) or not article.strip() or not summary.strip():
            report.skipped["empty or not text"] += 1
            continue
        origin = str(obj.get(origin_field) or "") if origin_field else path.stem
        report.origins[origin] += 1
        if to is not None:
            seed_rows.append(json.dumps({"input": article, "output": summary}, ensure_ascii=False))
        else:
            ref = f"{path.name}:{obj.get(id_field) if id_field and obj.get(id_field) is not None else n}"
            pairs.add_pair(db, article, summary, "import", ref=ref, origin=origin)
        report.added += 1
    if to is not None:
        Path(to).parent.mkdir(parents=True, exist_ok=True)
        Path(to).write_text("\n".join(seed_rows) + ("\n" if seed_rows else ""), encoding="utf-8")
    return report


def export_jsonl(split, path: Path, fmt: str = "chat", which: str = "train", records_for=None) -> int:
    """Write ``which`` (train, holdout or all) of ``split`` as JSONL; return the rows written.

    ``records_for(examples)`` turns examples into prompt–completion records (``dataset.to_records``
    with the model's tokenizer), needed for ``fmt="chat"``; examples it drops are not written.
    """
    if fmt not in ("chat", "seed"):
        raise DatasetError(f"unknown export format {fmt!r}: use chat or seed")
    sides = {"train": [("train", split.train)], "holdout": [("holdout", split.holdout)],
             "all": [("train", split.train), ("holdout", split.holdout)]}
    if which not in sides:
        raise DatasetError(f"unknown split {which!r}: use train, holdout or all")
    lines = []
    for side, examples in sides[which]:
        for ex in examples:
            meta = {"split": side, "source": ex.source, "origin": ex.origin, "input_hash": ex.input_hash, "length": ex.length}
            if fmt == "seed":
                lines.append({"input": ex.input, "output": ex.output, **meta})
                continue
            records = records_for([ex])
            if records:
                lines.append({**records[0], **meta})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return len(lines)
