"""Removing noise from pair text before it is trained on or scored.

Real article text carries page furniture (share bars, "Media playback is not supported on this
device", "Scroll down for video"), markup and links; reference summaries from research datasets
carry tokenisation (" ." , ``quotes'', "-lrb-"). A model trained on either learns to write them.
"""

from __future__ import annotations

import html
import re
import unicodedata

_FURNITURE = [
    re.compile(p, re.I)
    for p in (
        r"Share this with\s*(?:Email|Facebook|Messenger|Twitter|Pinterest|WhatsApp|LinkedIn|\s)*Copy this link",
        r"Media playback is (?:not |un)supported on (?:this|your) device",
        r"Scroll down for (?:video|more)\b",
        r"Follow (?:us|[A-Z][a-z]+) on Twitter\b.*?(?:\.(?=\s|$)|$)",
        r"Read more from [A-Z][a-z]+",
        r"Image (?:copyright|caption)\b[^.\n]{0,80}?(?=[A-Z][a-z]|\n|$)",
        r"(?:Click|Tap) here\b.*?(?:\.(?=\s|$)|$)",
        r"All rights reserved\.?",
    )
]
_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")
_PTB = [  # Penn-Treebank tokenisation left in research references
    (re.compile(r"-lrb-", re.I), "("), (re.compile(r"-rrb-", re.I), ")"),
    (re.compile(r"``\s*"), '"'), (re.compile(r"\s*(?:''|\\'\\')(?=\w)"), '" '), (re.compile(r"\s*(?:''|\\'\\')"), '"'),
    (re.compile(r"\\'"), "'"),
    (re.compile(r"\(\s+"), "("), (re.compile(r"\s+\)"), ")"),
    (re.compile(r"\s+([.,;:!?%])(?=\s|$)"), r"\1"),
    (re.compile(r"\s+('s|'re|'ve|'ll|'d|'m|n't)\b", re.I), r"\1"),
]


def _control_free(text: str) -> str:
    text = unicodedata.normalize("NFC", html.unescape(text or ""))
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def clean_article(text: str) -> str:
    """Article text without page furniture, markup, links or control characters; paragraphs kept."""
    text = _control_free(text)
    text = _TAG.sub(" ", text)
    for pattern in _FURNITURE:
        text = pattern.sub(" ", text)
    text = _EMAIL.sub(" ", _URL.sub(" ", text))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def clean_summary(text: str) -> str:
    """A reference summary detokenised ("Locke 's side ." → "Locke's side.") on one line."""
    text = _TAG.sub(" ", _control_free(text))
    text = " ".join(text.split())
    for pattern, repl in _PTB:
        text = pattern.sub(repl, text)
    return text.strip()
