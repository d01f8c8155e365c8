"""Turning feed and page HTML into the plain text a summary should be made from.

Feeds carry HTML fragments, double-escaped entities, control characters and page furniture
("Share this with Email…", "Media playback is unsupported…", "Read more", bylines, image credits,
"More Must-Reads From TIME" link lists). Everything stored goes through :func:`clean_text` or
:func:`clean_title`, so nothing downstream has to guess.
"""

from __future__ import annotations

import html
import re
import unicodedata

import lxml.etree
import lxml.html

MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 60_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>|<!--.*?-->|<!\[CDATA\[|\]\]>", re.S)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article", "header", "footer", "pre", "table", "dd", "dt", "figure"}
_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "form", "button", "figcaption", "template")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|$)", re.S)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# Furniture glued into article text (BBC pages render these without spaces between the links).
_INLINE_JUNK = re.compile(
    r"Share this with\s*(?:(?:Email|Facebook|Messenger|Twitter|Pinterest|WhatsApp|LinkedIn|Reddit|X)\s*)+(?:Copy this link)?"
    r"|Media playback is (?:not supported|unsupported) on (?:this|your) device"
    r"|These are external links and will open in a new window"
    r"|\((?:END|AP|Reuters)\)\s*$",
    re.I | re.M,
)
# Whole lines that are never article text.
_JUNK_LINE = re.compile(
    r"^\s*(?:"
    r"(?:read|see) (?:more|also|the full story)\b.{0,80}"
    r"|(?:click|tap) here\b.{0,100}"
    r"|(?:follow|like) (?:us|me|\w+) on (?:twitter|facebook|instagram|x)\b.*"
    r"|sign up (?:for|to) (?:our|the)\b.{0,120}"
    r"|advertisement|advert|sponsored( content)?|skip advertisement"
    r"|(?:published|updated|last updated)\s*:?.{0,60}\d{4}.{0,20}"
    r"|by\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3})*(?:,\s*[A-Z][\w ]{0,30})?"
    r"|(?:photo|image|picture)s?\s*(?:credit)?\s*:.{0,100}"
    r"|(?:image|photo|picture|video) (?:copyright|caption|source)\b.{0,120}"
    r"|[\w .'’-]{0,40}/\s*(?:getty images|afp|reuters|ap|epa|shutterstock|alamy)\b.{0,40}"
    r"|getty images|afp via getty images|reuters|ap photo.{0,60}"
    r"|\S+@\S+\.\w+"
    r"|\(?end\)?"
    r"|copyright\b.{0,100}|©.{0,100}"
    r"|share (?:this|on)\b.{0,60}|copy (?:this )?link"
    r"|\(reporting by .{0,300}\)"
    r")\s*$",
    re.I,
)
# A short heading that starts a trailing list of links ("More Must-Reads From TIME", "Related").
_TAIL_HEADING = re.compile(r"^\s*(?:more\b.{0,40}(?:from|reads?|stories|on this)|related(?: (?:stories|articles|coverage|content|topics))?|most (?:read|popular|viewed)|recommended(?: for you)?|you (?:may|might) also like|top stories|trending)\b.{0,40}$", re.I)


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text or "")


def unescape(text: str) -> str:
    """Undo entity escaping, including the double escaping some feeds do (&amp;amp;)."""
    for _ in range(3):
        if "&" not in text:
            break
        new = html.unescape(text)
        if new == text:
            break
        text = new
    return text


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment with paragraph breaks kept; tags, scripts and entities gone."""
    fragment = _CDATA.sub(r"\1", strip_controls(fragment))
    if "<" in fragment:
        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
            for el in list(root.iter(*_DROP)):
                if el.getparent() is not None:
                    el.drop_tree()
            parts: list[str] = []
            _walk(root, parts)
            fragment = "".join(parts)
        except (lxml.etree.ParserError, ValueError, TypeError):
            fragment = _TAG.sub(" ", fragment)
    text = unescape(fragment)
    text = _TAG.sub(" ", text)  # escaped markup that unescaping revealed
    return normalize_space(strip_controls(text))


def _walk(el, parts: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag.lower() in _BLOCK:
        parts.append("\n")
    if el.text and isinstance(el.tag, str):
        parts.append(el.text)
    for child in el:
        _walk(child, parts)
    if tag.lower() in _BLOCK:
        parts.append("\n")
    if el.tail:
        parts.append(el.tail)


def normalize_space(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def strip_boilerplate(text: str) -> str:
    """Remove share bars, credits, bylines and trailing link lists from article text."""
    text = _INLINE_JUNK.sub(" ", text)
    lines = [ln for ln in text.split("\n")]
    kept = [ln for ln in lines if not (ln.strip() and len(ln) < 400 and _JUNK_LINE.match(ln))]
    total = sum(len(ln) for ln in kept) or 1
    seen = 0
    for i, ln in enumerate(kept):
        if i > 0 and _TAIL_HEADING.match(ln) and (total - seen) < 0.35 * total:
            kept = kept[:i]
            break
        seen += len(ln)
    return normalize_space("\n".join(kept))


def clean_title(raw: str) -> str:
    """A one-line title without markup, entities or control characters."""
    text = html_to_text(raw).replace("\n", " ")
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_TITLE_CHARS].rstrip()


def clean_text(raw: str, is_html: bool = True) -> str:
    """Article or entry text ready to summarize."""
    text = html_to_text(raw) if is_html else normalize_space(_TAG.sub(" ", strip_controls(unescape(raw))))
    text = strip_boilerplate(text)
    if len(text) > MAX_TEXT_CHARS:
        cut = text.rfind(" ", 0, MAX_TEXT_CHARS)
        text = text[: cut if cut > 0 else MAX_TEXT_CHARS]
    return text
