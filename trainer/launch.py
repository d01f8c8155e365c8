"""Where a fine-tune runs: in this process on one device, or under ``accelerate launch`` on several GPUs.

``training.num_processes`` chooses: 1 trains here; more launches ``python -m trainer.finetune`` with the
multi-GPU config shipped in ``configs/accelerate/`` (DDP, or DeepSpeed ZeRO-2 with ``training.deepspeed``)
and relays its progress lines. Only the fine-tune is distributed: the dataset, evaluation and registry
stay in the one process that holds the database and the training lock.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from .finetune import FinetuneResult, main, read_result, write_job
from .progress import Reporter, null_reporter, parse_line
from .settings import TrainingSettings

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "accelerate"


class LaunchError(RuntimeError):
    """The distributed fine-tune could not start or did not finish."""


def accelerate_config(settings: TrainingSettings) -> Path:
    return CONFIG_DIR / ("deepspeed_zero2.yaml" if settings.deepspeed else "multi_gpu.yaml")


def launch_precision(settings: TrainingSettings) -> str:
    """accelerate's ``--mixed_precision``: the setting, or bf16 unless the GPUs lack it (fp16 on V100, T4)."""
    if settings.precision != "auto":
        return "no" if settings.precision == "fp32" else settings.precision
    import torch

    return "fp16" if torch.cuda.is_available() and not torch.cuda.is_bf16_supported() else "bf16"


def launch_command(settings: TrainingSettings, work_dir: Path) -> list[str]:
    """The ``accelerate launch`` command line for a multi-GPU fine-tune of the job in ``work_dir``."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config(settings)),
            "--num_processes", str(settings.num_processes), "--mixed_precision", launch_precision(settings),
            "-m", "trainer.finetune", str(work_dir)]


def _die_with_parent() -> None:
    """Linux: the launched trainers get SIGKILL when this process dies, so a killed run frees its GPUs."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def finetune(records: list[dict], base: str, settings: TrainingSettings, work_dir: Path, device: str = "auto",
             report: Reporter = null_reporter) -> FinetuneResult:
    """Train on one device here, or on ``settings.num_processes`` GPUs through accelerate."""
    if settings.num_processes <= 1:
        return main(records, base, settings, work_dir, device, report)
    config = accelerate_config(settings)
    if not config.exists():
        raise LaunchError(f"accelerate config {config} is missing; restore configs/accelerate/ from the repository")
    write_job(work_dir, records, base, settings, "cuda")
    (Path(work_dir) / "result.json").unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(launch_command(settings, work_dir), stdout=subprocess.PIPE, stderr=None, text=True, env=env,
                            cwd=str(CONFIG_DIR.parent.parent), preexec_fn=_die_with_parent)
    for line in proc.stdout:
        event = parse_line(line)
        if event:
            event.pop("time", None)
            report(event)
    code = proc.wait()
    if code != 0 or not (Path(work_dir) / "result.json").exists():
        raise LaunchError(f"accelerate launch with {settings.num_processes} processes exited with code {code}; its log is on stderr")
    return read_result(work_dir)
