"""Feed health: when to try a feed again, and when to give up on it.

A failing feed waits ``backoff_base_s`` after its first failure and twice as long after each
further one, up to ``backoff_max_s``; a server's Retry-After (429/503) wins when longer, up to
``max_retry_after_s``. After ``disable_after`` consecutive failures the feed is disabled until an
admin re-enables it. A healthy feed whose <ttl> is longer than the poll interval is polled at its
ttl, up to ``max_ttl_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .settings import FeedsSettings


@dataclass(frozen=True)
class DisabledFeed:
    """A feed this polling pass disabled; the bot tells the admins."""

    id: int
    url: str
    title: str
    reason: str


def _at(now: datetime, seconds: float) -> str:
    return (now + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def backoff_s(failures: int, settings: FeedsSettings, retry_after_s: float | None = None) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure."""
    h = settings.health
    wait = min(h.backoff_max_s, h.backoff_base_s * 2 ** min(max(failures - 1, 0), 30))
    if retry_after_s:
        wait = max(wait, min(retry_after_s, settings.fetch.max_retry_after_s))
    return wait


def after_failure(feed: dict, error: str, now: datetime, settings: FeedsSettings, retry_after_s: float | None = None) -> tuple[dict, DisabledFeed | None]:
    """The feed row's new health fields after a failed fetch, and the DisabledFeed if this failure disables it."""
    failures = (feed.get("consecutive_errors") or 0) + 1
    fields = {
        "last_polled_at": now.isoformat(timespec="seconds"),
        "last_error": error,
        "consecutive_errors": failures,
        "error_count": (feed.get("error_count") or 0) + 1,
        "next_poll_at": _at(now, backoff_s(failures, settings, retry_after_s)),
    }
    if failures >= settings.health.disable_after:
        reason = f"{failures} failures in a row; last: {error}"
        fields.update(enabled=0, disabled_at=fields["last_polled_at"], disabled_reason=reason)
        return fields, DisabledFeed(feed["id"], feed["url"], feed.get("title") or "", reason)
    return fields, None


def after_success(now: datetime, settings: FeedsSettings, ttl_s: int | None = None) -> dict:
    """The feed row's new health fields after a successful fetch (304 included)."""
    fields = {"last_polled_at": now.isoformat(timespec="seconds"), "last_success_at": now.isoformat(timespec="seconds"),
              "consecutive_errors": 0, "last_error": None, "next_poll_at": None}
    if ttl_s and ttl_s > settings.poll_interval_s:
        fields["next_poll_at"] = _at(now, min(ttl_s, max(settings.fetch.max_ttl_s, settings.poll_interval_s)))
    return fields
