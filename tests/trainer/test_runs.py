"""Runs, the one-at-a-time lock, the schedule's new-pair count, and the multi-GPU launch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trainer import launch, pairs, runs
from trainer.settings import TrainingSettings

ROOT = Path(__file__).resolve().parents[2]


def article(i: int) -> str:
    return f"Story {i}: " + " ".join(f"w{i}_{k}" for k in range(30))


def test_new_pairs_are_counted_since_the_last_completed_run(db):
    for i in range(3):
        pairs.add_pair(db, article(i), "A corrected summary here.", "correction", ref=f"article:{i}")
    assert runs.new_pairs_since_last_run(db) == 3
    done = runs.create_run(db, "schedule")
    db.execute("update training_runs set started_at = '2999-01-01T00:00:00+00:00' where id = ?", [done])  # after every pair so far
    runs.finish_run(db, done, "rejected", "gate")
    failed = runs.create_run(db, "schedule")
    runs.finish_run(db, failed, "failed", "killed")  # a failed run taught nothing: it does not reset the count
    assert runs.new_pairs_since_last_run(db) == 0
    db.execute("update training_runs set started_at = '2000-01-01T00:00:00+00:00' where id = ?", [done])
    pairs.add_pair(db, article(9), "Another corrected summary.", "correction", ref="article:9")
    pairs.add_pair(db, article(8), "An imported one, not a correction.", "import", ref="f:8")
    assert runs.new_pairs_since_last_run(db) == 4


def test_stale_runs_are_reaped(db):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running = runs.create_run(db, "cli")
    runs.update_run(db, running, status="running", pid=dead.pid)
    queued = runs.create_run(db, "bot")
    db.execute("update training_runs set started_at = '2000-01-01T00:00:00+00:00' where id = ?", [queued])
    fresh = runs.create_run(db, "bot")  # just created: its child may be starting
    assert sorted(runs.reap_stale(db)) == [running, queued]
    assert runs.get_run(db, running)["reason"].startswith("the training process exited without finishing")
    assert runs.get_run(db, queued)["reason"] == "the training process never started"
    assert runs.get_run(db, fresh)["status"] == "queued"


def test_the_lock_dies_with_a_killed_holder(tmp_path):
    code = f"from trainer.runs import TrainingLock; TrainingLock({str(tmp_path)!r}).acquire(); print('held', flush=True); import time; time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    lock = runs.TrainingLock(tmp_path)
    assert lock.held_elsewhere()
    with pytest.raises(runs.TrainingBusy):
        lock.acquire()
    holder.kill()
    holder.wait()
    assert not lock.held_elsewhere()


def test_several_gpus_launch_through_accelerate_with_the_shipped_configs(tmp_path):
    from accelerate.commands.config.config_args import load_config_from_file

    ddp = launch.launch_command(TrainingSettings(num_processes=4), tmp_path)
    zero2 = launch.launch_command(TrainingSettings(num_processes=2, deepspeed=True), tmp_path)
    assert ddp[1:3] == ["-m", "accelerate.commands.launch"] and ddp[-3:] == ["-m", "trainer.finetune", str(tmp_path)]
    assert ddp[ddp.index("--num_processes") + 1] == "4" and zero2[zero2.index("--num_processes") + 1] == "2"
    assert ddp[ddp.index("--mixed_precision") + 1] == "bf16"
    fp32 = launch.launch_command(TrainingSettings(num_processes=2, precision="fp32"), tmp_path)
    assert fp32[fp32.index("--mixed_precision") + 1] == "no"
    ddp_cfg = load_config_from_file(ddp[ddp.index("--config_file") + 1])
    zero2_cfg = load_config_from_file(zero2[zero2.index("--config_file") + 1])
    assert ddp_cfg.distributed_type.name == "MULTI_GPU" and ddp_cfg.mixed_precision == "bf16"
    assert zero2_cfg.distributed_type.name == "DEEPSPEED" and zero2_cfg.deepspeed_config["zero_stage"] == 2


@pytest.mark.model
@pytest.mark.training
def test_the_program_each_gpu_runs_trains_the_job_it_is_given(tmp_path, base_model_path, shared_data):
    """``python -m trainer.finetune WORK`` — what accelerate starts on every GPU — on the CPU, one step."""
    from tests.helpers.training import lead_pairs
    from trainer import dataset
    from trainer.finetune import read_result, write_job
    from trainer.modeling import load_tokenizer
    from trainer.progress import parse_line
    from trainer.settings import StyleSettings

    examples = [dataset.Example(p["input"], p["output"], "seed", pairs.input_hash(p["input"]), "brief") for p in lead_pairs(shared_data / "news_pairs.jsonl", 2)]
    records = dataset.to_records(examples, StyleSettings(), load_tokenizer(base_model_path), 64, 160)
    write_job(tmp_path, records, base_model_path, TrainingSettings(max_steps=1, batch_size=2, max_length=160), "cpu")
    out = subprocess.run([sys.executable, "-m", "trainer.finetune", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    events = [e for e in map(parse_line, out.stdout.splitlines()) if e]
    assert [e["step"] for e in events] == [0, 1] and events[-1]["loss"] > 0  # progress lines for the parent to relay
    result = read_result(tmp_path)
    assert result.steps == 1 and (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    assert json.loads((tmp_path / "job.json").read_text())["training"]["max_steps"] == 1
