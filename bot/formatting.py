"""Rendering what readers see; everything from feeds and readers is escaped here."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from . import callbacks
from .telegram_html import escape


def summary_html(article: dict, summary: dict, feed_title: str = "") -> str:
    title = escape(article.get("title") or "")
    body = escape(summary["text"])
    url = article.get("url") or ""
    source = escape(feed_title or "source")
    link = f'<a href="{escape(url).replace(chr(34), "&quot;")}">{source}</a>' if url.startswith(("http://", "https://")) else source
    return f"<b>{title}</b>\n{body}\n\n{link} · <i>model {escape(summary['version'])}</i>"


def feedback_keyboard(summary_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("👍", callback_data=callbacks.make("fb", summary_id, "u")),
        InlineKeyboardButton("👎", callback_data=callbacks.make("fb", summary_id, "d")),
        InlineKeyboardButton("✏️ Correct", callback_data=callbacks.make("fb", summary_id, "e")),
    ]])
