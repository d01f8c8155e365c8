"""The fine-tune itself, as TRL tests its trainers: loss logged, LoRA weights moved, base weights not; completion-only loss; resume."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.helpers.training import lead_pairs
from trainer import dataset, finetune
from trainer.modeling import load_tokenizer
from trainer.pairs import input_hash
from trainer.settings import StyleSettings, TrainingSettings

pytestmark = [pytest.mark.model, pytest.mark.training]


@pytest.fixture
def records(base_model_path, shared_data):
    style = StyleSettings(length="brief")
    examples = [dataset.Example(p["input"], p["output"], "seed", input_hash(p["input"]), "brief") for p in lead_pairs(shared_data / "news_pairs.jsonl", 4)]
    return dataset.to_records(examples, style, load_tokenizer(base_model_path), 80, 160)


def test_lora_trains_on_the_completion_only(records, base_model_path, tmp_path):
    settings = TrainingSettings(max_steps=2, batch_size=2, learning_rate=1e-3, max_length=160, save_steps=1)
    trainer, result = finetune.build_trainer(records, base_model_path, settings, tmp_path, "cpu")
    assert result.resumed_from is None and result.batch_size == 2 and result.device == "cpu"

    tokenizer = trainer.processing_class
    for rec, row in zip(records, trainer.train_dataset):  # loss only where the summary is
        prompt_len = len(tokenizer.apply_chat_template(rec["prompt"], tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"])
        assert all(label == -100 for label in row["labels"][:prompt_len])
        learned = [t for t in row["labels"] if t != -100]
        assert tokenizer.decode(learned).startswith(rec["completion"][0]["content"]) and learned[-2] == tokenizer.eos_token_id

    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 2 and all(math.isfinite(l) for l in losses)
    lora = {n for n in before if "lora_" in n}
    assert lora and all(not trainer.model.get_parameter(n).requires_grad for n in before if n not in lora)
    assert any(not torch.equal(before[n], trainer.model.get_parameter(n)) for n in lora if "lora_B" in n)  # LoRA moved
    assert all(torch.equal(before[n], trainer.model.get_parameter(n)) for n in before if n not in lora)  # the base did not


def test_an_interrupted_fine_tune_resumes_from_its_checkpoint(records, base_model_path, tmp_path):
    events = []
    first = finetune.main(records, base_model_path, TrainingSettings(max_steps=2, batch_size=2, max_length=160, save_steps=1), tmp_path, "cpu")
    assert first.steps == 2 and [s for s, _ in first.losses] == [1, 2]
    assert finetune.last_checkpoint(tmp_path / "checkpoints").name == "checkpoint-2"
    # a longer run of the same job (as after a kill at step 2) continues from there instead of starting over
    again = finetune.main(records, base_model_path, TrainingSettings(max_steps=3, batch_size=2, max_length=160, save_steps=1), tmp_path, "cpu",
                          report=events.append)
    assert again.resumed_from.endswith("checkpoint-2") and again.steps == 3
    assert [s for s, _ in again.losses] == [3]  # only the missing step was trained
    assert events[0]["step"] == 2 and events[0]["resumed_from"].endswith("checkpoint-2")
    assert json.loads((tmp_path / "result.json").read_text())["steps"] == 3
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()


def test_an_incomplete_checkpoint_is_not_resumed(tmp_path):
    (tmp_path / "checkpoint-1").mkdir()
    for name in ("trainer_state.json", "adapter_model.safetensors"):
        (tmp_path / "checkpoint-1" / name).write_text("{}")
    (tmp_path / "checkpoint-2").mkdir()  # killed while saving
    (tmp_path / "checkpoint-2" / "adapter_model.safetensors").write_text("")
    assert finetune.last_checkpoint(tmp_path).name == "checkpoint-1"


def test_batch_size_for_the_card():
    smol = dict(n_params=135_000_000, layers=30, hidden=576, vocab=49152, max_length=1024)
    assert finetune.auto_batch_size(80 << 30, **smol) == 32
    assert finetune.auto_batch_size(16 << 30, **smol) == 8
    assert finetune.auto_batch_size(2 << 30, **smol) == 1
    assert finetune.auto_batch_size(16 << 30, **smol, param_bytes=4, fp32_activations=True) == 4  # fp32 training needs twice the room
    big = dict(n_params=3_000_000_000, layers=36, hidden=2048, vocab=151936, max_length=2048)  # a 3 B model
    assert finetune.auto_batch_size(80 << 30, **big) < finetune.auto_batch_size(80 << 30, **smol)
    assert finetune.auto_batch_size(8 << 30, **big) == 1


def test_precision_follows_the_hardware_unless_set(tmp_path):
    auto = finetune.sft_config(TrainingSettings(max_steps=1), tmp_path, "cpu", 4)
    assert auto.use_cpu and auto.bf16 == finetune.cpu_has_native_bf16() and not auto.fp16
    fp32 = finetune.sft_config(TrainingSettings(max_steps=1, precision="fp32"), tmp_path, "cpu", 4)
    assert not fp32.bf16 and not fp32.fp16 and not fp32.activation_checkpointing
    assert fp32.train_sampling_strategy == "group_by_length" and fp32.per_device_train_batch_size == 4
