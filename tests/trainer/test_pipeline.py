"""Real short fine-tunes of the real base model through the whole run: promoted, rejected, and what each leaves behind."""

from __future__ import annotations

import json
import math

import pytest
import sqlite_utils

from trainer import registry, runs
from trainer.pipeline import run_training

pytestmark = [pytest.mark.model, pytest.mark.training]


def test_a_real_improvement_is_promoted_and_recorded(trained):
    outcome, root = trained.outcome, trained.root
    assert outcome.status == "promoted", outcome.reason
    db = sqlite_utils.Database(root / "geobrief.db")
    assert registry.champion(db)["name"] == "v1"
    v1 = registry.get_version(db, "v1")
    metrics = json.loads(v1["metrics"])
    gain = metrics["candidate"]["rougeLsum"] - metrics["baseline"]["rougeLsum"]
    assert gain >= trained.cfg.eval.min_improvement and v1["decision"] == outcome.reason and "rougeLsum" in outcome.reason
    assert set(metrics["candidate"]) >= {"rouge1", "rouge2", "rougeLsum", "length_error", "unsupported", "n"}
    assert metrics["baseline_version"] == "v0" and set(metrics["candidate_by_source"]) == {"lead"}
    assert [e["event"] for e in registry.events(db)][:1] == ["promoted"]

    run = runs.get_run(db, outcome.run_id)
    assert run["status"] == "promoted" and run["version_id"] == v1["id"] and run["reason"] == outcome.reason
    losses = json.loads(run["losses"])
    assert [s for s, _ in losses] == [1, 2, 3, 4, 5, 6] and all(math.isfinite(l) for _, l in losses)  # loss was logged each step
    assert losses[-1][1] < losses[0][1]
    assert metrics["tokens_per_s"] > 0 and metrics["train_steps"] == 6

    train = [e for e in trained.events if e["stage"] == "train" and e.get("loss") is not None]
    assert [e["step"] for e in train] == [1, 2, 3, 4, 5, 6] and all(e["total"] == 6 for e in train)
    assert train[0]["eta_s"] > 0 and train[-1]["eta_s"] == 0
    assert trained.events[-1] == {"stage": "done", "status": "promoted", "reason": outcome.reason, "version": "v1"}


def test_version_folder_holds_adapter_and_model_card(trained):
    folder = trained.root / "models" / "v1"
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md", "dataset.json", "eval.jsonl"} <= {p.name for p in folder.iterdir()}
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["peft_type"] == "LORA"
    card = (folder / "README.md").read_text()
    for expected in (f"base_model: {trained.cfg.model.base}", "Parent version: v0", "Decision: **promoted**", "| rougeLsum |",
                     '"learning_rate": 0.0005', '"lora_r": 8', "Training pairs: 31", "lead: 31 train / 9 holdout", "### ROUGE-Lsum per source"):
        assert expected in card, expected
    assert not (trained.root / "models" / ".work").exists() or not any((trained.root / "models" / ".work").iterdir())


def test_no_holdout_input_reaches_training(trained):
    manifest = json.loads((trained.root / "models" / "v1" / "dataset.json").read_text())
    assert manifest["train"] and manifest["holdout"] and not set(manifest["train"]) & set(manifest["holdout"])
    db = sqlite_utils.Database(trained.root / "geobrief.db")
    from trainer import dataset

    holdout = dataset.build(db, trained.cfg.training.seed_files, trained.cfg.training.holdout_fraction).holdout
    assert {e.input_hash for e in holdout} == set(manifest["holdout"])
    prompts = [r["prompt"][1]["content"] for r in trained.records]  # exactly what the fine-tune was given
    assert len(prompts) == 31
    for ex in holdout:
        assert not any(ex.input[:80] in p for p in prompts), "a holdout article was trained on"
        assert not any(ex.output in r["completion"][0]["content"] for r in trained.records)


def test_run_rejected_by_the_gate_keeps_the_champion(trained, tmp_path):
    root = trained.copy_to(tmp_path / "reg")
    cfg = trained.config_at(root)
    cfg.training.max_steps = 2
    cfg.eval.min_improvement = 0.5  # no 2-step fine-tune gains 0.5 ROUGE over the v1 champion
    db = sqlite_utils.Database(root / "geobrief.db")
    events = []
    outcome = run_training(db, cfg, report=events.append)
    assert outcome.status == "rejected" and "needs ≥ +0.5000" in outcome.reason
    assert registry.champion(db)["name"] == "v1"
    v2 = registry.get_version(db, "v2")
    assert v2["status"] == "rejected" and v2["decision"] == outcome.reason and v2["parent_id"] == registry.get_version(db, "v1")["id"]
    metrics = json.loads(v2["metrics"])
    assert metrics["baseline_version"] == "v1" and metrics["candidate"]["n"] == 6 and metrics["baseline"]["n"] == 6
    assert registry.events(db)[0]["event"] == "rejected" and registry.events(db)[0]["reason"] == outcome.reason
    assert runs.get_run(db, outcome.run_id)["status"] == "rejected"
    assert "Decision: **rejected**" in (root / "models" / "v2" / "README.md").read_text()  # kept, like every version
    assert not runs.TrainingLock(cfg.model.models_dir).held_elsewhere()


def test_a_run_without_holdout_fails_before_training(trained, tmp_path, db):
    cfg = trained.config_at(tmp_path)
    cfg.eval.min_holdout, cfg.eval.max_holdout = 50, 60
    events = []
    outcome = run_training(db, cfg, report=events.append)
    assert outcome.status == "failed" and "only 9 holdout pairs (eval.min_holdout = 50)" in outcome.reason
    assert not any(e["stage"] == "train" for e in events)
    assert registry.champion(db)["name"] == "v0" and runs.get_run(db, outcome.run_id)["reason"] == outcome.reason
