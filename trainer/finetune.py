"""LoRA fine-tuning with TRL's SFTTrainer, shaped like TRL's own sft script: settings in, adapter out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .modeling import load_tokenizer, pick_device
from .progress import Reporter, null_reporter
from .settings import TrainingSettings

log = logging.getLogger(__name__)


@dataclass
class FinetuneResult:
    adapter_dir: Path
    steps: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    train_tokens: int = 0
    runtime_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.train_tokens / self.runtime_s if self.runtime_s else 0.0


def lora_config(settings: TrainingSettings):
    from peft import LoraConfig

    return LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )


def sft_config(settings: TrainingSettings, output_dir: Path, device: str):
    from trl import SFTConfig

    on_cuda = device == "cuda"
    return SFTConfig(
        output_dir=str(output_dir),
        learning_rate=settings.learning_rate,
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps if settings.max_steps > 0 else -1,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        warmup_steps=settings.warmup_steps,
        max_length=settings.max_length,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=settings.seed,
        use_cpu=not on_cuda,
        bf16=on_cuda and torch.cuda.is_bf16_supported(),
        disable_tqdm=True,
        dataloader_pin_memory=on_cuda,
    )


def _progress_callback(report: Reporter, result: FinetuneResult):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        started = time.monotonic()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            step, total = state.global_step, state.max_steps
            result.losses.append((step, float(logs["loss"])))
            result.train_tokens = int(logs.get("num_tokens", result.train_tokens))
            elapsed = time.monotonic() - self.started
            eta = elapsed / step * (total - step) if step else None
            report({"stage": "train", "step": step, "total": total, "loss": round(float(logs["loss"]), 4), "eta_s": round(eta, 1) if eta is not None else None})

    return Progress()


def finetune(records: list[dict], base: str, settings: TrainingSettings, output_dir: Path, device: str = "auto", report: Reporter = null_reporter) -> FinetuneResult:
    """Train a LoRA adapter on prompt–completion ``records``; save it to ``output_dir``."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    if not records:
        raise ValueError("no training examples")
    device = pick_device(device)
    tokenizer = load_tokenizer(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    output_dir = Path(output_dir)
    result = FinetuneResult(adapter_dir=output_dir, steps=0)
    trainer = SFTTrainer(
        model=model,
        args=sft_config(settings, output_dir / "checkpoints", device),
        train_dataset=Dataset.from_list(records),
        processing_class=tokenizer,
        peft_config=lora_config(settings),
        callbacks=[_progress_callback(report, result)],
    )
    started = time.monotonic()
    trainer.train()
    result.runtime_s = time.monotonic() - started
    result.steps = trainer.state.global_step
    trainer.model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return result
