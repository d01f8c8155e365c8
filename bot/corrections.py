"""Checking a reader's correction before it can become training data."""

from __future__ import annotations

import re
import unicodedata

MIN_CHARS = 20
MAX_CHARS = 1500
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|\[[^\]]*\]\([^)]*\)|```")


class CorrectionRefused(ValueError):
    """The text cannot be used as a correction; the message says why."""


def validate_correction(text: str, current: str) -> str:
    """Return the cleaned correction, or raise CorrectionRefused with what to change."""
    clean = unicodedata.normalize("NFC", text or "")
    clean = "".join(ch for ch in clean if ch in "\n\t" or unicodedata.category(ch)[0] != "C")  # control chars, bidi tricks
    clean = re.sub(r"[ \t]+", " ", clean).strip()
    if len(clean) < MIN_CHARS:
        raise CorrectionRefused(f"That is too short for a summary (at least {MIN_CHARS} characters).")
    if len(clean) > MAX_CHARS:
        raise CorrectionRefused(f"That is too long for a summary ({len(clean)} characters; at most {MAX_CHARS}).")
    if not _URL.sub("", clean).strip() or len(_URL.sub("", clean).split()) < 4:
        raise CorrectionRefused("A correction needs words, not just a link.")
    if _MARKUP.search(clean):
        raise CorrectionRefused("Please send plain text, without HTML or Markdown markup.")
    if " ".join(clean.lower().split()) == " ".join((current or "").lower().split()):
        raise CorrectionRefused("That is the same as the current summary; change what is wrong first.")
    return clean
