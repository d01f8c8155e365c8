"""Turning feed bytes into clean entry dicts with feedparser (fed the response headers, so charset and base URL hold)."""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import feedparser

from .clean import clean_text, clean_title, strip_controls

MAX_GUID_CHARS = 500
MAX_URL_CHARS = 2000


class ParseError(Exception):
    """The bytes are not a feed we can take entries from."""


@dataclass
class ParsedFeed:
    title: str
    entries: list[dict] = field(default_factory=list)
    ttl_s: int | None = None   # the feed's <ttl> (minutes in the feed), in seconds
    bozo: str = ""              # why feedparser found it ill-formed, when it did


def html_to_text(fragment: str) -> str:
    """Kept for callers of the first version; see feeds.clean."""
    return clean_text(fragment)


def _date(entry) -> str:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), timezone.utc)
            except (OverflowError, ValueError, TypeError, OSError):
                continue
            if 1990 <= when.year <= 2100:
                return when.isoformat(timespec="seconds")
    return ""


def _detail_is_html(detail) -> bool:
    return (detail or {}).get("type", "text/html") in ("text/html", "application/xhtml+xml")


def _text(entry) -> str:
    best = ""
    for content in entry.get("content") or []:
        value = clean_text(content.get("value", ""), _detail_is_html(content))
        if len(value) > len(best):
            best = value
    summary = clean_text(entry.get("summary", ""), _detail_is_html(entry.get("summary_detail")))
    return best if len(best) > len(summary) else summary


def _link(entry) -> str:
    link = strip_controls(entry.get("link") or "").strip()
    if not link.startswith(("http://", "https://")):
        alt = next((l.get("href", "") for l in entry.get("links") or [] if str(l.get("href", "")).startswith(("http://", "https://"))), "")
        link = alt or (link if link.startswith(("http://", "https://")) else "")
    return link[:MAX_URL_CHARS] if " " not in link else ""


def _ttl(parsed) -> int | None:
    raw = str(parsed.feed.get("ttl") or "").strip()
    return int(raw) * 60 if raw.isdigit() and 0 < int(raw) < 100_000 else None


def parse_feed(data: bytes, headers: dict[str, str] | None = None, max_entries: int | None = None) -> ParsedFeed:
    """Parse feed bytes; an ill-formed feed that still yields entries is used, one that yields nothing raises ParseError."""
    if data.lstrip()[:1] == b"{":
        return _json_feed(data, max_entries)
    try:
        parsed = feedparser.parse(data, response_headers={k.lower(): v for k, v in (headers or {}).items()}, sanitize_html=True)
    except Exception as exc:  # feedparser promises never to raise; a few malformed inputs still make it
        raise ParseError(f"not a feed: parser failed ({type(exc).__name__}: {exc})"[:300]) from None
    entries = []
    for entry in parsed.entries:
        title = clean_title(entry.get("title", ""))
        text = _text(entry)
        if not (title or text):
            continue
        link = _link(entry)
        guid = clean_title(entry.get("id") or "") or link or hashlib.sha256((title + "\n" + text).encode()).hexdigest()
        entries.append({"guid": guid[:MAX_GUID_CHARS], "url": link, "title": title, "text": text, "published_at": _date(entry)})
    bozo = str(parsed.get("bozo_exception") or "").replace("<unknown>:", "line ")[:200] if parsed.get("bozo") else ""
    if not entries:
        if not parsed.get("version") and not parsed.feed.get("title"):
            raise ParseError("not a feed: no RSS or Atom feed found in the response" + (f" ({bozo})" if bozo else ""))
        if bozo:
            raise ParseError(f"ill-formed feed with no entries ({bozo})")
    entries.sort(key=lambda e: e["published_at"] or "", reverse=True)  # newest first, so a cap keeps the newest
    if max_entries is not None:
        entries = entries[:max_entries]
    return ParsedFeed(clean_title(parsed.feed.get("title", "")), entries, _ttl(parsed), bozo)


def _json_feed(data: bytes, max_entries: int | None) -> ParsedFeed:
    """JSON Feed (jsonfeed.org) 1.x, which feedparser 6 does not read."""
    try:
        doc = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/") or not isinstance(doc.get("items"), list):
        raise ParseError("not a feed: JSON without a jsonfeed.org version and items")
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        title = clean_title(str(item.get("title") or ""))
        html_text = clean_text(str(item.get("content_html") or ""))
        plain = clean_text(str(item.get("content_text") or item.get("summary") or ""), is_html=False)
        text = html_text if len(html_text) >= len(plain) else plain
        link = str(item.get("url") or "").strip()
        link = link[:MAX_URL_CHARS] if link.startswith(("http://", "https://")) and " " not in link else ""
        if not (title or text):
            continue
        guid = clean_title(str(item.get("id") or "")) or link or hashlib.sha256((title + "\n" + text).encode()).hexdigest()
        entries.append({"guid": guid[:MAX_GUID_CHARS], "url": link, "title": title, "text": text, "published_at": _iso_date(item.get("date_published") or item.get("date_modified"))})
    if not entries:
        raise ParseError("JSON feed with no entries")
    return ParsedFeed(clean_title(str(doc.get("title") or "")), entries[:max_entries] if max_entries else entries)


def _iso_date(value) -> str:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    return when.isoformat(timespec="seconds") if 1990 <= when.year <= 2100 else ""
