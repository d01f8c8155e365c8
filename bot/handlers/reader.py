"""Reader commands: /start, /help, /subscribe, /unsubscribe."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from .. import store
from .common import is_admin, remember_chat, service_of

READER_COMMANDS = [
    ("start", "Welcome and how geobrief works"),
    ("subscribe", "Receive news summaries"),
    ("unsubscribe", "Stop receiving summaries"),
    ("help", "What the bot can do"),
]

HELP = (
    "<b>geobrief</b> sends short summaries of geopolitical news, written by a small language model "
    "that learns from readers' corrections.\n\n"
    "/subscribe — receive summaries as they are published\n"
    "/unsubscribe — stop\n"
    "Under each summary: 👍 / 👎 rate it, ✏️ send a better version (it becomes training data).\n"
    "/cancel — leave a correction you started"
)
ADMIN_HELP = "\n\n<b>Admin</b>\n/status — service health\n/retrain — fine-tune now on the collected corrections"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the reader (and reactivate a reader who had blocked the bot)."""
    sub = remember_chat(update, context)
    state = "You are subscribed." if sub["active"] else "Send /subscribe to start receiving summaries."
    await update.effective_message.reply_text(f"Welcome to geobrief, {update.effective_user.first_name}. {state}\n\n/help shows everything.")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands this user may use."""
    remember_chat(update, context)
    await update.effective_message.reply_text(HELP + (ADMIN_HELP if is_admin(update, context) else ""))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start deliveries to this chat, beginning with the latest few summaries."""
    service = service_of(context)
    sub = remember_chat(update, context)
    if sub["active"]:
        await update.effective_message.reply_text("You are already subscribed. /unsubscribe stops the summaries.")
        return
    store.set_active(service.db, sub["chat_id"], True)
    queued = service.enqueue_realtime(chat_id=sub["chat_id"], backfill=3)
    context.application.bot_data["outbox"].wake()
    extra = f" Here are the latest {queued}." if queued else " New summaries will arrive as articles are published."
    await update.effective_message.reply_text("Subscribed." + extra)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop deliveries to this chat."""
    service = service_of(context)
    sub = remember_chat(update, context)
    if not sub["active"]:
        await update.effective_message.reply_text("You are not subscribed. /subscribe to start.")
        return
    store.set_active(service.db, sub["chat_id"], False)
    service.db.execute("update outbox set status = 'undeliverable', error = 'unsubscribed' where chat_id = ? and status = 'pending'", [sub["chat_id"]])
    service.db.conn.commit()
    await update.effective_message.reply_text("Unsubscribed. /subscribe brings the summaries back.")
