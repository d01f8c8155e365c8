"""The one factory that wires the PTB Application: handlers, error handler, jobs, start-up and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
import traceback
import warnings

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, ChatMemberHandler, CommandHandler, ContextTypes,
                          ConversationHandler, Defaults, MessageHandler, filters)
from telegram.warnings import PTBUserWarning

from feeds import parse_pool
from feeds.poll import sync_sources
from trainer import runs

from . import callbacks, jobs
from .db import open_db
from .handlers import admin, feedback, feeds_admin, models_admin, reader, review, settings_menu
from .outbox import Outbox
from .service import Service
from .settings import Settings, TelegramSettings

log = logging.getLogger(__name__)


ERROR_REPEAT_S = 3600  # the same error reaches the admins at most once an hour


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log unexpected errors with their traceback; tell the reader, and the admins once, without secrets."""
    log.error("unhandled error", exc_info=context.error)
    service: Service = context.application.bot_data["service"]
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text("Sorry, something went wrong on our side. The admins have been told.")
        except TelegramError:
            pass
    signature = f"{type(context.error).__name__}:{context.error}"[:300]
    told = context.application.bot_data.setdefault("errors_told", {})
    now = time.monotonic()
    if now - told.get(signature, -ERROR_REPEAT_S) < ERROR_REPEAT_S:
        return
    told[signature] = now
    tb = "".join(traceback.format_exception(context.error))[-1500:]
    token = service.settings.telegram.token
    if token:
        tb = tb.replace(token, "<token>")
    for admin_id in service.settings.telegram.admin_ids:
        try:
            await context.bot.send_message(admin_id, f"⚠️ Unhandled error (repeats are muted for an hour):\n<pre>{html.escape(tb)}</pre>")
        except TelegramError:
            pass


async def _post_init(application: Application) -> None:
    service: Service = application.bot_data["service"]
    sync_sources(service.db, service.settings.feeds)
    runs.reap_stale(service.db)
    await _set_commands(application)
    outbox = application.bot_data["outbox"] = Outbox(service.db, application.bot, service.settings.telegram.per_chat_interval_s)
    application.bot_data["outbox_task"] = asyncio.create_task(outbox.run(), name="outbox")
    application.bot_data["model_task"] = asyncio.create_task(service.load_model(), name="load-model")


async def _post_stop(application: Application) -> None:
    outbox = application.bot_data.get("outbox")
    if outbox:
        await outbox.stop()
        application.bot_data["outbox_task"].cancel()
    service: Service = application.bot_data["service"]
    if service.training and service.training.task and not service.training.task.done():
        # The child keeps training; its result is recorded in the database and served after restart.
        service.training.task.cancel()
    await asyncio.to_thread(parse_pool.shutdown)


async def _set_commands(application: Application) -> None:
    """Readers see reader commands; each admin's chat also lists the admin commands."""
    service: Service = application.bot_data["service"]
    reader_cmds = [BotCommand(c, d) for c, d in reader.READER_COMMANDS]
    admin_cmds = reader_cmds + [BotCommand(c, d) for c, d in admin.ADMIN_COMMANDS + review.COMMANDS + models_admin.COMMANDS + feeds_admin.COMMANDS]
    try:
        await application.bot.set_my_commands(reader_cmds, scope=BotCommandScopeDefault())
        for admin_id in service.settings.telegram.admin_ids:
            await application.bot.set_my_commands(admin_cmds, scope=BotCommandScopeChat(admin_id))
    except TelegramError as exc:  # e.g. an admin who never opened a chat with the bot
        log.warning("cannot set the command menu: %s", exc)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons nobody handles (old messages, forged data) get a friendly answer, never an exception."""
    await update.callback_query.answer("This button no longer works.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what exists instead of staying silent."""
    await update.effective_message.reply_text("I don't know that command. /help lists what I can do.")


def add_handlers(application: Application) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # CallbackQueryHandler entry with per_message=False is intended
        correction = ConversationHandler(
            entry_points=[CallbackQueryHandler(feedback.on_feedback_button, pattern=callbacks.pattern("fb"))],
            states={feedback.AWAIT_CORRECTION: [MessageHandler(filters.TEXT & ~filters.COMMAND, feedback.receive_correction)]},
            fallbacks=[CommandHandler("cancel", feedback.cancel)],
            allow_reentry=True,
            conversation_timeout=3600,
        )
    application.add_handler(correction)
    for name, callback in [
        ("start", reader.start), ("help", reader.help_command), ("subscribe", reader.subscribe), ("unsubscribe", reader.unsubscribe),
        ("settings", settings_menu.settings), ("timezone", settings_menu.set_timezone), ("topics", settings_menu.topics),
        ("mycorrections", feedback.my_corrections), ("cancel", feedback.cancel),
        ("status", admin.status), ("retrain", admin.retrain),
        ("review", review.review), ("trust", review.trust), ("untrust", review.untrust),
        ("models", models_admin.models), ("rollback", models_admin.rollback), ("export", models_admin.export),
    ]:
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(settings_menu.on_settings_button, pattern=callbacks.pattern("st")))
    application.add_handler(CallbackQueryHandler(review.on_review_button, pattern=callbacks.pattern("rv")))
    application.add_handler(CallbackQueryHandler(feedback.on_withdraw_button, pattern=callbacks.pattern("cr")))
    for name, _ in feeds_admin.COMMANDS:
        application.add_handler(CommandHandler(name, getattr(feeds_admin, name)))
    application.add_handler(CallbackQueryHandler(feeds_admin.on_feed_button, pattern=callbacks.pattern("fa")))
    application.add_handler(MessageHandler(filters.Document.FileExtension("opml") | filters.Document.FileExtension("xml"), feeds_admin.import_opml))
    application.add_handler(ChatMemberHandler(reader.chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_error_handler(on_error)


def schedule_jobs(application: Application, settings: Settings) -> None:
    jq = application.job_queue
    jq.run_repeating(jobs.poll_feeds_job, interval=settings.feeds.poll_interval_s, first=1, name="poll-feeds")
    jq.run_repeating(jobs.summarize_job, interval=settings.delivery.summarize_interval_s, first=5, name="summarize")
    jq.run_repeating(jobs.digest_job, interval=settings.delivery.digest_check_interval_s, first=10, name="digests")
    jq.run_repeating(jobs.champion_job, interval=60, first=60, name="champion")
    if settings.training.schedule:
        from apscheduler.triggers.cron import CronTrigger

        jq.run_custom(jobs.retrain_job, job_kwargs={"trigger": CronTrigger.from_crontab(settings.training.schedule)}, name="retrain")


def build_application(settings: Settings, service: Service | None = None) -> Application:
    """Build the bot: the same factory serves `geobrief run`, the offline demo and the tests."""
    if not settings.telegram.token:
        raise ValueError("no bot token: set TELEGRAM_BOT_TOKEN")
    t = settings.telegram
    application = (
        ApplicationBuilder()
        .token(t.token)
        .base_url(t.base_url)
        .base_file_url(t.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(AIORateLimiter(overall_max_rate=t.max_messages_per_second, overall_time_period=1, max_retries=3))
        .concurrent_updates(False)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .build()
    )
    application.bot_data["service"] = service or Service(settings, open_db(settings.db_path))
    add_handlers(application)
    schedule_jobs(application, settings)
    return application


ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


@contextlib.asynccontextmanager
async def running(application: Application, poll_interval: float = 0.0, poll_timeout: int = 1):
    """Run the application inside an existing event loop (the demo and tests), as run_polling/run_webhook would."""
    t: "TelegramSettings" = application.bot_data["service"].settings.telegram
    async with application:
        await application.post_init(application)
        await application.start()
        if t.mode == "webhook":
            await application.updater.start_webhook(listen=t.webhook_listen, port=t.webhook_port, url_path=WEBHOOK_PATH,
                                                    webhook_url=webhook_endpoint(t), secret_token=t.webhook_secret or None,
                                                    allowed_updates=ALLOWED_UPDATES)
        else:
            await application.updater.start_polling(poll_interval=poll_interval, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_stop(application)


WEBHOOK_PATH = "telegram"


def webhook_endpoint(t: "TelegramSettings") -> str:
    return t.webhook_url.rstrip("/") + "/" + WEBHOOK_PATH


def run_forever(application: Application) -> None:
    """`geobrief run`: long polling or a webhook server, until interrupted."""
    t = application.bot_data["service"].settings.telegram
    if t.mode == "webhook":
        application.run_webhook(listen=t.webhook_listen, port=t.webhook_port, url_path=WEBHOOK_PATH, webhook_url=webhook_endpoint(t),
                                secret_token=t.webhook_secret or None, allowed_updates=ALLOWED_UPDATES)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
