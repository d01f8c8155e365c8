"""Admin feed management in the chat: /feeds, /addfeed, /removefeed, /enablefeed, /feedfilter, /exportopml, and OPML import by document."""

from __future__ import annotations

import io

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from feeds import manage, store
from feeds.filters import feed_rules, split_entries
from feeds.opml import OpmlError

from .. import callbacks
from ..telegram_html import escape, split_html
from .admin import admin_only
from .common import is_admin, service_of

COMMANDS = [
    ("feeds", "Feeds: state, last success, items today, errors"),
    ("addfeed", "Add a feed: /addfeed URL [title]"),
    ("removefeed", "Remove a feed: /removefeed N"),
    ("enablefeed", "Re-enable a disabled feed: /enablefeed N"),
    ("feedfilter", "A feed's filters: /feedfilter N include|exclude words, relevance X, clear"),
    ("exportopml", "Download the feed list as OPML"),
]
STATE_ICON = {"ok": "✅", "new": "🆕", "failing": "⚠️", "backoff": "⏳", "disabled": "⛔"}
MAX_OPML_UPLOAD = 2_000_000
MAX_BUTTONS = 20


def feed_line(row: dict) -> str:
    """One feed as HTML: id, state, title, last success, items today, last error."""
    name = escape(row["title"] or row["url"])
    line = f"<b>#{row['id']}</b> {STATE_ICON[row['state']]} {name}\n    last success {_when(row['last_success_at'])} · {row['today']} today"
    if row["skipped_today"]:
        line += f" ({row['skipped_today']} skipped)"
    if row["state"] == "disabled":
        line += f"\n    disabled: {escape(row['disabled_reason'] or 'by an admin')} — /enablefeed {row['id']}"
    elif row["last_error"]:
        line += f"\n    {row['consecutive_errors']} failure(s), last: {escape(row['last_error'][:200])}"
        if row["state"] == "backoff":
            line += f"; next try {_when(row['next_poll_at'])}"
    if row.get("rules") and row["rules"].custom:
        line += f"\n    {escape(row['rules'].describe())}"
    return line


def _when(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "never"


def _feed_id(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    try:
        return int(context.args[0].lstrip("#")) if context.args else None
    except ValueError:
        return None


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every feed's state, last success, items today and last error; buttons re-enable disabled ones."""
    service = service_of(context)
    rows = manage.status_rows(service.db, service.settings.feeds)
    if not rows:
        await update.effective_message.reply_text("No feeds yet. Add one with /addfeed URL, or send me an OPML file.")
        return
    counts = {s: sum(r["state"] == s for r in rows) for s in STATE_ICON}
    head = f"<b>Feeds</b>: {len(rows)} — " + ", ".join(f"{STATE_ICON[s]} {n} {s}" for s, n in counts.items() if n)
    parts = split_html(head + "\n\n" + "\n".join(feed_line(r) for r in rows))
    disabled = [r for r in rows if r["state"] == "disabled"][:MAX_BUTTONS]
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(f"Enable #{r['id']}", callback_data=callbacks.make("fa", "en", r["id"]))] for r in disabled]) if disabled else None
    for i, part in enumerate(parts):
        await update.effective_message.reply_text(part, disable_web_page_preview=True, reply_markup=markup if i == len(parts) - 1 else None)


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and parse the URL first; add it only when it is a feed."""
    if not context.args:
        await update.effective_message.reply_text("Usage: /addfeed URL [title]\nExample: /addfeed https://feeds.bbci.co.uk/news/world/rss.xml BBC World")
        return
    service = service_of(context)
    url, title = context.args[0], " ".join(context.args[1:]).strip()
    try:
        feed, check, new = await manage.add_checked(service.db, url, title, service.settings.feeds.fetch)
    except manage.NotAFeed as exc:
        await update.effective_message.reply_text(f"Not added: {escape(str(exc))}")
        return
    name = escape(feed["title"] or feed["url"])
    if not new:
        await update.effective_message.reply_text(f"Already polling that feed as #{feed['id']} {name}.")
        return
    await update.effective_message.reply_text(f"Added #{feed['id']} {name} ({check.entries} entries now). It is polled from the next pass.")


@admin_only
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop polling a feed; its articles and summaries stay."""
    feed_id = _feed_id(context)
    if feed_id is None:
        await update.effective_message.reply_text("Usage: /removefeed N (the number /feeds shows)")
        return
    service = service_of(context)
    try:
        feed = store.remove_feed(service.db, feed_id)
    except store.FeedNotFound as exc:
        await update.effective_message.reply_text(f"{escape(str(exc))}. /feeds lists them.")
        return
    note = " It is also in config.toml; remove it there too, or it stays removed only in this database." if service.settings.feeds.source_for(feed["url"]) else ""
    await update.effective_message.reply_text(f"Removed #{feed_id} {escape(feed['title'] or feed['url'])}.{note}")


async def _enable(update: Update, context: ContextTypes.DEFAULT_TYPE, feed_id: int) -> str:
    try:
        feed = store.enable_feed(service_of(context).db, feed_id)
    except store.FeedNotFound as exc:
        return f"{exc}."
    return f"Enabled #{feed_id} {feed['title'] or feed['url']}; it is polled on the next pass."


@admin_only
async def enablefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-enable a disabled feed and forget its failures."""
    feed_id = _feed_id(context)
    if feed_id is None:
        await update.effective_message.reply_text("Usage: /enablefeed N (the number /feeds shows)")
        return
    await update.effective_message.reply_text(escape(await _enable(update, context, feed_id)))


FEEDFILTER_HELP = (
    "Usage: /feedfilter N — show feed N's filters\n"
    "/feedfilter N include ukraine, sanctions — keep only its items mentioning one of these\n"
    "/feedfilter N exclude football, /celebrit(y|ies)/ — drop its items mentioning any of these\n"
    "/feedfilter N relevance 0.2 — its own relevance threshold (0 keeps everything; 'default' for the global one)\n"
    "/feedfilter N clear — drop the filters set here (config.toml's stay)\n"
    "Words match whole words, any case; /regex/ is a regular expression. They apply from the next poll."
)


def _threshold(text: str) -> float:
    if text.lower() == "default":
        return -1
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{text!r} is not a threshold: write a number between 0 and 1, or 'default'") from None


@admin_only
async def feedfilter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show or change one feed's include/exclude words and relevance threshold."""
    feed_id, args = _feed_id(context), (context.args or [])[1:]
    if feed_id is None:
        await update.effective_message.reply_text(FEEDFILTER_HELP)
        return
    service = service_of(context)
    action = args[0].lower() if args else ""
    words = split_entries(" ".join(args[1:]))
    try:
        if action in ("include", "exclude"):
            manage.set_filters(service.db, feed_id, **{action: words})
        elif action == "relevance" and len(args) == 2:
            manage.set_filters(service.db, feed_id, min_relevance=_threshold(args[1]))
        elif action == "clear":
            manage.set_filters(service.db, feed_id, clear=True)
        elif action:
            await update.effective_message.reply_text(FEEDFILTER_HELP)
            return
        feed = store.get_feed(service.db, feed_id)
    except store.FeedNotFound as exc:
        await update.effective_message.reply_text(f"{escape(str(exc))}. /feeds lists them.")
        return
    except ValueError as exc:
        await update.effective_message.reply_text(f"Not saved: {escape(str(exc))}")
        return
    rules = feed_rules(feed, service.settings.feeds).describe()
    head = "Saved. " if action else ""
    await update.effective_message.reply_text(f"{head}Feed #{feed_id} {escape(feed['title'] or feed['url'])}: {escape(rules)}", disable_web_page_preview=True)


async def on_feed_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Enable button under /feeds; stale or unknown buttons get a friendly answer."""
    query = update.callback_query
    if not is_admin(update, context):
        await query.answer("Feed management is for admins only.", show_alert=True)
        return
    try:
        cb = callbacks.parse(query.data)
        action, feed_id = cb.args[0], int(cb.args[1])
        if cb.kind != "fa" or action != "en":
            raise callbacks.StaleCallback(query.data)
    except (callbacks.StaleCallback, IndexError, ValueError):
        await query.answer("That button is from an older message; send /feeds again.")
        return
    text = await _enable(update, context, feed_id)
    await query.answer(text[:200])
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        pass


@admin_only
async def exportopml(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the feed list as an OPML document."""
    data = manage.export_opml(service_of(context).db)
    await update.effective_message.reply_document(io.BytesIO(data), filename="geobrief-feeds.opml", caption="Your feeds as OPML.")


@admin_only
async def import_opml(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sent an .opml/.xml document: add its feeds, keeping titles."""
    doc = update.effective_message.document
    if doc.file_size and doc.file_size > MAX_OPML_UPLOAD:
        await update.effective_message.reply_text(f"That file is over {MAX_OPML_UPLOAD // 1_000_000} MB; an OPML feed list is much smaller.")
        return
    data = bytes(await (await doc.get_file()).download_as_bytearray())
    try:
        result = manage.import_opml(service_of(context).db, data)
    except OpmlError as exc:
        await update.effective_message.reply_text(f"Nothing imported from {escape(doc.file_name or 'that file')}: {escape(str(exc))}")
        return
    lines = [f"Imported {len(result.added)} feed(s) from {escape(doc.file_name or 'the file')}; {len(result.existing)} were already there."]
    lines += [f"#{f['id']} {escape(f['title'] or f['url'])}" for f in result.added[:30]]
    if len(result.added) > 30:
        lines.append(f"… and {len(result.added) - 30} more (/feeds lists them)")
    if result.invalid:
        lines.append(f"Skipped {len(result.invalid)} outline(s) without an http(s) feed URL.")
    await update.effective_message.reply_text("\n".join(lines), disable_web_page_preview=True)
