"""/settings: an inline keyboard per chat for delivery mode, digest hour, items, length and tone; /timezone."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from feeds.filters import compile_filters, split_entries
from trainer.settings import LENGTHS, TONES

from .. import callbacks, store
from ..telegram_html import escape
from .common import remember_chat, service_of

MAX_DIGEST_ITEMS = 20
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)


class BadTimezone(ValueError):
    """Not a timezone we can use."""


def parse_timezone(text: str) -> str:
    """An IANA name (Europe/Berlin) or a whole-hour offset (UTC+3) → an IANA name."""
    text = (text or "").strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    m = _OFFSET.match(text)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if minutes or hours > 14:
            raise BadTimezone("Offsets must be whole hours between UTC-12 and UTC+14; for others use a city, e.g. Asia/Kolkata.")
        # Etc/GMT zones have the sign inverted (POSIX): UTC+3 is Etc/GMT-3.
        return "UTC" if hours == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadTimezone(f"I don't know the timezone {text!r}. Use a name like Europe/Berlin or America/New_York, or an offset like UTC+3.") from None
    return text


def settings_text(sub: dict) -> str:
    tz = sub["timezone"] or "UTC"
    local = datetime.now(timezone.utc).astimezone(ZoneInfo(tz))
    mode = "as they are published" if sub["mode"] == "realtime" else f"a daily digest at {sub['digest_hour']:02d}:00, up to {sub['digest_size']} items"
    include, exclude = json.loads(sub["include"] or "[]"), json.loads(sub["exclude"] or "[]")
    topics = ", ".join(f"+{escape(w)}" for w in include) + (" " if include and exclude else "") + ", ".join(f"−{escape(w)}" for w in exclude)
    return (
        "<b>Your settings</b>\n"
        f"Delivery: {mode}\n"
        f"Timezone: {escape(tz)} (now {local:%H:%M})\n"
        f"Summary length: {sub['length']} · tone: {sub['tone']}\n"
        f"Topics: {topics or 'everything'}\n\n"
        "Change them with the buttons. /timezone Europe/Berlin sets your timezone; /topics sets topic filters."
    )


def _b(label: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.make("st", *args))


def settings_keyboard(sub: dict) -> InlineKeyboardMarkup:
    tick = lambda on: "✓ " if on else ""  # noqa: E731
    return InlineKeyboardMarkup([
        [_b(f"{tick(sub['mode'] == 'realtime')}Realtime", "mode", "realtime"), _b(f"{tick(sub['mode'] == 'digest')}Daily digest", "mode", "digest")],
        [_b("Hour −", "hour", "-1"), _b(f"🕗 {sub['digest_hour']:02d}:00", "noop"), _b("Hour +", "hour", "+1")],
        [_b("Items −", "items", "-1"), _b(f"{sub['digest_size']} items", "noop"), _b("Items +", "items", "+1")],
        [_b(f"{tick(sub['length'] == n)}{n.capitalize()}", "len", n) for n in LENGTHS],
        [_b(f"{tick(sub['tone'] == t)}{t.capitalize()}", "tone", t) for t in TONES],
    ])


def apply_choice(sub: dict, key: str, value: str) -> dict:
    """The settings change one button asks for (validated: forged data changes nothing)."""
    if key == "mode" and value in ("realtime", "digest"):
        return {"mode": value}
    if key == "hour" and value in ("-1", "+1"):
        return {"digest_hour": (sub["digest_hour"] + int(value)) % 24}
    if key == "items" and value in ("-1", "+1"):
        return {"digest_size": min(MAX_DIGEST_ITEMS, max(1, sub["digest_size"] + int(value)))}
    if key == "len" and value in LENGTHS:
        return {"length": value}
    if key == "tone" and value in TONES:
        return {"tone": value}
    return {}


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show this chat's settings with buttons to change them."""
    sub = remember_chat(update, context)
    await update.effective_message.reply_text(settings_text(sub), reply_markup=settings_keyboard(sub))


async def on_settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Change one setting and redraw the menu in place."""
    query = update.callback_query
    service = service_of(context)
    try:
        cb = callbacks.parse(query.data)
    except callbacks.StaleCallback:
        await query.answer("This menu is out of date; send /settings again.")
        return
    sub = store.get_subscriber(service.db, query.message.chat.id) or remember_chat(update, context)
    change = apply_choice(sub, cb.args[0] if cb.args else "", cb.args[1] if len(cb.args) > 1 else "")
    if not change:
        await query.answer()
        return
    sub = store.update_subscriber(service.db, sub["chat_id"], **change)
    if "length" in change or "tone" in change:
        context.application.job_queue.run_once(_summarize_soon, 0)  # the new variant for what's pending
    await query.answer("Saved.")
    try:
        await query.edit_message_text(settings_text(sub), reply_markup=settings_keyboard(sub))
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def _summarize_soon(context: ContextTypes.DEFAULT_TYPE) -> None:
    from ..jobs import summarize_job

    await summarize_job(context)


async def set_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone Europe/Berlin or /timezone UTC+3: digests arrive at the reader's local hour."""
    sub = remember_chat(update, context)
    if not context.args:
        await update.effective_message.reply_text(f"Your timezone is {escape(sub['timezone'])}. Change it with /timezone Europe/Berlin or /timezone UTC+3.")
        return
    try:
        tz = parse_timezone(" ".join(context.args))
    except BadTimezone as exc:
        await update.effective_message.reply_text(escape(str(exc)))
        return
    store.update_subscriber(service_of(context).db, sub["chat_id"], timezone=tz)
    local = datetime.now(timezone.utc).astimezone(ZoneInfo(tz))
    await update.effective_message.reply_text(f"Timezone set to {escape(tz)} (your time now: {local:%H:%M}).")


TOPICS_HELP = (
    "Topic filters decide which summaries reach you.\n"
    "/topics include ukraine, sanctions — only items mentioning one of these\n"
    "/topics exclude football, celebrity — never items mentioning these\n"
    "/topics clear — everything again\n"
    "Words match whole words, any case; write /regex/ for a regular expression."
)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics include|exclude word, word… or /topics clear: per-reader topic filters."""
    sub = remember_chat(update, context)
    db = service_of(context).db
    args = context.args or []
    if not args:
        await update.effective_message.reply_text(f"{settings_text(sub)}\n\n{TOPICS_HELP}")
        return
    action = args[0].lower()
    if action == "clear":
        store.update_subscriber(db, sub["chat_id"], include="[]", exclude="[]")
        await update.effective_message.reply_text("Topic filters cleared: you get everything.")
        return
    if action not in ("include", "exclude"):
        await update.effective_message.reply_text(TOPICS_HELP)
        return
    words = split_entries(" ".join(args[1:]))[:30]
    include = words if action == "include" else json.loads(sub["include"] or "[]")
    exclude = words if action == "exclude" else json.loads(sub["exclude"] or "[]")
    try:
        compile_filters(include, exclude)
    except ValueError as exc:
        await update.effective_message.reply_text(f"Not saved: {escape(str(exc))}")
        return
    store.update_subscriber(db, sub["chat_id"], include=json.dumps(include), exclude=json.dumps(exclude))
    listed = ", ".join(escape(w) for w in words) or "nothing"
    await update.effective_message.reply_text(f"Saved. {'Only items mentioning' if action == 'include' else 'Never items mentioning'}: {listed}.")
