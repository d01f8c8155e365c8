"""Admin review of readers' corrections: approve, reject, or trust the reader from now on."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from feeds import store as feed_store

from .. import callbacks, corrections, store
from ..telegram_html import escape
from .admin import admin_only
from .common import is_admin, service_of

log = logging.getLogger(__name__)

COMMANDS = [
    ("review", "Review readers' pending corrections"),
    ("trust", "Trust a reader: /trust USER_ID"),
    ("untrust", "Stop trusting a reader: /untrust USER_ID"),
]
EXCERPT_CHARS = 700


def review_card(db, correction: dict) -> tuple[str, InlineKeyboardMarkup]:
    """The article, the model's summary and the correction, with the three decisions."""
    summary = store.get_summary(db, correction["summary_id"]) or {"text": "(deleted)", "version": "?"}
    article = feed_store.get_article(db, correction["article_id"])
    reader = store.get_subscriber(db, correction["chat_id"]) or {}
    who = f"@{reader['username']}" if reader.get("username") else (reader.get("first_name") or "a reader")
    pending = db.execute("select count(*) from corrections where status = 'pending'").fetchone()[0]
    text = article["text"] or ""
    excerpt = text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
    link = f' — <a href="{escape(article["url"])}">source</a>' if (article.get("url") or "").startswith("http") else ""
    body = (
        f"<b>Correction #{correction['id']}</b> by {escape(who)} (id {correction['user_id']}) · {pending} pending\n\n"
        f"<b>{escape(article['title'] or '')}</b>{link}\n<i>{escape(excerpt)}</i>\n\n"
        f"<b>Model ({escape(summary['version'])}):</b>\n{escape(summary['text'])}\n\n"
        f"<b>Correction:</b>\n{escape(correction['text'])}"
    )
    cid = correction["id"]
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("✅ Approve", callback_data=callbacks.make("rv", cid, "a")),
        InlineKeyboardButton("❌ Reject", callback_data=callbacks.make("rv", cid, "r")),
        InlineKeyboardButton("⭐ Trust reader", callback_data=callbacks.make("rv", cid, "t")),
    ]])
    return body, markup


async def _send_next(message, db) -> None:
    rows = store.pending_corrections(db, 1)
    if not rows:
        await message.reply_text("No corrections are waiting for review.")
        return
    text, markup = review_card(db, rows[0])
    await message.reply_text(text, reply_markup=markup, disable_web_page_preview=True)


@admin_only
async def review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the oldest pending correction with approve / reject / trust buttons."""
    await _send_next(update.effective_message, service_of(context).db)


async def on_review_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Apply an admin's decision, mark the card, and show the next pending correction."""
    query = update.callback_query
    if not is_admin(update, context):
        await query.answer("Reviewing corrections is for admins only.", show_alert=True)
        return
    db = service_of(context).db
    try:
        cb = callbacks.parse(query.data)
        correction_id, action = int(cb.args[0]), cb.args[1]
    except (callbacks.StaleCallback, IndexError, ValueError):
        await query.answer("This button no longer works; send /review again.")
        return
    row = store.get_correction(db, correction_id)
    if row is None or row["status"] != "pending":
        await query.answer(f"Already {row['status'] if row else 'gone'}.")
        await query.edit_message_reply_markup(None)
        return
    reviewer = query.from_user.id
    if action == "r":
        corrections.reject(db, correction_id, reviewer)
        verdict = "❌ Rejected"
    else:
        if action == "t":
            store.set_trusted(db, row["user_id"], True)
        corrections.accept(db, correction_id, reviewer)
        verdict = "✅ Approved" + (" — reader now trusted, later corrections skip review" if action == "t" else "")
    await query.answer(verdict)
    await query.edit_message_text(f"{query.message.text_html}\n\n<b>{verdict}</b>", reply_markup=None, disable_web_page_preview=True)
    if action != "r":
        try:
            await context.bot.send_message(row["chat_id"], "✅ Your correction was accepted and will be used to train the next model. Thank you!")
        except TelegramError as exc:
            log.info("could not tell reader %s: %s", row["chat_id"], exc)
    await _send_next(query.message, db)


async def _set_trust(update: Update, context: ContextTypes.DEFAULT_TYPE, trusted: bool) -> None:
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("-").isdigit():
        await update.effective_message.reply_text(f"Usage: /{'trust' if trusted else 'untrust'} USER_ID (the id shown in /review)")
        return
    user_id = int(args[0])
    store.set_trusted(service_of(context).db, user_id, trusted)
    state = "trusted: their corrections are accepted without review" if trusted else "no longer trusted: their corrections wait for review"
    await update.effective_message.reply_text(f"Reader {user_id} is {state}.")


@admin_only
async def trust(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept a reader's future corrections without review."""
    await _set_trust(update, context, True)


@admin_only
async def untrust(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a reader's future corrections to review again."""
    await _set_trust(update, context, False)
