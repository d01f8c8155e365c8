"""Callback data: short versioned tokens (``fb:1:<summary id>:u``), built and parsed in one place."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "1"


@dataclass(frozen=True)
class Callback:
    kind: str           # fb (feedback), rv (review), st (settings), ...
    args: tuple[str, ...]


class StaleCallback(ValueError):
    """Button data we don't understand (an old bot version, or forged)."""


def make(kind: str, *args: object) -> str:
    data = ":".join([kind, VERSION, *(str(a) for a in args)])
    if len(data.encode("utf-8")) > 64:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return data


def parse(data: str | None) -> Callback:
    parts = (data or "").split(":")
    if len(parts) < 2 or parts[1] != VERSION:
        raise StaleCallback(data)
    return Callback(parts[0], tuple(parts[2:]))


def pattern(kind: str) -> str:
    """A regex for CallbackQueryHandler matching this kind's tokens (any version, so stale ones reach us)."""
    return rf"^{kind}:"
