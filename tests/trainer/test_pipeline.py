"""A real short fine-tune of the real base model, used without the bot: the gate's rejection is recorded."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from trainer import registry, store
from trainer.pipeline import TrainerConfig, run_training
from trainer.settings import EvalSettings, ModelSettings, StyleSettings, TrainingSettings

pytestmark = [pytest.mark.model, pytest.mark.training]


def test_run_rejected_by_gate_keeps_champion(tmp_path, base_model_path, shared_data):
    db = sqlite_utils.Database(tmp_path / "t.db")
    store.migrate(db)
    rows = [json.loads(l) for l in (shared_data / "news_pairs.jsonl").read_text().splitlines()][:30]
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": r["article"][:1200], "output": r["summary"]}) for r in rows))
    cfg = TrainerConfig(
        model=ModelSettings(base=base_model_path, models_dir=tmp_path / "models", device="cpu", max_input_tokens=192),
        style=StyleSettings(length="brief"),
        training=TrainingSettings(seed_files=[seed], max_steps=2, max_length=256, holdout_fraction=0.2),
        eval=EvalSettings(max_holdout=3, min_improvement=0.5),  # no 2-step fine-tune gains 0.5 ROUGE
    )
    events = []
    outcome = run_training(db, cfg, report=events.append)
    assert outcome.status == "rejected", outcome.reason
    assert "needs" in outcome.reason
    assert registry.champion(db)["name"] == "v0"
    v1 = registry.get_version(db, "v1")
    assert v1["status"] == "rejected" and v1["decision"] == outcome.reason
    assert json.loads(v1["metrics"])["candidate"]["n"] == 3
    assert [e["stage"] for e in events if e["stage"] == "train"]  # progress was reported
    assert events[-1]["stage"] == "done"
    assert db["training_runs"].get(outcome.run_id)["status"] == "rejected"
