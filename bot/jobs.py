"""JobQueue callbacks: thin wrappers that call feeds/trainer code and report."""

from __future__ import annotations

import logging

from telegram.error import TelegramError
from telegram.ext import ContextTypes

from feeds.poll import poll_feeds

from .telegram_html import escape
from .training import TrainingRefused, start_training

log = logging.getLogger(__name__)


async def poll_feeds_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch every due feed; queue summarizing when something is new; tell admins about feeds it disabled."""
    service = context.application.bot_data["service"]
    report = await poll_feeds(service.db, service.settings.feeds)
    log.info("polled %d feeds: %d new articles, %d skipped %s, %d unchanged, %d errors, %d in backoff", report.polled, len(report.new_article_ids),
             len(report.skipped_article_ids), dict(report.skipped), report.not_modified, len(report.errors), report.deferred)
    if report.new_article_ids:
        context.job_queue.run_once(summarize_job, 0, name="summarize-now")
    for feed in report.disabled:
        text = (f"⛔ Feed #{feed.id} {escape(feed.title or feed.url)} was disabled: {escape(feed.reason)}\n"
                f"{escape(feed.url)}\n/enablefeed {feed.id} re-enables it.")
        for admin_id in service.settings.telegram.admin_ids:
            try:
                await context.bot.send_message(admin_id, text, disable_web_page_preview=True)
            except TelegramError as exc:
                log.warning("cannot tell admin %s that feed %s was disabled: %s", admin_id, feed.id, exc)


async def summarize_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Summarize new articles off the event loop and queue them for delivery."""
    service = context.application.bot_data["service"]
    if service.model_error:
        return
    made = await service.summarize_new()
    if made:
        log.info("summarized %d articles", made)
        context.application.bot_data["outbox"].wake()


async def retrain_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Scheduled retraining: runs only when enough new accepted pairs arrived since the last completed run."""
    from trainer import runs

    service = context.application.bot_data["service"]
    new_pairs = runs.new_pairs_since_last_run(service.db)
    if new_pairs < service.settings.training.min_new_pairs:
        log.info("scheduled retrain skipped: %d new accepted pairs (< training.min_new_pairs = %d)", new_pairs, service.settings.training.min_new_pairs)
        return
    try:
        await start_training(context.application, "schedule", service.settings.telegram.admin_ids)
    except TrainingRefused as exc:
        log.info("scheduled retrain skipped: %s", exc)


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Queue the digests whose local hour has come; the outbox sends them."""
    from .digest import queue_due_digests

    service = context.application.bot_data["service"]
    queued = queue_due_digests(service.db, service.clock(), service.settings.delivery.digest_window_hours, service.filter_for)
    if any(queued.values()):
        context.application.bot_data["outbox"].wake()


async def champion_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Serve the champion the registry names, when it changed outside the bot (`geobrief models rollback`)."""
    service = context.application.bot_data["service"]
    if not service.model_ready.is_set():
        return
    try:
        await service.swap_to_champion()
    except Exception:
        log.exception("cannot load the champion; the serving model stays")
