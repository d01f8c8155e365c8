"""Progress events from a training child: one JSON object a line, prefixed so other output can't be mistaken for them."""

from __future__ import annotations

import json
import sys
import time
from typing import Callable

PREFIX = "@geobrief-progress "

Reporter = Callable[[dict], None]


def json_line_reporter(stream=None) -> Reporter:
    """Write each event as a prefixed JSON line (what the bot reads from the child's stdout)."""

    def report(event: dict) -> None:
        out = stream or sys.stdout
        out.write(PREFIX + json.dumps({"time": round(time.time(), 3), **event}) + "\n")
        out.flush()

    return report


def parse_line(line: str) -> dict | None:
    """The event in ``line``, or None when the line is ordinary output."""
    line = line.strip()
    if not line.startswith(PREFIX):
        return None
    try:
        event = json.loads(line[len(PREFIX):])
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def null_reporter(event: dict) -> None:
    """Drop events (library callers that don't care)."""


def bar(fraction: float, width: int = 20) -> str:
    """A text progress bar: ▓▓▓▓░░░░ 50%."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "▓" * filled + "░" * (width - filled) + f" {fraction:.0%}"
