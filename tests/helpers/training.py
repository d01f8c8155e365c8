"""Short real fine-tunes for tests: a task the base model visibly learns in a few CPU steps.

Lead-sentence pairs: the article's opening (BBC News and CNN/DailyMail articles from
../shared/data/news_pairs.jsonl) and, as the summary, its first sentence. SmolLM2-135M-Instruct
paraphrases (holdout ROUGE-Lsum ≈ 0.43); after six LoRA steps it writes the lead (≈ 0.76), so a
correctly wired gate promotes it — and rejects it when the margin asked for is out of reach.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from trainer.pipeline import TrainerConfig
from trainer.settings import EvalSettings, ModelSettings, StyleSettings, TrainingSettings


def lead_pairs(news_pairs: Path, n: int = 40, words: int = 60) -> list[dict]:
    rows = [json.loads(line) for line in news_pairs.read_text(encoding="utf-8").splitlines()]
    out = []
    for r in rows:
        if not r["source_dataset"].startswith(("BBC", "CNN")):
            continue
        opening = " ".join(r["article"].split()[:words])
        first = re.split(r"(?<=[.!?])\s+", opening)[0]
        if 8 <= len(first.split()) <= 30 and len(opening.split()) >= 40:
            out.append({"input": opening, "output": first})
    return out[:n]


def write_seed(path: Path, news_pairs: Path, n: int = 40) -> Path:
    path.write_text("\n".join(json.dumps(p) for p in lead_pairs(news_pairs, n)) + "\n", encoding="utf-8")
    return path


# Settings a lead-pairs run uses, as config.toml overrides (for bot tests) and as a TrainerConfig.
TRAINING = {"max_steps": 6, "learning_rate": 5e-4, "batch_size": 4, "max_length": 192, "holdout_fraction": 0.15, "save_steps": 3}
EVAL = {"max_holdout": 6, "min_improvement": 0.02}
MODEL = {"max_input_tokens": 100, "batch_size": 4, "device": "cpu"}


def overrides(seed: Path, **extra) -> dict:
    flat = {f"training.{k}": v for k, v in TRAINING.items()} | {f"eval.{k}": v for k, v in EVAL.items()}
    flat |= {f"model.{k}": v for k, v in MODEL.items()}
    return {**flat, "training.seed_files": [str(seed)], "style.length": "brief", **extra}


def lead_config(base: str, models_dir: Path, seed: Path, training: dict | None = None, eval: dict | None = None) -> TrainerConfig:
    return TrainerConfig(
        model=ModelSettings(base=base, models_dir=models_dir, **MODEL),
        style=StyleSettings(length="brief"),
        training=TrainingSettings(seed_files=[seed], **{**TRAINING, **(training or {})}),
        eval=EvalSettings(**{**EVAL, **(eval or {})}),
    )
