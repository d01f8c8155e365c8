"""Hostile or useless corrections are refused with a reason; good ones are cleaned."""

from __future__ import annotations

import pytest

from bot.corrections import CorrectionRefused, validate_correction

CURRENT = "The EU agreed new sanctions on Russian oil exports on Tuesday."


@pytest.mark.parametrize(
    "text, reason",
    [
        ("too short", "too short"),
        ("x" * 2000, "too long"),
        ("https://example.org/a-very-long-link-to-something", "just a link"),
        ("<b>The EU</b> agreed sanctions on oil exports this week.", "plain text"),
        ("[click](https://evil.example) the EU agreed sanctions today.", "plain text"),
        ("the eu agreed new sanctions   on russian oil exports on tuesday.", "same as the current"),
    ],
)
def test_refused(text, reason):
    with pytest.raises(CorrectionRefused, match=reason):
        validate_correction(text, CURRENT)


def test_cleaned():
    text = "The EU agreed\u202e new   sanctions on Russian oil exports on Monday, not Tuesday."
    assert validate_correction(text, CURRENT) == "The EU agreed new sanctions on Russian oil exports on Monday, not Tuesday."
