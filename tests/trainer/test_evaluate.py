"""Scores and the gate's decisions."""

from __future__ import annotations

from trainer.evaluate import decide, rouge, score, unsupported_share


def test_rouge_prefers_the_closer_summary():
    ref = "The EU agreed new sanctions on Russian oil exports on Tuesday ."
    close = "The EU agreed new sanctions on Russian oil exports."
    far = "A football club signed a new striker."
    assert rouge([close], [ref])["rougeLsum"] > 0.8 > rouge([far], [ref])["rougeLsum"]


def test_unsupported_share_catches_invented_numbers_and_names():
    article = "Ministers from France and Germany met in Berlin on 3 May to discuss 12 billion euros of aid."
    assert unsupported_share("France and Germany discussed 12 billion euros of aid in Berlin.", article) == 0.0
    assert unsupported_share("France and Spain discussed 40 billion euros.", article) > 0.3


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
