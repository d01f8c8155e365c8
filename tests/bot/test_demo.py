"""README command 1: the offline demo plays the whole loop on the sample feeds and prints each step."""

from __future__ import annotations

import re

import pytest

from bot.demo import run_demo

pytestmark = [pytest.mark.model, pytest.mark.training]


async def test_demo_plays_the_loop_to_a_decision(make_settings, tmp_path):
    lines: list[str] = []
    rc = await run_demo(make_settings(), steps=2, workdir=tmp_path / "demo", out=lines.append)
    out = "\n".join(lines)
    assert rc == 0, out
    steps = ["/subscribe", "presses ✏️ Correct", "presses ✅ Approve", "was accepted", "articles summarized by v0",
             "for admins", "Training: step 2/2", "/status", "loop complete: the new version was"]
    positions = [out.find(s) for s in steps]
    assert -1 not in positions and positions == sorted(positions), dict(zip(steps, positions))
    assert re.search(r"Run #1: v1 (promoted|rejected).*\n\s+rougeLsum \d\.\d+ → \d\.\d+", out), out  # the gate's reason follows
