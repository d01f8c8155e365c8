"""The training set: seed files, imported pairs, 👍-rated summaries and corrections — cleaned, deduplicated,
split stably by input hash, and fitted to the model's token budget.

Where one article comes from several sources, the most trusted wins: a reader's correction over a 👍,
a 👍 over an imported or seed pair; among equals the newest. The split hashes the stored input
(normalised), not the cleaned text, so no change to the cleaning rules ever moves an article between
train and holdout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import pairs
from .clean import clean_article, clean_summary
from .datafiles import DatasetError, export_jsonl, read_seed_file
from .prompts import build_messages, length_for_reference, truncate_words
from .settings import StyleSettings

PRIORITY = {"seed": 0, "import": 1, "thumbs_up": 2, "correction": 3}
MIN_INPUT_WORDS = 20
MIN_OUTPUT_WORDS = 3
MIN_ARTICLE_TOKENS = 32


@dataclass
class Example:
    input: str
    output: str
    source: str         # seed, import, thumbs_up, correction
    input_hash: str
    length: str
    origin: str = ""    # finer than source: the seed file or imported dataset, for ROUGE per source

    @property
    def group(self) -> str:
        return self.origin or self.source


@dataclass
class Split:
    train: list[Example] = field(default_factory=list)
    holdout: list[Example] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)   # reason -> pairs left out as noise
    replaced: int = 0                                    # pairs superseded by a better one for the same input

    @property
    def by_source(self) -> dict[str, int]:
        return dict(Counter(e.source for e in self.train + self.holdout))

    def stats(self) -> dict:
        groups: dict[str, dict[str, int]] = {}
        for side, examples in (("train", self.train), ("holdout", self.holdout)):
            for e in examples:
                g = groups.setdefault(e.group, {"train": 0, "holdout": 0})
                g[side] += 1
        return {"train": len(self.train), "holdout": len(self.holdout), "by_source": self.by_source,
                "by_origin": groups, "dropped": dict(self.dropped), "replaced": self.replaced}


def in_holdout(hash_hex: str, fraction: float) -> bool:
    """Stable: an input's hash decides its side once and for all, whatever else is in the set."""
    return int(hash_hex[:8], 16) / 0x1_0000_0000 < fraction


def collect(db: sqlite_utils.Database, seed_files: list[Path], extra: list[dict] = (), dropped: Counter | None = None) -> list[Example]:
    """All usable pairs, one per input. ``extra``: rows {input, output, source, length?} the caller adds (👍 summaries)."""
    dropped = Counter() if dropped is None else dropped
    chosen: dict[str, Example] = {}
    for path in seed_files:
        for obj in read_seed_file(path):
            _offer(chosen, dropped, obj["input"], obj["output"], "seed", None, Path(path).stem)
    for row in extra:
        _offer(chosen, dropped, row["input"], row["output"], row.get("source", "thumbs_up"), row.get("length"), row.get("origin", ""))
    for row in pairs.active_pairs(db):
        _offer(chosen, dropped, row["input"], row["output"], row["source"], row["length"], row.get("origin") or "")
    return list(chosen.values())


def _offer(chosen: dict[str, Example], dropped: Counter, input: str, output: str, source: str, length: str | None, origin: str) -> None:
    h = pairs.input_hash(input)
    article, summary = clean_article(input), clean_summary(output)
    if len(article.split()) < MIN_INPUT_WORDS:
        dropped[f"article under {MIN_INPUT_WORDS} words"] += 1
        return
    if len(summary.split()) < MIN_OUTPUT_WORDS:
        dropped[f"summary under {MIN_OUTPUT_WORDS} words"] += 1
        return
    if len(summary.split()) >= len(article.split()):
        dropped["summary as long as the article"] += 1
        return
    old = chosen.get(h)
    if old is not None:
        dropped["replaced by a newer or more trusted pair"] += 1
        if PRIORITY.get(old.source, 1) > PRIORITY.get(source, 1):
            return
    chosen[h] = Example(article, summary, source, h, length or length_for_reference(summary), origin)


def split(examples: list[Example], holdout_fraction: float) -> Split:
    result = Split()
    for ex in examples:
        (result.holdout if in_holdout(ex.input_hash, holdout_fraction) else result.train).append(ex)
    return result


def holdout_sample(holdout: list[Example], n: int) -> list[Example]:
    """Up to ``n`` holdout pairs for the gate: every source in turn, newest first within each.

    Newest first keeps readers' latest corrections in the score; taking sources in turn keeps one big
    import from crowding the others out (pooled ROUGE would then mean one dataset's ROUGE).
    """
    groups: dict[str, list[Example]] = {}
    for ex in reversed(holdout):
        groups.setdefault(ex.group, []).append(ex)
    picked: list[Example] = []
    while len(picked) < n and any(groups.values()):
        for queue in groups.values():
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


def build(db: sqlite_utils.Database, seed_files: list[Path], holdout_fraction: float, extra: list[dict] = ()) -> Split:
    """Collect, clean, dedupe and split: what a training run and ``geobrief dataset stats`` see."""
    dropped: Counter = Counter()
    examples = collect(db, seed_files, extra, dropped)
    result = split(examples, holdout_fraction)
    result.replaced = dropped.pop("replaced by a newer or more trusted pair", 0)
    result.dropped = dropped
    return result


class PromptFitter:
    """Cuts each article so prompt + summary fit ``max_length`` tokens; the summary is never cut.

    TRL would otherwise truncate the tokenized example at ``max_length`` — through the summary, the
    only part the loss is computed on, teaching the model to stop mid-sentence.
    """

    def __init__(self, tokenizer, style: StyleSettings, max_input_tokens: int, max_length: int):
        self.tokenizer, self.style = tokenizer, style
        self.max_input_tokens, self.max_length = max_input_tokens, max_length
        self._overhead: dict[str, int] = {}
        self.cut = 0
        self.dropped: Counter = Counter()

    def overhead(self, length: str) -> int:
        """Tokens of the chat template and instructions around an empty article, plus the end of turn."""
        if length not in self._overhead:
            messages = build_messages("", self.style, length) + [{"role": "assistant", "content": ""}]
            self._overhead[length] = len(self.tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]) + 4
        return self._overhead[length]

    def article_budget(self, ex: Example) -> int:
        summary_tokens = len(self.tokenizer(ex.output, add_special_tokens=False)["input_ids"])
        return min(self.max_input_tokens, self.max_length - self.overhead(ex.length) - summary_tokens)

    def prompt(self, ex: Example) -> list[dict] | None:
        budget = self.article_budget(ex)
        if budget < MIN_ARTICLE_TOKENS:
            self.dropped["summary too long for training.max_length"] += 1
            return None
        article = truncate_words(ex.input, self.tokenizer, budget)
        self.cut += article != ex.input
        return build_messages(article, self.style, ex.length)


def to_records(examples: list[Example], style: StyleSettings, tokenizer, max_input_tokens: int, max_length: int = 1024,
               fitter: PromptFitter | None = None) -> list[dict]:
    """Conversational prompt–completion records, as TRL's SFTTrainer takes them (loss on the completion only)."""
    fitter = fitter or PromptFitter(tokenizer, style, max_input_tokens, max_length)
    records = []
    for ex in examples:
        prompt = fitter.prompt(ex)
        if prompt is not None:
            records.append({"prompt": prompt, "completion": [{"role": "assistant", "content": ex.output}]})
    return records


def export_split(data: Split, path: Path, training, model, style: StyleSettings, fmt: str = "chat", which: str = "train") -> int:
    """Write ``which`` side of ``data`` as JSONL; ``chat`` records are fitted with the base model's tokenizer as in training.

    ``training``/``model``: TrainingSettings/ModelSettings. Needs no database, so it can run in a worker thread.
    """
    from .modeling import load_tokenizer

    records_for = None
    if fmt == "chat":
        fitter = PromptFitter(load_tokenizer(model.base), style, model.max_input_tokens, training.max_length)
        records_for = lambda examples: to_records(examples, style, fitter.tokenizer, 0, 0, fitter)  # noqa: E731
    return export_jsonl(data, path, fmt, which, records_for)


def export_training_set(db: sqlite_utils.Database, training, model, style: StyleSettings, path: Path, fmt: str = "chat",
                        which: str = "train", extra: list[dict] = ()) -> int:
    """Write the set the next run would see as JSONL; return the rows written."""
    return export_split(build(db, training.seed_files, training.holdout_fraction, extra), path, training, model, style, fmt, which)


__all__ = ["DatasetError", "Example", "PromptFitter", "Split", "build", "collect", "export_split", "export_training_set", "holdout_sample", "in_holdout", "split", "to_records"]
