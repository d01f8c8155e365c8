"""OPML import and export of the feed list, keeping titles (defusedxml: no entity expansion, no external fetches)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_OPML_BYTES = 2_000_000


class OpmlError(ValueError):
    """The document is not OPML we can read; the message says what is wrong."""


@dataclass
class Outline:
    url: str
    title: str = ""


@dataclass
class ImportResult:
    added: list[dict] = field(default_factory=list)
    existing: list[dict] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse_opml(data: bytes) -> list[Outline]:
    """Every outline with an xmlUrl, at any depth; titles from title= or text=."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the file is larger than {MAX_OPML_BYTES // 1_000_000} MB")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException:
        raise OpmlError("the file uses XML entities or a DTD, which OPML does not need; remove them") from None
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not an OPML file (the root element is <{root.tag}>, not <opml>)")
    out, seen = [], set()
    for el in root.iter("outline"):
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        out.append(Outline(url, (attrs.get("title") or attrs.get("text") or "").strip()[:300]))
    return out


def to_opml(feeds: list[dict], title: str = "geobrief feeds") -> bytes:
    """An OPML 2.0 document of the feeds (disabled ones too; they are still subscriptions)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(timezone.utc), usegmt=True)
    body = ET.SubElement(root, "body")
    for f in feeds:
        name = f.get("title") or f["url"]
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=f["url"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
