"""Feedback on summaries: 👍 / 👎, and ✏️ corrections that become training pairs."""

from __future__ import annotations

import logging

from telegram import ForceReply, Update
from telegram.ext import ContextTypes, ConversationHandler

from trainer import pairs
from trainer.prompts import article_input

from .. import callbacks, store
from ..corrections import CorrectionRefused, validate_correction
from ..telegram_html import escape
from .common import remember_chat, service_of

log = logging.getLogger(__name__)

AWAIT_CORRECTION = 1


async def on_feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Record 👍 / 👎, or start a correction for ✏️."""
    query = update.callback_query
    service = service_of(context)
    try:
        cb = callbacks.parse(query.data)
        summary_id, action = int(cb.args[0]), cb.args[1]
    except (callbacks.StaleCallback, IndexError, ValueError):
        await query.answer("This button is from an older version of the bot; it no longer works.")
        return None
    summary = store.get_summary(service.db, summary_id)
    if summary is None:
        await query.answer("That summary no longer exists.")
        return None
    if action in ("u", "d"):
        store.record_feedback(service.db, summary_id, query.message.chat.id, query.from_user.id, "up" if action == "u" else "down")
        await query.answer("Thanks — noted." if action == "u" else "Thanks — noted. ✏️ lets you send a better version.")
        return None
    if action == "e":
        await query.answer()
        context.user_data["correcting"] = summary_id
        await query.message.reply_text(
            "Send the corrected summary as your reply. The current text, to copy and edit:\n\n"
            f"<code>{escape(summary['text'])}</code>\n\n/cancel leaves it unchanged.",
            reply_markup=ForceReply(selective=True, input_field_placeholder="Your corrected summary"),
        )
        return AWAIT_CORRECTION
    await query.answer("Unknown action.")
    return None


async def receive_correction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Validate the reader's text and store it as a correction (and a training pair when accepted)."""
    service = service_of(context)
    remember_chat(update, context)
    summary_id = context.user_data.get("correcting")
    summary = store.get_summary(service.db, summary_id) if summary_id else None
    if summary is None:
        await update.effective_message.reply_text("That summary is gone; nothing was saved.")
        return ConversationHandler.END
    text = update.effective_message.text or ""
    try:
        clean = validate_correction(text, summary["text"])
    except CorrectionRefused as exc:
        await update.effective_message.reply_text(f"{exc}\nSend another version, or /cancel.")
        return AWAIT_CORRECTION
    user = update.effective_user
    correction_id = store.add_correction(service.db, summary, update.effective_chat.id, user.id, clean, "accepted")
    article = service.article(summary["article_id"])
    pair_id = pairs.add_pair(service.db, article_input(article["title"], article["text"]), clean, "correction",
                             ref=f"article:{article['id']}", length=summary["length"])
    store.update_correction(service.db, correction_id, pair_id=pair_id)
    context.user_data.pop("correcting", None)
    await update.effective_message.reply_text("Thank you — your correction is saved and will be used in the next training run.")
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leave a correction without saving anything."""
    context.user_data.pop("correcting", None)
    await update.effective_message.reply_text("Correction cancelled; nothing was saved.")
    return ConversationHandler.END
