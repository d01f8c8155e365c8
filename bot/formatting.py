"""Rendering what readers see; everything from feeds and readers is escaped here."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from . import callbacks
from .telegram_html import MAX_MESSAGE_LENGTH, escape, parse_html, split_html


def _attr(url: str) -> str:
    return escape(url).replace('"', "&quot;")


def source_links(sources: list[dict]) -> str:
    """"BBC · Reuters" with each name linking to its article (plain names where a URL is unusable)."""
    parts, seen = [], set()
    for src in sources:
        name = src.get("feed_title") or "source"
        url = src.get("url") or ""
        if (name, url) in seen:
            continue
        seen.add((name, url))
        parts.append(f'<a href="{_attr(url)}">{escape(name)}</a>' if url.startswith(("http://", "https://")) else escape(name))
    return " · ".join(parts)


def summary_html(article: dict, summary: dict, sources: list[dict]) -> str:
    title = escape(article.get("title") or "")
    return f"<b>{title}</b>\n{escape(summary['text'])}\n\n{source_links(sources)} · <i>model {escape(summary['version'])}</i>"


def feedback_buttons(summary_id: int, label: str = "") -> list[InlineKeyboardButton]:
    prefix = f"{label} " if label else ""
    return [
        InlineKeyboardButton(f"{prefix}👍", callback_data=callbacks.make("fb", summary_id, "u")),
        InlineKeyboardButton(f"{prefix}👎", callback_data=callbacks.make("fb", summary_id, "d")),
        InlineKeyboardButton(f"{prefix}✏️" if label else "✏️ Correct", callback_data=callbacks.make("fb", summary_id, "e")),
    ]


def feedback_keyboard(summary_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([feedback_buttons(summary_id)])


def digest_messages(day: date, items: list[tuple[dict, dict, list[dict]]]) -> list[tuple[str, InlineKeyboardMarkup]]:
    """A digest as few messages as fit: a header, numbered items with their sources, a button row per item."""
    header = f"🗞 <b>Your geobrief digest — {day:%A %-d %B}</b>\n{len(items)} item{'s' if len(items) != 1 else ''}, most relevant first."
    blocks = []
    for n, (article, summary, sources) in enumerate(items, 1):
        block = f"<b>{n}. {escape(article.get('title') or '')}</b>\n{escape(summary['text'])}\n{source_links(sources)} · <i>{escape(summary['version'])}</i>"
        blocks.append((n, summary["id"], block))
    messages, current, rows = [], header, []
    for n, sid, block in blocks:
        candidate = f"{current}\n\n{block}"
        if parse_html(candidate).utf16_length > MAX_MESSAGE_LENGTH or len(rows) >= 25:
            messages.append((current, rows))
            current, rows = block, []
        else:
            current = candidate
        rows.append(feedback_buttons(sid, str(n)))
    messages.append((current, rows))
    out = []
    for text, rows in messages:
        parts = split_html(text)  # a single oversized item still fits Telegram
        for i, part in enumerate(parts):
            out.append((part, InlineKeyboardMarkup(rows) if i == len(parts) - 1 and rows else None))
    return out
