"""Reader commands: /start, /help, /subscribe, /unsubscribe."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from .. import store
from ..telegram_html import escape
from .common import is_admin, remember_chat, service_of

READER_COMMANDS = [
    ("start", "Welcome and how geobrief works"),
    ("subscribe", "Receive news summaries"),
    ("unsubscribe", "Stop receiving summaries"),
    ("settings", "Realtime or digest, hour, length, tone"),
    ("topics", "Topic filters: include / exclude words"),
    ("timezone", "Your timezone for the digest"),
    ("mycorrections", "Your corrections; withdraw one"),
    ("help", "What the bot can do"),
]

HELP = (
    "<b>geobrief</b> sends short summaries of geopolitical news, written by a small language model "
    "that learns from readers' corrections.\n\n"
    "/subscribe — receive summaries as they are published\n"
    "/unsubscribe — stop\n"
    "/settings — realtime or a daily digest, digest hour, items, summary length and tone\n"
    "/timezone Europe/Berlin — so the digest comes at your local hour\n"
    "/topics — include or exclude topics\n"
    "Under each summary: 👍 / 👎 rate it, ✏️ send a better version (it becomes training data).\n"
    "/mycorrections — see or withdraw your corrections · /cancel — leave a correction you started"
)
ADMIN_HELP = (
    "\n\n<b>Admin</b>\n/status — service health\n/review — approve or reject readers' corrections\n"
    "/trust, /untrust USER_ID — skip review for a reader\n/retrain — fine-tune now on the collected corrections\n"
    "/models — versions, metrics, online 👍 and correction rates · /rollback N · /export — the training set\n"
    "/feeds — feed health · /addfeed URL · /removefeed N · /enablefeed N · /feedfilter N · /exportopml (send an .opml file to import)"
)


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
    if sub["mode"] == "digest":
        await update.effective_message.reply_text(f"Subscribed. Your daily digest comes at {sub['digest_hour']:02d}:00 ({escape(sub['timezone'])}); /settings changes that.")
        return
    queued = service.enqueue_realtime(chat_id=sub["chat_id"], backfill=service.settings.delivery.backfill_on_subscribe)
    context.application.bot_data["outbox"].wake()
    extra = f" Here are the latest {queued}." if queued else " New summaries will arrive as articles are published."
    await update.effective_message.reply_text("Subscribed." + extra + " /settings for a daily digest instead.")


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


async def chat_member_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram tells us when a reader blocks or unblocks the bot: stop or resume deliveries at once."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    db = service_of(context).db
    if store.get_subscriber(db, change.chat.id) is None:
        return
    if change.new_chat_member.status == "kicked":
        store.mark_blocked(db, change.chat.id)
        db.execute("update outbox set status = 'undeliverable', error = 'blocked' where chat_id = ? and status = 'pending'", [change.chat.id])
        db.conn.commit()
    elif change.new_chat_member.status == "member":
        store.update_subscriber(db, change.chat.id, blocked=0)
