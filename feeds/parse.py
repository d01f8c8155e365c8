"""Turning feed bytes into plain entry dicts with feedparser."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from datetime import datetime, timezone

import feedparser

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class ParseError(Exception):
    """The bytes are not a feed we can take entries from."""


def html_to_text(fragment: str) -> str:
    """Strip tags and entities from a feed's HTML snippet."""
    text = _TAG.sub(" ", fragment or "")
    return _SPACE.sub(" ", html.unescape(text)).strip()


def _date(entry) -> str:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), timezone.utc).isoformat(timespec="seconds")
            except (OverflowError, ValueError, TypeError):
                continue
    return ""


def _text(entry) -> str:
    best = ""
    for content in entry.get("content") or []:
        value = html_to_text(content.get("value", ""))
        if len(value) > len(best):
            best = value
    summary = html_to_text(entry.get("summary", ""))
    return best if len(best) > len(summary) else summary


def parse_feed(data: bytes, headers: dict[str, str] | None = None) -> tuple[str, list[dict]]:
    """Return the feed's title and its entries as dicts ready for the articles table."""
    parsed = feedparser.parse(data, response_headers=headers or {})
    entries = []
    for entry in parsed.entries:
        title = html_to_text(entry.get("title", ""))
        link = (entry.get("link") or "").strip()
        text = _text(entry)
        if not (title or text):
            continue
        guid = (entry.get("id") or link or hashlib.sha256((title + text).encode()).hexdigest()).strip()
        entries.append({"guid": guid[:500], "url": link[:2000], "title": title[:500], "text": text, "published_at": _date(entry)})
    if not entries and parsed.get("bozo"):
        raise ParseError(f"not a feed: {parsed.get('bozo_exception')}")
    return html_to_text(parsed.feed.get("title", "")), entries
