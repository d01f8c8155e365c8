"""Small helpers shared by handlers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from .. import store
from ..service import Service


def service_of(context: ContextTypes.DEFAULT_TYPE) -> Service:
    return context.application.bot_data["service"]


def remember_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict:
    """Record the chat on every contact; writing to us means the reader has not blocked the bot."""
    chat, user = update.effective_chat, update.effective_user
    service = service_of(context)
    defaults = {"length": service.settings.style.length, "tone": service.settings.style.tone}
    return store.touch_subscriber(service.db, chat.id, user.id if user else None,
                                  user.username if user else None, user.first_name if user else None, defaults)


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return bool(user) and user.id in service_of(context).settings.telegram.admin_ids
