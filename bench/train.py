"""geobrief's training step against a plain TRL script: same pairs, same model, same LoRA, measured side by side.

Both train on the same prompt–completion records (real pairs from ../shared/data/news_pairs.jsonl, built
by geobrief's dataset code) for the same number of steps at the same batch size. The plain side is what
TRL's own sft script does with those hyperparameters; geobrief's side is ``trainer.finetune.main`` as a
training run calls it. Rounds alternate the order (geobrief first, then plain first, …) so that load from other work on
the machine falls on both; the ratio is the median of the rounds' ratios, so one round disturbed by other work
does not decide it. Tokens are the non-padding tokens trained on (TRL's ``num_tokens``); time is the
``trainer.train()`` call. Where geobrief is faster it is by its settings, printed with the result: bf16 autocast on
CPUs that compute bf16 natively (AVX512-BF16, AMX) and on GPUs, no activation checkpointing for a LoRA that fits
without it, and length-grouped batches (less padding).

    python bench/train.py                 # prints tokens/s for both and the ratio (goal ≥ 1.0)
    python bench/train.py --steps 4 --rounds 1 --pairs 16
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trainer import dataset, finetune  # noqa: E402
from trainer.modeling import load_tokenizer, pick_device  # noqa: E402
from trainer.settings import StyleSettings, TrainingSettings  # noqa: E402

BASE = ROOT / "models" / "base" / "SmolLM2-135M-Instruct"
NEWS = ROOT.parent / "shared" / "data" / "news_pairs.jsonl"


def records(n: int, max_input_tokens: int, max_length: int) -> list[dict]:
    """``n`` real pairs, round-robin over the five sources so lengths vary as they do in production."""
    rows = [json.loads(line) for line in NEWS.read_text(encoding="utf-8").splitlines()]
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["source_dataset"], []).append(r)
    picked = [group[i] for i in range(n) for group in by_source.values() if i < len(group)][:n]
    seed = Path(tempfile.mkstemp(suffix=".jsonl")[1])
    seed.write_text("\n".join(json.dumps({"input": r["article"], "output": r["summary"]}) for r in picked), encoding="utf-8")
    import sqlite_utils

    from trainer import store

    db = sqlite_utils.Database(memory=True)
    store.migrate(db)
    examples = dataset.collect(db, [seed])
    seed.unlink()
    return dataset.to_records(examples, StyleSettings(), load_tokenizer(str(BASE)), max_input_tokens, max_length)


def settings(args) -> TrainingSettings:
    return TrainingSettings(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length, learning_rate=2e-4,
                            save_steps=max(args.steps, 1))


def run_geobrief(recs: list[dict], args) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="bench-geobrief-") as work:
        result = finetune.main(recs, str(BASE), settings(args), Path(work), args.device)
    return result.train_tokens, result.runtime_s


def describe_geobrief(args) -> str:
    s, device = settings(args), pick_device(args.device)
    return (f"geobrief's choices: {finetune.precision(s, device)} mixed precision, activation checkpointing "
            f"{'on' if s.gradient_checkpointing else 'off'}, batches grouped by length")


def run_plain_trl(recs: list[dict], args) -> tuple[int, float]:
    """What TRL's sft script does with these hyperparameters: SFTTrainer on the model path, defaults elsewhere."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    s = settings(args)
    on_cuda = pick_device(args.device) == "cuda"
    with tempfile.TemporaryDirectory(prefix="bench-plain-") as out:
        trainer = SFTTrainer(
            model=str(BASE),
            args=SFTConfig(output_dir=out, max_steps=s.max_steps, per_device_train_batch_size=s.batch_size, learning_rate=s.learning_rate,
                           max_length=s.max_length, logging_steps=1, save_steps=s.save_steps, report_to=[], seed=s.seed, disable_tqdm=True,
                           use_cpu=not on_cuda, bf16=on_cuda and torch.cuda.is_bf16_supported()),
            train_dataset=Dataset.from_list(recs),
            peft_config=LoraConfig(r=s.lora_r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout, target_modules=s.target_modules,
                                   task_type="CAUSAL_LM"),
        )
        started = time.monotonic()
        trainer.train()
        elapsed = time.monotonic() - started
        tokens = max(int(e.get("num_tokens", 0)) for e in trainer.state.log_history)
    return tokens, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating")
    parser.add_argument("--pairs", type=int, default=32, help="training pairs (from five sources)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512, help="tokens per example")
    parser.add_argument("--max-input-tokens", type=int, default=384, help="article tokens per prompt")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    recs = records(args.pairs, args.max_input_tokens, args.max_length)
    print(f"bench/train.py: {len(recs)} real pairs, {args.steps} steps × batch {args.batch_size}, LoRA r=8 all-linear, "
          f"{pick_device(args.device)}, {args.rounds} alternating round(s)", flush=True)
    print(f"  {describe_geobrief(args)}; plain TRL: SFTConfig defaults (activation checkpointing on, random batches), "
          f"bf16 off on the CPU as TRL needs there", flush=True)
    sides = {"geobrief": run_geobrief, "plain TRL": run_plain_trl}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    ratios = []
    for round_ in range(1, args.rounds + 1):
        order = list(sides) if round_ % 2 else list(sides)[::-1]  # A B, B A, A B, …: drift in load falls on both
        measured = {}
        for name in order:
            tokens, seconds = sides[name](recs, args)
            measured[name] = tokens / seconds
            rates[name].append(measured[name])
            print(f"  round {round_} {name:9}: {tokens} tokens in {seconds:.1f} s = {measured[name]:.1f} tokens/s", flush=True)
        ratios.append(measured["geobrief"] / measured["plain TRL"])
        print(f"  round {round_} ratio: {ratios[-1]:.2f}", flush=True)
    median = {name: statistics.median(values) for name, values in rates.items()}
    ratio = statistics.median(ratios)
    print(f"geobrief : {median['geobrief']:.1f} tokens/s (median of {args.rounds})")
    print(f"plain TRL: {median['plain TRL']:.1f} tokens/s (median of {args.rounds})")
    print(f"ratio geobrief / plain TRL: {ratio:.2f} (median of the rounds' ratios; goal ≥ 1.0)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").write_text(json.dumps({"args": vars(args), "tokens_per_s": rates, "ratios": ratios, "ratio": ratio}, indent=1),
                                    encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
