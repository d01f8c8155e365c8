"""Typed settings for the model, prompts, training and evaluation; built by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LENGTHS = {
    # name: (instruction, max new tokens)
    "brief": ("in one sentence of at most 30 words", 60),
    "standard": ("in two or three sentences", 110),
    "detailed": ("in one short paragraph of four to six sentences", 200),
}
TONES = ("neutral", "analytical", "plain", "formal")
# The words a summary should have at each length: the target the eval gate measures length against.
TARGET_WORDS = {"brief": (8, 30), "standard": (30, 80), "detailed": (70, 160)}


@dataclass
class StyleSettings:
    """How a summary should read: the "configuration" way of shaping the model."""

    instructions: str = field(
        default="Summarize the news article for a reader who follows geopolitics. State who did what, where and why it matters. Use only facts from the article.",
        metadata={"help": "system instructions given to the model before every article"},
    )
    tone: str = field(default="neutral", metadata={"help": f"one of {', '.join(TONES)}"})
    length: str = field(default="standard", metadata={"help": f"one of {', '.join(LENGTHS)}"})

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"style.tone = {self.tone!r} is not one of {', '.join(TONES)}")
        if self.length not in LENGTHS:
            raise ValueError(f"style.length = {self.length!r} is not one of {', '.join(LENGTHS)}")


@dataclass
class ModelSettings:
    """Where the base model and versions live and how inference runs."""

    base: str = field(default="models/base/SmolLM2-135M-Instruct", metadata={"help": "local path or Hugging Face id of the base model"})
    models_dir: Path = field(default=Path("models"), metadata={"help": "folder holding every fine-tuned version"})
    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda"})
    batch_size: int = field(default=4, metadata={"help": "articles summarized per forward pass"})
    max_input_tokens: int = field(default=768, metadata={"help": "article tokens kept in the prompt"})

    def __post_init__(self) -> None:
        self.models_dir = Path(self.models_dir)
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("model.device must be auto, cpu or cuda")
        if self.batch_size < 1:
            raise ValueError("model.batch_size must be >= 1")


@dataclass
class TrainingSettings:
    """Fine-tuning data, hyperparameters, hardware and schedule."""

    seed_files: list[Path] = field(default_factory=list, metadata={"help": "JSONL files of {\"input\", \"output\"} pairs trained on besides corrections"})
    include_thumbs_up: bool = field(default=False, metadata={"help": "also train on summaries readers rated 👍 (and nobody 👎 or corrected); the bot passes them in"})
    holdout_fraction: float = field(default=0.2, metadata={"help": "share of inputs (by hash) kept out of training for the eval gate"})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    target_modules: str | list[str] = field(default="all-linear", metadata={"help": "\"all-linear\" or a list of module names"})
    learning_rate: float = field(default=2e-4, metadata={"help": "peak learning rate"})
    epochs: float = field(default=1.0, metadata={"help": "passes over the training pairs (ignored when max_steps > 0)"})
    max_steps: int = field(default=0, metadata={"help": "stop after this many optimizer steps; 0 = use epochs"})
    batch_size: int = field(default=0, metadata={"help": "examples per device per step; 0 = auto (from the GPU's free memory on CUDA, 4 on the CPU)"})
    grad_accum: int = field(default=1, metadata={"help": "gradient accumulation steps"})
    max_length: int = field(default=1024, metadata={"help": "tokens per training example (prompt + summary); articles are cut to fit, summaries never"})
    warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps"})
    precision: str = field(default="auto", metadata={"help": "auto: bf16 on GPUs that have it (else fp16) and on CPUs with native bf16 (AVX512-BF16, AMX), else fp32; or fp32, bf16, fp16"})
    group_by_length: bool = field(default=True, metadata={"help": "batch examples of similar length together: less padding, more tokens/s"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute activations in the backward pass: less GPU memory for larger base models, ~30% slower"})
    save_steps: int = field(default=50, metadata={"help": "checkpoint every this many steps, so an interrupted run resumes from there"})
    num_processes: int = field(default=1, metadata={"help": "GPUs to train on; > 1 runs the fine-tune through `accelerate launch`"})
    deepspeed: bool = field(default=False, metadata={"help": "with num_processes > 1: DeepSpeed ZeRO-2 (configs/accelerate/deepspeed_zero2.yaml) instead of DDP (multi_gpu.yaml)"})
    seed: int = field(default=42, metadata={"help": "random seed"})
    schedule: str = field(default="", metadata={"help": "cron expression for scheduled retraining, e.g. \"0 3 * * *\"; empty = only /retrain"})
    min_new_pairs: int = field(default=20, metadata={"help": "a scheduled run starts only after this many new accepted pairs"})

    def __post_init__(self) -> None:
        self.seed_files = [Path(p) for p in self.seed_files]
        if not 0.0 < self.holdout_fraction < 0.9:
            raise ValueError("training.holdout_fraction must be between 0 and 0.9")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ValueError("set training.epochs > 0 or training.max_steps > 0")
        if self.batch_size < 0 or self.grad_accum < 1:
            raise ValueError("training.batch_size must be >= 0 (0 = auto) and training.grad_accum >= 1")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ValueError("training.precision must be auto, fp32, bf16 or fp16")
        if self.max_length < 64:
            raise ValueError("training.max_length must be >= 64 tokens (a prompt alone needs about 60)")
        if self.save_steps < 1:
            raise ValueError("training.save_steps must be >= 1")
        if self.num_processes < 1:
            raise ValueError("training.num_processes must be >= 1")
        if self.deepspeed and self.num_processes < 2:
            raise ValueError("training.deepspeed needs training.num_processes >= 2 (one GPU trains without accelerate launch)")


@dataclass
class EvalSettings:
    """The gate a candidate must pass to serve."""

    max_holdout: int = field(default=64, metadata={"help": "holdout pairs scored per run: every source in turn, newest first within each"})
    primary_metric: str = field(default="rougeLsum", metadata={"help": "rouge1, rouge2 or rougeLsum"})
    min_improvement: float = field(default=0.005, metadata={"help": "the primary metric must rise by at least this much"})
    min_holdout: int = field(default=2, metadata={"help": "fewer holdout pairs than this and the run is rejected"})
    rouge_tolerance: float = field(default=0.02, metadata={"help": "the other ROUGE scores may fall by at most this much"})
    length_tolerance: float = field(default=0.25, metadata={"help": "length_error (distance from the target word range, relative) may rise by at most this much"})
    unsupported_tolerance: float = field(default=0.05, metadata={"help": "the share of numbers and names not in the article may rise by at most this much"})

    def __post_init__(self) -> None:
        if self.primary_metric not in ("rouge1", "rouge2", "rougeLsum"):
            raise ValueError("eval.primary_metric must be rouge1, rouge2 or rougeLsum")
        if self.min_holdout < 1 or self.max_holdout < self.min_holdout:
            raise ValueError("eval.min_holdout must be >= 1 and <= eval.max_holdout")
        for name in ("rouge_tolerance", "length_tolerance", "unsupported_tolerance"):
            if getattr(self, name) < 0:
                raise ValueError(f"eval.{name} must be >= 0 (0 = must not get worse at all)")

    def tolerances(self) -> dict[str, tuple[float, bool]]:
        """metric: (how much worse it may get, higher is better)."""
        return {
            "rouge1": (self.rouge_tolerance, True),
            "rouge2": (self.rouge_tolerance, True),
            "rougeLsum": (self.rouge_tolerance, True),
            "length_error": (self.length_tolerance, False),
            "unsupported": (self.unsupported_tolerance, False),
        }
