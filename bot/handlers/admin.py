"""Admin commands: /status and /retrain. Everyone else is told the command is for admins."""

from __future__ import annotations

import functools
import json

from telegram import Update
from telegram.ext import ContextTypes

from trainer import pairs, registry, runs

from ..telegram_html import escape
from ..training import TrainingRefused, start_training
from .common import is_admin, remember_chat, service_of

ADMIN_COMMANDS = [
    ("status", "Service health: feeds, summaries, model"),
    ("retrain", "Fine-tune now on collected corrections"),
]


def admin_only(handler):
    """Run ``handler`` for admins; answer anyone else with a refusal and do nothing."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE):
        remember_chat(update, context)
        if not is_admin(update, context):
            command = (update.effective_message.text or "").split()[0] if update.effective_message and update.effective_message.text else "That"
            await update.effective_message.reply_text(f"{escape(command)} is for admins only.")
            return None
        return await handler(update, context)

    guarded.admin_only = True  # lets tests and the command menu find every admin command
    return guarded


@admin_only
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Feeds, articles, summaries, subscribers, corrections, and the serving model."""
    service = service_of(context)
    db = service.db
    one = lambda sql, *a: db.execute(sql, a).fetchone()[0]  # noqa: E731
    champ = registry.champion(db)
    metrics = json.loads(champ["metrics"]) if champ and champ["metrics"] else {}
    score = metrics.get("candidate", {}).get(service.settings.eval.primary_metric)
    last = runs.last_run(db)
    today = one("select count(*) from articles where fetched_at >= date('now')")
    pending_out = one("select count(*) from outbox where status = 'pending'")
    pending_corr = one("select count(*) from corrections where status = 'pending'")
    lines = [
        "<b>geobrief status</b>",
        f"Feeds: {one('select count(*) from feeds where enabled = 1')} enabled, {one('select count(*) from feeds where enabled = 0')} disabled",
        f"Articles: {one('select count(*) from articles')} ({today} today)",
        f"Summaries: {one('select count(*) from summaries')}; outbox pending: {pending_out}",
        f"Subscribers: {one('select count(*) from subscribers where active = 1 and blocked = 0')} active",
        f"Corrections: {pending_corr} pending, {pairs.count_active(db, 'correction')} in the training set",
        f"Serving model: {escape(service.summarizer.version if service.summarizer else 'loading…')}"
        + (f" ({service.settings.eval.primary_metric} {score:.4f})" if score is not None else ""),
    ]
    if last:
        lines.append(f"Last training run: #{last['id']} {last['status']}" + (f" — {escape(last['reason'] or '')}" if last["reason"] else ""))
    job = context.job_queue.get_jobs_by_name("retrain") if context.job_queue else []
    if job and job[0].next_t:
        lines.append(f"Next scheduled retrain: {job[0].next_t:%Y-%m-%d %H:%M %Z}")
    await update.effective_message.reply_text("\n".join(lines))


@admin_only
async def retrain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a fine-tune now; progress is edited into one message."""
    try:
        job = await start_training(context.application, f"admin:{update.effective_user.id}", [update.effective_chat.id])
    except TrainingRefused as exc:
        await update.effective_message.reply_text(f"Not started: {escape(str(exc))}.")
        return
    await update.effective_message.reply_text(f"Training run #{job.run_id} launched. I'll edit its progress below and report the result.")
