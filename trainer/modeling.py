"""Loading a servable model: the base, optionally with a LoRA adapter merged in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The base model or an adapter could not be loaded."""


@dataclass
class LoadedModel:
    """A model ready to generate, and the version name it serves as."""

    version: str
    model: object
    tokenizer: object
    device: str


def pick_device(preference: str = "auto") -> str:
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def pick_dtype(device: str) -> torch.dtype:
    if device == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(base: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(base: str, adapter: Path | None = None, version: str = "v0", device: str = "auto") -> LoadedModel:
    """Load ``base`` (+ ``adapter`` merged) for inference on ``device``."""
    from transformers import AutoModelForCausalLM

    device = pick_device(device)
    try:
        tokenizer = load_tokenizer(base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=pick_dtype(device))
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load {base}{' + ' + str(adapter) if adapter else ''}: {exc}") from exc
    model.to(device)
    model.eval()
    log.info("loaded model %s on %s", version, device)
    return LoadedModel(version=version, model=model, tokenizer=tokenizer, device=device)
