"""Delivery throughput: 3,000 subscribers against the loopback Bot API enforcing Telegram's 30 msg/s.

Prints the achieved rate against the limit (goal ≥ 27 msg/s) and that no message was lost or sent twice.

    .venv/bin/python bench/delivery.py [--subscribers 3000] [--items 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, running  # noqa: E402
from bot.loopback_api import Limits, LoopbackBotApi  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.helpers.content import add_summarized  # noqa: E402


async def main(subscribers: int, items: int) -> int:
    limits = Limits()
    with tempfile.TemporaryDirectory() as tmp:
        async with LoopbackBotApi(limits=limits) as api:
            settings = load_settings(ROOT / "config.toml", env={}, overrides={"db_path": f"{tmp}/bench.db", "model.models_dir": f"{tmp}/models",
                                                                              "feeds.sources": [], "training.schedule": ""})
            settings.telegram.token, settings.telegram.base_url = api.token, api.base_url
            app = build_application(settings)
            service = app.bot_data["service"]
            chats = list(range(100_000, 100_000 + subscribers))
            with service.db.conn:
                service.db["subscribers"].insert_all(
                    [{"chat_id": c, "user_id": c, "active": 1, "blocked": 0, "mode": "realtime", "subscribed_at": "2000-01-01T00:00:00+00:00"} for c in chats])
            add_summarized(service.db, items, "Bench Wire")
            expected = subscribers * items
            async with running(app):
                queued = service.enqueue_realtime()
                start = time.monotonic()
                app.bot_data["outbox"].wake()
                await api.wait_for(lambda: api.sent_count >= expected, timeout=expected / 10 + 60, what="every message")
                elapsed = time.monotonic() - start
                await asyncio.sleep(1.0)  # anything sent twice would show up now
    got = {c: [m.buttons[0]["callback_data"] for m in api.sent(c) if m.buttons] for c in chats}
    lost = sum(items - len(set(v)) for v in got.values())
    dup = sum(len(v) - len(set(v)) for v in got.values())
    rate = expected / elapsed
    print(f"queued {queued} messages for {subscribers} subscribers × {items} item(s)")
    print(f"delivered {api.sent_count} in {elapsed:.1f} s: {rate:.1f} msg/s against the limit of {limits.overall_per_s:.0f} msg/s "
          f"({rate / limits.overall_per_s:.0%} of it; goal ≥ 27 msg/s)")
    print(f"429 answers: {api.too_many}; lost: {lost}; sent twice: {dup}")
    return 0 if not lost and not dup else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--items", type=int, default=1)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.subscribers, args.items)))
