"""Scores and the gate's decisions."""

from __future__ import annotations

from trainer.evaluate import decide, length_error, normalize_reference, rouge, score, score_by_group, unsupported_share
from trainer.settings import EvalSettings


def test_rouge_prefers_the_closer_summary():
    ref = "The EU agreed new sanctions on Russian oil exports on Tuesday ."
    close = "The EU agreed new sanctions on Russian oil exports."
    far = "A football club signed a new striker."
    assert rouge([close], [ref])["rougeLsum"] > 0.8 > rouge([far], [ref])["rougeLsum"]


def test_tokenised_references_are_normalised_before_scoring():
    ref = "Gary Locke will be confirmed as Kilmarnock boss on Friday . The club went unbeaten during Locke 's first six games ."
    assert normalize_reference(ref) == "Gary Locke will be confirmed as Kilmarnock boss on Friday. The club went unbeaten during Locke's first six games."
    assert normalize_reference("``maverick\\'\\'is a word that follows him .") == '"maverick" is a word that follows him.'


def test_unsupported_share_catches_invented_numbers_and_names():
    article = "Ministers from France and Germany met in Berlin on 3 May to discuss 12 billion euros of aid."
    assert unsupported_share("France and Germany discussed 12 billion euros of aid in Berlin.", article) == 0.0
    assert unsupported_share("France and Spain discussed 40 billion euros.", article) > 0.3


def test_length_is_measured_against_the_target_of_the_requested_length():
    twenty, fifty = " ".join(["w"] * 20), " ".join(["w"] * 50)
    assert length_error([twenty], ["brief"]) == 0.0           # brief: 8–30 words
    assert length_error([fifty], ["brief"]) == (50 - 30) / 30
    assert length_error([fifty], ["standard"]) == 0.0        # standard: 30–80 words
    assert length_error([twenty], ["detailed"]) == (70 - 20) / 70
    # the reference's own length does not matter, only the target
    assert score([twenty], ["a much longer reference " * 20], ["article"], ["brief"])["length_error"] == 0.0


def test_scores_are_reported_per_source():
    by = score_by_group(["the eu agreed sanctions", "a club signed a striker"], ["the eu agreed sanctions", "parliament passed a law"],
                        ["x", "y"], ["brief", "brief"], ["XSum", "CNN"])
    assert set(by) == {"XSum", "CNN"} and by["XSum"]["rougeLsum"] == 1.0 and by["CNN"]["rougeLsum"] < 0.3 and by["CNN"]["n"] == 1


def test_gate_promotes_only_a_real_improvement():
    base = score(["a b c"], ["a b c d e f"], ["a b c d e f"])
    better = dict(base, rougeLsum=base["rougeLsum"] + 0.05)
    assert decide(better, base, "rougeLsum", 0.01, 1).promote
    small = dict(base, rougeLsum=base["rougeLsum"] + 0.001)
    d = decide(small, base, "rougeLsum", 0.01, 1)
    assert not d.promote and "needs" in d.reason
    worse_facts = dict(better, unsupported=base["unsupported"] + 0.5)
    d = decide(worse_facts, base, "rougeLsum", 0.01, 1)
    assert not d.promote and "unsupported" in d.reason
    assert "holdout" in decide(better, base, "rougeLsum", 0.01, 5).reason


def test_tolerances_come_from_the_settings():
    base = {"rouge1": 0.40, "rouge2": 0.20, "rougeLsum": 0.30, "length_error": 0.10, "unsupported": 0.10, "n": 10}
    cand = dict(base, rougeLsum=0.35, rouge2=0.17, length_error=0.30)
    strict, loose = EvalSettings(rouge_tolerance=0.01), EvalSettings(rouge_tolerance=0.05, length_tolerance=0.5)
    d = decide(cand, base, "rougeLsum", 0.01, 2, strict.tolerances())
    assert not d.promote and "rouge2 worsened" in d.reason and "tolerance 0.01" in d.reason
    assert decide(cand, base, "rougeLsum", 0.01, 2, loose.tolerances()).promote
    d = decide(cand, base, "rougeLsum", 0.01, 2, EvalSettings(rouge_tolerance=0.05, length_tolerance=0.1).tolerances())
    assert not d.promote and "length_error" in d.reason
