"""The training set: dedupe by normalised input, a split that never moves, no holdout in training."""

from __future__ import annotations

import json

import pytest

from trainer import dataset, pairs


def article(i: int) -> str:
    return f"Article {i}: " + " ".join(f"word{i}_{k}" for k in range(40))


def test_split_is_stable_and_disjoint(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": article(i), "output": f"Summary number {i} of the day."}) for i in range(200)))
    first = dataset.split(dataset.collect(db, [seed]), 0.2)
    # more data arrives (corrections); no earlier input changes side
    for i in range(200, 260):
        pairs.add_pair(db, article(i), f"Corrected summary {i} here.", "correction", ref=f"article:{i}")
    second = dataset.split(dataset.collect(db, [seed]), 0.2)
    held1 = {e.input_hash for e in first.holdout}
    held2 = {e.input_hash for e in second.holdout}
    train2 = {e.input_hash for e in second.train}
    assert held1 <= held2 and not held1 & {e.input_hash for e in second.train}
    assert not held2 & train2
    assert 0.1 < len(second.holdout) / 260 < 0.3


def test_holdout_input_never_reaches_training_even_when_corrected(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": article(i), "output": f"Summary {i} of the news."}) for i in range(100)))
    split = dataset.split(dataset.collect(db, [seed]), 0.3)
    held = split.holdout[0]
    # the same article, differently spaced and cased, corrected by a reader
    pairs.add_pair(db, "  " + held.input.upper().replace(" ", "   "), "A reader's better summary of it.", "correction", ref="article:x")
    again = dataset.split(dataset.collect(db, [seed]), 0.3)
    assert held.input_hash not in {e.input_hash for e in again.train}
    assert any(e.output == "A reader's better summary of it." for e in again.holdout)  # latest wins, still held out


def test_latest_correction_for_an_article_wins(db):
    pairs.add_pair(db, article(1), "First attempt at a summary.", "correction", ref="article:1")
    pairs.add_pair(db, article(1), "Second, better summary here.", "correction", ref="article:1")
    examples = dataset.collect(db, [])
    assert [e.output for e in examples] == ["Second, better summary here."]


def test_bad_seed_line_is_named(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"input": "a", "output": "b"}\n{"input": 3}\n')
    with pytest.raises(dataset.DatasetError, match="seed.jsonl:2"):
        dataset.collect(db, [seed])
