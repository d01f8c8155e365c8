"""Admin commands for model versions: /models, /rollback N, /export."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from trainer import dataset, registry
from trainer.datafiles import DatasetError

from ..model_stats import dataset_extras, online_stats
from ..telegram_html import escape
from .admin import admin_only
from .common import service_of

log = logging.getLogger(__name__)

COMMANDS = [
    ("models", "Model versions: metrics, status, 👍 and correction rates"),
    ("rollback", "Serve an earlier version again: /rollback N"),
    ("export", "Send the training set as a JSONL file"),
]
SHOWN_VERSIONS = 12
MAX_DOCUMENT_BYTES = 49 * 1024 * 1024  # Telegram bots may send files up to 50 MB


def version_lines(db, primary: str) -> list[str]:
    """One entry per version, newest last: status, holdout score against its parent, online rates, the gate's reason."""
    stats = online_stats(db)
    versions = registry.list_versions(db)
    lines = []
    for v in versions[-SHOWN_VERSIONS:]:
        m = registry.metrics_of(v)
        star = " ★" if v["status"] == "champion" else ""
        head = f"<b>{escape(v['name'])}</b>{star} {escape(v['status'])}"
        if primary in m.get("candidate", {}):
            head += f" — {primary} {m['candidate'][primary]:.4f} (vs {escape(m.get('baseline_version', '?'))} {m['baseline'][primary]:.4f})"
        if v["train_pairs"]:
            head += f", {v['train_pairs']} pairs"
        online = stats.get(v["name"])
        lines.append(head + f"\n  online: {online.describe() if online else 'not served yet'}"
                     + (f"\n  {escape((v['decision'] or '')[:200])}" if v["decision"] else ""))
    if len(versions) > SHOWN_VERSIONS:
        lines.insert(0, f"(last {SHOWN_VERSIONS} of {len(versions)}; `geobrief models list` shows all)")
    return lines


@admin_only
async def models(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List model versions with their metrics and what readers made of them."""
    service = service_of(context)
    registry.ensure_base_version(service.db, service.settings.model.base)
    serving = service.summarizer.version if service.summarizer else "loading…"
    lines = [f"<b>Model versions</b> (serving {escape(serving)}; /rollback N to change)"] + version_lines(service.db, service.settings.eval.primary_metric)
    await update.effective_message.reply_text("\n".join(lines))


@admin_only
async def rollback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make version N the champion and serve it at once."""
    service = service_of(context)
    if len(context.args or []) != 1:
        await update.effective_message.reply_text("Usage: /rollback N — e.g. /rollback 2 (/models lists the versions).")
        return
    try:
        version = registry.rollback(service.db, context.args[0], service.settings.model.models_dir, by=f"admin {update.effective_user.id}")
    except (registry.VersionNotFound, registry.RollbackError) as exc:
        await update.effective_message.reply_text(f"Not rolled back: {escape(str(exc))}.")
        return
    try:
        serving = await service.swap_to_champion()
    except Exception as exc:
        log.exception("cannot load %s after rollback", version["name"])
        await update.effective_message.reply_text(f"⚠️ {escape(version['name'])} is the champion but could not be loaded ({escape(str(exc))}); "
                                                  f"still serving {escape(service.summarizer.version if service.summarizer else '?')}.")
        return
    await update.effective_message.reply_text(f"↩️ {escape(serving)} is the champion again and now serving the next summaries.")


@admin_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the training set as chat-format JSONL (/export holdout or /export all for the other sides)."""
    service = service_of(context)
    which = (context.args or ["train"])[0].lower()
    if which not in ("train", "holdout", "all"):
        await update.effective_message.reply_text("Usage: /export [train|holdout|all] — the training set by default.")
        return
    s = service.settings
    name = f"geobrief-{which}-{datetime.now(timezone.utc):%Y%m%d-%H%M}.jsonl"
    with tempfile.TemporaryDirectory(prefix="geobrief-export-") as tmp:
        path = Path(tmp) / name
        try:
            data = dataset.build(service.db, s.training.seed_files, s.training.holdout_fraction, dataset_extras(service.db, s.training.include_thumbs_up))
            rows = await asyncio.to_thread(dataset.export_split, data, path, s.training, s.model, s.style, "chat", which)
        except DatasetError as exc:
            await update.effective_message.reply_text(f"Cannot export: {escape(str(exc))}")
            return
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            await update.effective_message.reply_text(f"The export is {path.stat().st_size >> 20} MB, over Telegram's 50 MB; "
                                                      "run `geobrief dataset export` on the server instead.")
            return
        caption = (f"{rows} {which} pairs as TRL prompt–completion chat records. "
                   f"Load with datasets.load_dataset(\"json\", data_files=\"{name}\").")
        await update.effective_message.reply_document(path.read_bytes(), filename=name, caption=escape(caption))
