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


def validate_correction(text: str, current: str, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> str:
    """Return the cleaned correction, or raise CorrectionRefused with what to change."""
    clean = unicodedata.normalize("NFC", text or "")
    clean = "".join(ch for ch in clean if ch in "\n\t" or unicodedata.category(ch)[0] != "C")  # control chars, bidi tricks
    clean = re.sub(r"[ \t]+", " ", clean).strip()
    if len(clean) < min_chars:
        raise CorrectionRefused(f"That is too short for a summary (at least {min_chars} characters).")
    if len(clean) > max_chars:
        raise CorrectionRefused(f"That is too long for a summary ({len(clean)} characters; at most {max_chars}).")
    if not _URL.sub("", clean).strip() or len(_URL.sub("", clean).split()) < 4:
        raise CorrectionRefused("A correction needs words, not just a link.")
    if _MARKUP.search(clean):
        raise CorrectionRefused("Please send plain text, without HTML or Markdown markup.")
    if " ".join(clean.lower().split()) == " ".join((current or "").lower().split()):
        raise CorrectionRefused("That is the same as the current summary; change what is wrong first.")
    return clean


# ---- a correction's life: pending → accepted / rejected, or withdrawn by its author --------------

def _pair_ref(correction_id: int) -> str:
    return f"correction:{correction_id}"


def accept(db, correction_id: int, reviewer_id: int | None = None) -> int:
    """Turn the correction into a training pair (the latest for an article wins in the dataset)."""
    from feeds import store as feed_store
    from trainer import pairs
    from trainer.prompts import article_input

    from . import store

    correction = store.get_correction(db, correction_id)
    summary = store.get_summary(db, correction["summary_id"])
    article = feed_store.get_article(db, correction["article_id"])
    pair_id = pairs.add_pair(db, article_input(article["title"], article["text"]), correction["text"], "correction",
                             ref=_pair_ref(correction_id), length=summary["length"] if summary else None)
    store.update_correction(db, correction_id, status="accepted", pair_id=pair_id, reviewed_at=store.utcnow(), reviewed_by=reviewer_id)
    return pair_id


def reject(db, correction_id: int, reviewer_id: int) -> None:
    from . import store

    store.update_correction(db, correction_id, status="rejected", reviewed_at=store.utcnow(), reviewed_by=reviewer_id)


def withdraw(db, correction_id: int) -> None:
    """The author takes it back: it leaves the training set (an earlier correction may count again)."""
    from trainer import pairs

    from . import store

    pairs.deactivate(db, "correction", _pair_ref(correction_id))
    store.update_correction(db, correction_id, status="withdrawn")
