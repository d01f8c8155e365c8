"""Every admin command: refused for anyone else with nothing done, shown in the menu only to admins."""

from __future__ import annotations

from telegram.ext import CommandHandler

from .conftest import ADMIN, READER, say


def admin_commands(app) -> list[str]:
    names = []
    for handlers in app.handlers.values():
        for h in handlers:
            if isinstance(h, CommandHandler) and getattr(h.callback, "admin_only", False):
                names.extend(sorted(h.commands))
    return names


async def test_non_admin_refused_for_every_admin_command(botapi, start_bot):
    async with start_bot() as (app, service):
        names = admin_commands(app)
        assert {"status", "retrain", "review", "trust", "untrust"} <= set(names)
        await say(botapi, READER, "/start", "Welcome")
        tables = {t: service.db[t].count for t in service.db.table_names()}
        for name in names:
            reply = await say(botapi, READER, f"/{name} 1", "for admins only")
            assert reply.text == f"/{name} is for admins only."
        # nothing happened: no training run, no new feed, no trust, no review decision
        after = {t: service.db[t].count for t in service.db.table_names()}
        assert {t: n for t, n in after.items() if n != tables.get(t)} == {}


async def test_admin_menu_and_answers(botapi, start_bot):
    async with start_bot() as (app, service):
        await botapi.wait_for(lambda: botapi.commands_for(ADMIN), what="the command menu")
        admin_menu, reader_menu = set(botapi.commands_for(ADMIN)), set(botapi.commands_for(READER))
        assert set(admin_commands(app)) <= admin_menu
        assert not reader_menu & set(admin_commands(app)) and {"subscribe", "settings"} <= reader_menu
        status = await say(botapi, ADMIN, "/status", "geobrief status")
        for part in ("Feeds:", "Articles:", "Subscribers:", "Corrections:", "Serving model:"):
            assert part in status.text
        assert "No corrections are waiting" in (await say(botapi, ADMIN, "/review", "No corrections")).text
        assert "Usage" in (await say(botapi, ADMIN, "/trust", "Usage")).text
        assert "is trusted" in (await say(botapi, ADMIN, f"/trust {READER}", "trusted")).text
        assert "no longer trusted" in (await say(botapi, ADMIN, f"/untrust {READER}", "trusted")).text
        assert "/review" in (await say(botapi, ADMIN, "/help", "geobrief")).text
        assert "/review" not in (await say(botapi, READER, "/help", "geobrief")).text
        assert "don't know that command" in (await say(botapi, READER, "/frobnicate", "command")).text


async def test_unexpected_error_reaches_reader_and_admins_once(botapi, start_bot, monkeypatch):
    from bot.handlers import reader

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    async with start_bot() as (app, service):
        monkeypatch.setattr(reader.store, "set_active", broken)
        for _ in range(2):
            assert "went wrong" in (await say(botapi, READER, "/subscribe", "went wrong")).text
        told = await botapi.wait_for(lambda: [m for m in botapi.sent(ADMIN) if "disk on fire" in m.text], what="the admin notice")
        await say(botapi, READER, "/help", "geobrief")  # the bot goes on
        assert len(told) == 1 and service.settings.telegram.token not in told[0].text
