"""Corrections: validated, queued for review unless the reader is trusted, capped per day, withdrawable."""

from __future__ import annotations

from bot import store
from tests.helpers.content import add_summarized

from .conftest import ADMIN, READER, press, say


async def subscribed_with_summary(botapi, service, n=2):
    ids = add_summarized(service.db, n, "Wire")
    await say(botapi, READER, "/start", "Welcome")
    await say(botapi, READER, "/subscribe", "Subscribed")
    return await botapi.wait_for(lambda: [m for m in botapi.sent(READER) if m.buttons] if len([m for m in botapi.sent(READER) if m.buttons]) >= n else None,
                                 what="the summaries"), ids


async def correct(botapi, message, text: str, expect: str):
    await press(botapi, READER, message, "✏️")
    prompt = await botapi.wait_for_message(READER, "corrected summary", after=message.message_id)
    return await say(botapi, READER, text, expect, reply_to=prompt.message_id)


async def test_review_flow_trust_and_withdraw(botapi, start_bot):
    async with start_bot() as (app, service):
        db = service.db
        messages, ids = await subscribed_with_summary(botapi, service, 3)

        # Refused with a reason, then /cancel leaves nothing.
        await press(botapi, READER, messages[0], "✏️")
        await say(botapi, READER, "short", "too short")
        await say(botapi, READER, "/cancel", "cancelled")
        assert db["corrections"].count == 0

        # An untrusted reader's correction waits for review; it is not training data yet.
        ack = await correct(botapi, messages[0], "The ministers agreed a new package of sanctions on Tuesday in Brussels.", "review")
        row = db["corrections"].get(1)
        assert row["status"] == "pending" and db["pairs"].count == 0, ack.text
        assert "waiting for review" in (await say(botapi, READER, "/mycorrections", "Your latest")).text

        # The admin reviews: the card shows article, model summary, correction; approve makes a pair, the reader hears.
        card = await say(botapi, ADMIN, "/review", "Correction #1")
        assert "Model (v0)" in card.text and "new package of sanctions" in card.text
        await press(botapi, ADMIN, card, "Approve", user_id=ADMIN)
        await botapi.wait_for_message(READER, "was accepted")
        assert db["corrections"].get(1)["status"] == "accepted"
        pair = db.execute("select output, active from pairs where source = 'correction'").fetchone()
        assert pair == ("The ministers agreed a new package of sanctions on Tuesday in Brussels.", 1)
        assert "Approved" in botapi.message(ADMIN, card.message_id).text
        await botapi.wait_for_message(ADMIN, "No corrections are waiting", after=card.message_id)

        # Second correction rejected; third: the admin trusts the reader, and later ones skip review.
        await correct(botapi, messages[1], "An entirely different story about something else that never happened.", "review")
        card = await say(botapi, ADMIN, "/review", "Correction #2")
        await press(botapi, ADMIN, card, "Reject", user_id=ADMIN)
        await botapi.wait_for(lambda: db["corrections"].get(2)["status"] == "rejected")
        await correct(botapi, messages[2], "Officials from both countries met to discuss the border dispute and trade.", "review")
        card = await say(botapi, ADMIN, "/review", "Correction #3")
        await press(botapi, ADMIN, card, "Trust reader", user_id=ADMIN)
        await botapi.wait_for(lambda: db["corrections"].get(3)["status"] == "accepted")
        assert store.is_trusted(db, READER)
        await correct(botapi, messages[0], "Ministers agreed on new sanctions against oil exports, effective next month.", "next training run")
        assert db["corrections"].get(4)["status"] == "accepted"

        # A reader who forges a review button is refused; the reader withdraws their own correction.
        listing = await say(botapi, READER, "/mycorrections", "Your latest")
        query = await botapi.press(READER, listing.message_id, "rv:1:2:a")
        assert "admins only" in (await botapi.wait_for(lambda: botapi.answer_for(query)))["text"]
        assert db["corrections"].get(2)["status"] == "rejected"
        await press(botapi, READER, listing, "Withdraw 1")  # newest first: correction #4
        await botapi.wait_for(lambda: db["corrections"].get(4)["status"] == "withdrawn")
        active = [r[0] for r in db.execute("select ref from pairs where active = 1 and source = 'correction'")]
        assert active == ["correction:1", "correction:3"]


async def test_daily_cap(botapi, start_bot):
    async with start_bot(**{"corrections.daily_cap": 2}) as (app, service):
        messages, _ = await subscribed_with_summary(botapi, service, 1)
        await correct(botapi, messages[0], "First corrected version of this summary, with the facts right.", "review")
        await correct(botapi, messages[0], "Second corrected version of this summary, with more facts right.", "review")
        answer = await press(botapi, READER, messages[0], "✏️")
        assert "daily limit" in answer["text"] and answer["show_alert"]
        assert service.db["corrections"].count == 2
