"""Feedback on summaries: 👍 / 👎, ✏️ corrections, and a reader's own list of corrections."""

from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, ConversationHandler

from .. import callbacks, corrections, store
from ..telegram_html import escape
from .common import is_admin, remember_chat, service_of

log = logging.getLogger(__name__)

AWAIT_CORRECTION = 1
STATUS_LABEL = {"pending": "⏳ waiting for review", "accepted": "✅ in the training set", "rejected": "❌ not accepted", "withdrawn": "↩️ withdrawn"}


async def on_feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Record 👍 / 👎 against the version that wrote the summary, or start a correction for ✏️."""
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
    if action != "e":
        await query.answer("Unknown action.")
        return None
    user_id = query.from_user.id
    cap = service.settings.corrections.daily_cap
    if store.corrections_today(service.db, user_id) >= cap:
        await query.answer(f"You have sent {cap} corrections in the last 24 hours, the daily limit. Thank you — try again tomorrow.", show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["correcting"] = summary_id
    await query.message.reply_text(
        "Send the corrected summary as your reply. The current text, to copy and edit:\n\n"
        f"<code>{escape(summary['text'])}</code>\n\n/cancel leaves it unchanged.",
        reply_markup=ForceReply(selective=True, input_field_placeholder="Your corrected summary"),
    )
    return AWAIT_CORRECTION


async def receive_correction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Validate the reader's text and store it: accepted at once from trusted readers, else queued for review."""
    service = service_of(context)
    remember_chat(update, context)
    summary_id = context.user_data.get("correcting")
    summary = store.get_summary(service.db, summary_id) if summary_id else None
    if summary is None:
        await update.effective_message.reply_text("That summary is gone; nothing was saved.")
        return ConversationHandler.END
    cfg = service.settings.corrections
    try:
        clean = corrections.validate_correction(update.effective_message.text or "", summary["text"], cfg.min_chars, cfg.max_chars)
    except corrections.CorrectionRefused as exc:
        await update.effective_message.reply_text(f"{escape(str(exc))}\nSend another version, or /cancel.")
        return AWAIT_CORRECTION
    user = update.effective_user
    trusted = store.is_trusted(service.db, user.id) or (cfg.trust_admins and is_admin(update, context))
    correction_id = store.add_correction(service.db, summary, update.effective_chat.id, user.id, clean, "pending")
    context.user_data.pop("correcting", None)
    if trusted:
        corrections.accept(service.db, correction_id)
        await update.effective_message.reply_text("Thank you — your correction is saved and will be used in the next training run.")
    else:
        await update.effective_message.reply_text("Thank you — your correction is saved and waits for an editor's review. /mycorrections shows it.")
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leave a correction without saving anything."""
    had = context.user_data.pop("correcting", None)
    await update.effective_message.reply_text("Correction cancelled; nothing was saved." if had else "Nothing to cancel.")
    return ConversationHandler.END


def _my_corrections_view(db, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = store.user_corrections(db, user_id)
    if not rows:
        return "You have not sent any corrections yet. Press ✏️ under a summary to send one.", None
    lines, buttons = ["<b>Your latest corrections</b>"], []
    for n, row in enumerate(rows, 1):
        lines.append(f"{n}. {STATUS_LABEL.get(row['status'], row['status'])} — {escape(row['text'][:160])}")
        if row["status"] in ("pending", "accepted"):
            buttons.append(InlineKeyboardButton(f"↩️ Withdraw {n}", callback_data=callbacks.make("cr", row["id"], "w")))
    markup = InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)]) if buttons else None
    return "\n".join(lines), markup


async def my_corrections(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the reader's own corrections, with a button to withdraw each."""
    remember_chat(update, context)
    text, markup = _my_corrections_view(service_of(context).db, update.effective_user.id)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_withdraw_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Withdraw one of the reader's own corrections; nobody else's."""
    query = update.callback_query
    db = service_of(context).db
    try:
        correction_id = int(callbacks.parse(query.data).args[0])
    except (callbacks.StaleCallback, IndexError, ValueError):
        await query.answer("This button no longer works.")
        return
    row = store.get_correction(db, correction_id)
    if row is None or row["user_id"] != query.from_user.id:
        await query.answer("That is not one of your corrections.", show_alert=True)
        return
    if row["status"] not in ("pending", "accepted"):
        await query.answer("Already withdrawn or reviewed.")
        return
    corrections.withdraw(db, correction_id)
    await query.answer("Withdrawn; it will not be used for training.")
    text, markup = _my_corrections_view(db, query.from_user.id)
    await query.edit_message_text(text, reply_markup=markup)
