"""Include/exclude filters that are safe to run on any text with any pattern a user types.

An entry is a word or phrase (case-insensitive, whole words, any whitespace between words) or a
``/regular expression/``. Words compile to an escaped literal, which cannot backtrack. Regular
expressions compile with RE2 (google-re2), whose matching time is linear in the text whatever the
pattern: ``(a|aa)+$`` on 29 characters takes 0.04 ms there, while the ``regex`` package needs a
timeout to stop it (it hit our 200 ms one). RE2 has no backreferences or lookaround; such patterns
are refused with a message saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import re2

from .store import stored_filters

if TYPE_CHECKING:
    from .settings import FeedsSettings

MAX_PATTERN_CHARS = 200
MAX_ENTRIES = 100
MAX_TEXT_CHARS = 200_000  # filters look at the title and the first 200k characters

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.case_sensitive = False
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 8 << 20


@dataclass(frozen=True)
class Pattern:
    """One compiled entry; ``text`` is what the user wrote."""

    text: str
    compiled: object

    def search(self, text: str) -> bool:
        return self.compiled.search(text) is not None


def compile_pattern(entry: str) -> Pattern:
    """Compile one entry; raise ValueError with a message an end user can act on."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError("a filter cannot be empty")
    entry = entry.strip()
    if len(entry) > MAX_PATTERN_CHARS:
        raise ValueError(f"the filter {entry[:30]!r}… is longer than {MAX_PATTERN_CHARS} characters")
    if len(entry) >= 2 and entry.startswith("/") and entry.endswith("/"):
        body = entry[1:-1]
        if not body:
            raise ValueError("the regular expression // is empty")
        try:
            return Pattern(entry, re2.compile(body, _RE2_OPTIONS))
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            hint = " (backreferences and lookarounds are not supported)" if re.search(r"\\[1-9]|\(\?<?[=!]", body) else ""
            raise ValueError(f"{entry} is not a valid regular expression: {reason}{hint}") from None
    words = entry.split()
    literal = r"\s+".join(re.escape(w) for w in words)
    return Pattern(entry, re.compile(rf"(?<!\w){literal}(?!\w)", re.IGNORECASE))


@dataclass(frozen=True)
class Filter:
    """Compiled include/exclude lists; ``reason(text)`` says why an item is dropped, or None."""

    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()
    scope: str = "filter"  # "feed filter", "your filter": how reasons name it

    def reason(self, text: str) -> str | None:
        text = (text or "")[:MAX_TEXT_CHARS]
        for p in self.exclude:
            if p.search(text):
                return f'excluded by {self.scope} "{p.text}"'
        if self.include and not any(p.search(text) for p in self.include):
            return f"matches none of the {self.scope}'s include words"
        return None

    def allows(self, text: str) -> bool:
        return self.reason(text) is None

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


def split_entries(text: str) -> list[str]:
    """Filter entries as people type them: comma-separated words, phrases or /regex/."""
    return [w.strip() for w in text.split(",") if w.strip()]


def compile_filters(include: list[str] | None = None, exclude: list[str] | None = None, scope: str = "filter") -> Filter:
    """Compile include/exclude lists (words, phrases or /regex/); ValueError names the bad entry."""
    include, exclude = list(include or []), list(exclude or [])
    if len(include) + len(exclude) > MAX_ENTRIES:
        raise ValueError(f"at most {MAX_ENTRIES} filter entries are allowed")
    return Filter(tuple(compile_pattern(e) for e in include), tuple(compile_pattern(e) for e in exclude), scope)


@dataclass(frozen=True)
class FeedRules:
    """What decides a feed's entries: include/exclude lists and the relevance threshold."""

    include: list[str]
    exclude: list[str]
    threshold: float
    own_threshold: bool  # set for this feed rather than the global feeds.relevance.threshold

    @property
    def custom(self) -> bool:
        """Whether this feed has rules of its own, beyond the global threshold."""
        return bool(self.include or self.exclude or self.own_threshold)

    def describe(self) -> str:
        """One line for /feeds and `geobrief feeds list`."""
        parts = [f"include: {', '.join(self.include)}"] if self.include else []
        parts += [f"exclude: {', '.join(self.exclude)}"] if self.exclude else []
        parts.append(f"relevance ≥ {self.threshold:g}" + ("" if self.own_threshold else " (global)"))
        return " · ".join(parts)


def feed_rules(feed: dict, settings: "FeedsSettings") -> FeedRules:
    """config.toml's filters for this feed plus those set from the chat or CLI; a threshold set there wins."""
    src = settings.source_for(feed["url"])
    include, exclude, threshold = stored_filters(feed)
    if src:
        include = list(dict.fromkeys(src.include + include))
        exclude = list(dict.fromkeys(src.exclude + exclude))
        if threshold is None and src.min_relevance >= 0:
            threshold = src.min_relevance
    own = threshold is not None
    return FeedRules(include, exclude, threshold if own else settings.relevance.threshold, own)
