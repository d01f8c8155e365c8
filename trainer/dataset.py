"""The training set: seed files plus accepted corrections, deduplicated, split stably by input hash."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import pairs
from .prompts import build_messages, length_for_reference, truncate_words
from .settings import StyleSettings


PROMPT_OVERHEAD_TOKENS = 96  # system instructions, chat template markers, the request line


class DatasetError(ValueError):
    """A pairs file or the pairs table cannot be used."""


@dataclass
class Example:
    input: str
    output: str
    source: str
    input_hash: str
    length: str


@dataclass
class Split:
    train: list[Example] = field(default_factory=list)
    holdout: list[Example] = field(default_factory=list)
    by_source: dict[str, int] = field(default_factory=dict)


def in_holdout(hash_hex: str, fraction: float) -> bool:
    """Stable: an input's hash decides its side once and for all, whatever else is in the set."""
    return int(hash_hex[:8], 16) / 0x1_0000_0000 < fraction


def read_seed_file(path: Path) -> list[dict]:
    """Read a seed JSONL of {"input", "output"} objects, naming the first bad line."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("input"), str) or not isinstance(obj.get("output"), str):
            raise DatasetError(f"{path}:{n}: expected {{\"input\": str, \"output\": str}}")
        rows.append(obj)
    return rows


def collect(db: sqlite_utils.Database, seed_files: list[Path]) -> list[Example]:
    """All usable pairs, one per input: later sources win (seed < table rows, older < newer)."""
    chosen: dict[str, Example] = {}
    for path in seed_files:
        for obj in read_seed_file(path):
            _offer(chosen, obj["input"], obj["output"], "seed", None)
    for row in pairs.active_pairs(db):
        _offer(chosen, row["input"], row["output"], row["source"], row["length"])
    return list(chosen.values())


def _offer(chosen: dict[str, Example], input: str, output: str, source: str, length: str | None) -> None:
    input, output = input.strip(), output.strip()
    if len(input.split()) < 20 or len(output.split()) < 3:
        return  # too short to teach anything; noise
    h = pairs.input_hash(input)
    chosen[h] = Example(input, output, source, h, length or length_for_reference(output))


def split(examples: list[Example], holdout_fraction: float) -> Split:
    result = Split()
    for ex in examples:
        (result.holdout if in_holdout(ex.input_hash, holdout_fraction) else result.train).append(ex)
        result.by_source[ex.source] = result.by_source.get(ex.source, 0) + 1
    return result


def to_records(examples: list[Example], style: StyleSettings, tokenizer, max_input_tokens: int, max_length: int | None = None) -> list[dict]:
    """Conversational prompt–completion records, as TRL's SFTTrainer takes them.

    The article is cut (at a word boundary) so that prompt and summary fit in ``max_length``:
    SFTTrainer truncates from the end, and a cut summary teaches the model to stop mid-sentence.
    """
    records = []
    for ex in examples:
        budget = max_input_tokens
        if max_length:
            summary_tokens = len(tokenizer(ex.output, add_special_tokens=False)["input_ids"])
            budget = min(budget, max_length - summary_tokens - PROMPT_OVERHEAD_TOKENS)
            if budget < 32:
                continue  # the summary alone nearly fills the window: nothing useful to learn from
        records.append({
            "prompt": build_messages(truncate_words(ex.input, tokenizer, budget), style, ex.length),
            "completion": [{"role": "assistant", "content": ex.output}],
        })
    return records
