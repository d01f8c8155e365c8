"""Telegram's HTML parse mode: what it accepts, and safe splitting of long messages.

The loopback Bot API server validates with :func:`parse_html` exactly as the bot's own splitter
measures, so a message the bot thinks fits is one the server accepts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units after entity parsing
MAX_CAPTION_LENGTH = 1024

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HTMLParseError(ValueError):
    """Text that Telegram would refuse with "Can't parse entities"."""


@dataclass
class ParsedText:
    text: str          # what the reader sees
    tags: list[str]    # tags used, in order (for tests that check formatting)

    @property
    def utf16_length(self) -> int:
        return utf16_len(self.text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Parse Telegram-style HTML; raise HTMLParseError with Telegram's wording when it is malformed."""
    out: list[str] = []
    stack: list[str] = []
    tags: list[str] = []
    i = 0
    raw = source.encode("utf-8")
    while i < len(source):
        ch = source[i]
        if ch == "<":
            m = _TAG.match(source, i)
            offset = len(source[:i].encode("utf-8"))
            if not m:
                raise HTMLParseError(f"Can't parse entities: unexpected end of name token at byte offset {offset}")
            closing, name, attrs, _ = m.groups()
            name = name.lower()
            if name not in ALLOWED_TAGS:
                raise HTMLParseError(f'Can\'t parse entities: unsupported start tag "{name}" at byte offset {offset}')
            if closing:
                if not stack:
                    raise HTMLParseError(f"Can't parse entities: unexpected end tag at byte offset {offset}")
                if stack[-1] != name:
                    raise HTMLParseError(f'Can\'t parse entities: unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"')
                stack.pop()
            else:
                if name == "a" and "href" not in attrs:
                    pass  # Telegram accepts <a> without href and shows plain text
                stack.append(name)
                tags.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(source, i)
            if m:
                ent = m.group(1)
                if ent.startswith("#x"):
                    out.append(chr(int(ent[2:], 16)))
                elif ent.startswith("#"):
                    out.append(chr(int(ent[1:])))
                elif ent.lower() in _NAMED:
                    out.append(_NAMED[ent.lower()])
                else:
                    offset = len(source[:i].encode("utf-8"))
                    raise HTMLParseError(f'Can\'t parse entities: unsupported HTML entity "&{ent};" at byte offset {offset}')
                i = m.end()
            else:
                out.append("&")
                i += 1
        else:
            out.append(ch)
            i += 1
    if stack:
        raise HTMLParseError(f'Can\'t parse entities: can\'t find end tag corresponding to start tag "{stack[-1]}"')
    del raw
    return ParsedText("".join(out), tags)


def escape(text: str) -> str:
    """Escape text from feeds or readers for HTML parse mode."""
    return html.escape(text or "", quote=False)


def split_html(source: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split HTML into messages of at most ``limit`` visible UTF-16 units, never inside a tag or entity.

    Tags open at a cut are closed at the end of one part and reopened at the start of the next.
    Cuts prefer paragraph breaks, then line breaks, then sentence ends, then spaces.
    """
    if parse_html(source).utf16_length <= limit:
        return [source]
    tokens = _tokens(source)
    parts: list[str] = []
    current: list[str] = []
    visible = 0
    open_tags: list[tuple[str, str]] = []  # (name, opening tag text)
    reopen = ""
    for kind, text, name in tokens:
        size = utf16_len(html.unescape(text)) if kind == "text" else 0
        if kind == "text" and visible + size > limit - _reserve(open_tags):
            # flush what fits, cutting the text at the best boundary
            room = limit - _reserve(open_tags) - visible
            head, tail = _cut(text, room)
            if head:
                current.append(head)
            parts.append(reopen + "".join(current) + "".join(f"</{n}>" for n, _ in reversed(open_tags)))
            reopen = "".join(t for _, t in open_tags)
            current, visible = [], 0
            text = tail.lstrip()
            while utf16_len(html.unescape(text)) > limit - _reserve(open_tags):
                head, text = _cut(text, limit - _reserve(open_tags))
                parts.append(reopen + head + "".join(f"</{n}>" for n, _ in reversed(open_tags)))
                text = text.lstrip()
            size = utf16_len(html.unescape(text))
        if kind == "open":
            open_tags.append((name, text))
        elif kind == "close" and open_tags:
            open_tags.pop()
        current.append(text)
        visible += size
    tail = reopen + "".join(current)
    if parse_html(tail).text.strip():
        parts.append(tail)
    return parts


def _reserve(open_tags) -> int:
    return 0  # tags are invisible; kept as a hook should a continuation marker be added


def _tokens(source: str) -> list[tuple[str, str, str]]:
    tokens = []
    pos = 0
    for m in _TAG.finditer(source):
        if m.start() > pos:
            tokens.append(("text", source[pos : m.start()], ""))
        kind = "close" if m.group(1) else "open"
        tokens.append((kind, m.group(0), m.group(2).lower()))
        pos = m.end()
    if pos < len(source):
        tokens.append(("text", source[pos:], ""))
    return tokens


def _cut(text: str, room: int) -> tuple[str, str]:
    """Split escaped ``text`` so the head shows at most ``room`` units, at a natural boundary."""
    if room <= 0:
        return "", text
    # find the largest prefix (not inside an entity) whose visible length fits
    end, visible = 0, 0
    while end < len(text):
        m = _ENTITY.match(text, end) if text[end] == "&" else None
        step = m.end() - end if m else 1
        unit = utf16_len(html.unescape(text[end : end + step]))
        if visible + unit > room:
            break
        visible += unit
        end += step
    if end >= len(text):
        return text, ""
    window = text[:end]
    for sep in ("\n\n", "\n", ". ", " "):
        k = window.rfind(sep)
        if k > end // 2:
            k += len(sep)
            return text[:k].rstrip(), text[k:]
    return text[:end], text[end:]
