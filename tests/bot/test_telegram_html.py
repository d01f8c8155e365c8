"""Splitting long HTML into messages Telegram accepts."""

from __future__ import annotations

from bot.telegram_html import escape, parse_html, split_html


def test_split_keeps_every_part_valid_and_under_the_limit():
    body = " ".join(f"<b>Item {i}</b> {escape('R&D <costs> rose')} in country {i}." for i in range(900))
    parts = split_html(body, 4096)
    assert len(parts) > 1
    for part in parts:
        parsed = parse_html(part)  # raises if a tag or entity was broken
        assert parsed.utf16_length <= 4096
    joined = " ".join(parse_html(p).text for p in parts)
    assert joined.count("R&D <costs> rose") == 900


def test_short_text_is_one_part():
    assert split_html("<i>hi</i>") == ["<i>hi</i>"]


def test_emoji_count_as_two_utf16_units():
    text = "🌍" * 2048
    assert parse_html(text).utf16_length == 4096
    assert len(split_html(text + "x")) == 2
