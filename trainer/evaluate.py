"""Scoring summaries against references and deciding whether a candidate may serve."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from rouge_score import rouge_scorer

from .clean import clean_summary
from .prompts import length_for_reference
from .settings import TARGET_WORDS

METRICS = ("rouge1", "rouge2", "rougeLsum")
_NUMBER = re.compile(r"\d[\d,.]*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+)*")


def normalize_reference(text: str) -> str:
    """Detokenise (" ." → ".", ``quotes'') so tokenised references score fairly; ROUGE lower-cases itself."""
    return clean_summary(text)


def _sentences(text: str) -> str:
    # rougeLsum scores sentence by sentence; sentences are separated by newlines.
    return "\n".join(s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s)


def rouge(predictions: list[str], references: list[str]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    totals = {m: [] for m in METRICS}
    for pred, ref in zip(predictions, references):
        scores = scorer.score(_sentences(normalize_reference(ref)), _sentences(pred))
        for m in METRICS:
            totals[m].append(scores[m].fmeasure)
    return {m: statistics.fmean(v) if v else 0.0 for m, v in totals.items()}


def unsupported_share(summary: str, article: str) -> float:
    """Share of numbers and capitalised names in ``summary`` that never occur in ``article``.

    A cheap proxy for hallucination: a summary that invents a figure or a person scores above 0.
    """
    article_l = article.lower()
    facts = [m.group(0).rstrip(".,") for m in _NUMBER.finditer(summary)]
    for m in _NAME.finditer(summary):
        words = m.group(0).split()
        if m.start() == 0 or summary[max(0, m.start() - 2) : m.start()].strip() in {".", "!", "?"}:
            words = words[1:]  # a sentence's first word is capitalised anyway
        facts.extend(words)
    facts = [f for f in facts if f]
    if not facts:
        return 0.0
    missing = sum(1 for f in facts if f.lower() not in article_l)
    return missing / len(facts)


def length_error(summaries: list[str], lengths: list[str]) -> float:
    """Mean distance of each summary's word count from the target range of the length it was asked for.

    0 inside the range (``TARGET_WORDS``: brief 8–30 words, …); 0.5 = half the range's bound too short or too long.
    """
    errs = []
    for text, length in zip(summaries, lengths):
        lo, hi = TARGET_WORDS[length]
        words = len(text.split())
        errs.append((lo - words) / lo if words < lo else (words - hi) / hi if words > hi else 0.0)
    return statistics.fmean(errs) if errs else 0.0


def score(predictions: list[str], references: list[str], articles: list[str], lengths: list[str] | None = None) -> dict[str, float]:
    """ROUGE-1/2/Lsum against the references, length against the target, unsupported facts against the article."""
    lengths = lengths or [length_for_reference(r) for r in references]
    metrics = rouge(predictions, references)
    metrics["length_error"] = length_error(predictions, lengths)
    metrics["unsupported"] = statistics.fmean(unsupported_share(p, a) for p, a in zip(predictions, articles)) if predictions else 0.0
    metrics["n"] = float(len(predictions))
    return metrics


def score_by_group(predictions: list[str], references: list[str], articles: list[str], lengths: list[str], groups: list[str]) -> dict[str, dict]:
    """The same scores per source (seed file, imported dataset, corrections): pooled numbers hide where a model got worse."""
    out = {}
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        out[g] = score(*([seq[i] for i in idx] for seq in (predictions, references, articles, lengths)))
    return out


@dataclass
class Decision:
    promote: bool
    reason: str


TOLERANCES = {
    # metric: (how much worse it may get, higher_is_better); EvalSettings.tolerances() is what runs use
    "rouge1": (0.02, True),
    "rouge2": (0.02, True),
    "rougeLsum": (0.02, True),
    "length_error": (0.25, False),
    "unsupported": (0.05, False),
}


def decide(candidate: dict[str, float], baseline: dict[str, float], primary: str, min_improvement: float, min_holdout: int,
           tolerances: dict[str, tuple[float, bool]] | None = None) -> Decision:
    """Promote only if ``primary`` rises by ``min_improvement`` and nothing else gets worse beyond tolerance."""
    tolerances = TOLERANCES if tolerances is None else tolerances
    n = int(candidate.get("n", 0))
    if n < min_holdout:
        return Decision(False, f"only {n} holdout pairs (need {min_holdout}); add more pairs before training")
    gain = candidate[primary] - baseline[primary]
    if gain < min_improvement:
        return Decision(False, f"{primary} {baseline[primary]:.4f} → {candidate[primary]:.4f} ({gain:+.4f}, needs ≥ {min_improvement:+.4f})")
    for metric, (tolerance, higher_better) in tolerances.items():
        if metric == primary or metric not in candidate:
            continue
        worse = (baseline[metric] - candidate[metric]) if higher_better else (candidate[metric] - baseline[metric])
        if worse > tolerance:
            return Decision(False, f"{primary} rose {gain:+.4f} but {metric} worsened {baseline[metric]:.4f} → {candidate[metric]:.4f} (tolerance {tolerance})")
    return Decision(True, f"{primary} {baseline[primary]:.4f} → {candidate[primary]:.4f} ({gain:+.4f} ≥ {min_improvement:+.4f}); no other metric worse beyond tolerance")


__all__ = ["Decision", "METRICS", "decide", "length_error", "normalize_reference", "rouge", "score", "score_by_group", "unsupported_share"]
