"""Chat prompts built from style settings; the same builder serves inference and training."""

from __future__ import annotations

import re

from .settings import LENGTHS, StyleSettings

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]?(?=\s)")

TONE_HINTS = {
    "neutral": "Write in a neutral, factual tone.",
    "analytical": "Write in an analytical tone: say why the event matters for the region or the wider world.",
    "plain": "Write in plain, simple words for a general reader.",
    "formal": "Write in a formal tone, as in a briefing note.",
}


def length_for_reference(summary: str) -> str:
    """Guess which length a reference summary was written at, so training prompts say so."""
    words = len(summary.split())
    if words <= 35:
        return "brief"
    if words <= 90:
        return "standard"
    return "detailed"


def build_messages(article: str, style: StyleSettings, length: str | None = None) -> list[dict]:
    """System and user messages asking for a summary of ``article`` in ``style``."""
    length = length or style.length
    instruction, _ = LENGTHS[length]
    system = f"{style.instructions.strip()} {TONE_HINTS[style.tone]}"
    user = f"Summarize this article {instruction}.\n\n{article.strip()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def max_new_tokens(length: str) -> int:
    return LENGTHS[length][1]


def truncate_words(text: str, tokenizer, max_tokens: int) -> str:
    """Cut ``text`` to at most ``max_tokens`` tokens, never inside a word, and mark the cut with " …".

    The cut falls at the last sentence end in the final third of what fits, else at the last space.
    """
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= max_tokens:
        return text
    cut = tokenizer.decode(ids[: max(1, max_tokens - 2)])  # two tokens of room for the marker
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > len(cut) * 2 // 3:
        cut = cut[: ends[-1]]
    elif cut.rfind(" ") > 0:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + " …"


def article_input(title: str, text: str) -> str:
    """The one string a pair's input holds for an article: headline, blank line, body."""
    title, text = (title or "").strip(), (text or "").strip()
    if title and not text.startswith(title):
        return f"{title}\n\n{text}"
    return text or title
