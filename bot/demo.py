"""The offline run: the real service against a loopback Bot API server, with a scripted reader and admin.

Everything is real — feeds parsed from files, the embedded model summarizing, a LoRA fine-tune in a
child process, the eval gate — only Telegram is played by ``LoopbackBotApi``.
"""

from __future__ import annotations

import copy
import re
import shutil
import time
from importlib import resources
from pathlib import Path

from feeds.settings import FeedSource

from .app import build_application, running
from .loopback_api import LoopbackBotApi, SentMessage
from .settings import Settings

ADMIN_ID = 1001
DEMO_TRAIN_STEPS = 20  # enough for the 24 sample pairs to move the holdout score; about 4 minutes in all on 2 cores
READER_ID = 2002


def sample_feeds() -> list[Path]:
    folder = resources.files("feeds") / "samples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".xml", ".atom")))


def sample_seed_pairs() -> Path:
    return Path(str(resources.files("trainer") / "seed" / "sample_pairs.jsonl"))


def stage_feeds(workdir: Path) -> tuple[list[Path], Path, str]:
    """Copy the sample feeds into ``workdir``, holding back the last item of the first one.

    Returns the feed paths, the feed with the held-back item, and its full text (published later,
    so the demo shows a summary written by the newly promoted model).
    """
    folder = workdir / "feeds"
    folder.mkdir(parents=True)
    paths = []
    for src in sample_feeds():
        dst = folder / src.name
        dst.write_bytes(src.read_bytes())
        paths.append(dst)
    late = next(p for p in paths if p.suffix == ".xml")
    full = late.read_text(encoding="utf-8")
    items = list(re.finditer(r"\s*<item>.*?</item>", full, re.S))
    late.write_text(full[: items[-1].start()] + full[items[-1].end():], encoding="utf-8")
    return paths, late, full


def demo_settings(settings: Settings, api: LoopbackBotApi, workdir: Path, steps: int | None, feed_paths: list[Path]) -> Settings:
    s = copy.deepcopy(settings)
    s.telegram.token = api.token
    s.telegram.base_url, s.telegram.base_file_url = api.base_url, api.base_file_url
    s.telegram.admin_ids = [ADMIN_ID]
    s.telegram.mode = "polling"
    s.db_path = workdir / "geobrief.db"
    s.model.models_dir = workdir / "models"
    s.feeds.sources = [FeedSource(url=str(p)) for p in feed_paths]
    s.delivery.summarize_interval_s = 3600  # the poll job triggers summarizing itself
    s.training.seed_files = [sample_seed_pairs()]
    s.training.max_steps = steps or DEMO_TRAIN_STEPS
    s.training.learning_rate = 1e-3
    s.training.max_length = 512
    s.training.holdout_fraction = 0.25
    s.training.schedule = ""
    s.eval.max_holdout = 6
    return s


class Script:
    """Prints each step of the loop as a reader would see it."""

    def __init__(self, api: LoopbackBotApi, out=print):
        self.api, self.out, self.t0 = api, out, time.monotonic()

    def say(self, who: str, text: str) -> None:
        stamp = f"{time.monotonic() - self.t0:6.1f}s"
        first, *rest = text.splitlines() or [""]
        self.out(f"{stamp}  {who:7} {first}")
        for line in rest:
            self.out(f"{'':8} {'':7} {line}")

    async def command(self, user: int, text: str, who: str) -> SentMessage:
        after = self.api.last_id(user)
        self.say(who, text)
        await self.api.send_text(user, text)
        reply = await self.api.wait_for_message(user, after=after, timeout=60)
        self.say("bot", reply.text)
        return reply


async def run_demo(settings: Settings, steps: int | None = None, workdir: Path | None = None, out=print) -> int:
    workdir = Path(workdir or Path(settings.db_path).parent / "demo")
    shutil.rmtree(workdir, ignore_errors=True)  # each demo starts from nothing
    workdir.mkdir(parents=True)
    feed_paths, late_feed, late_text = stage_feeds(workdir)
    _quiet_libraries()
    async with LoopbackBotApi() as api:
        s = demo_settings(settings, api, workdir, steps, feed_paths)
        script = Script(api, out)
        out(f"geobrief offline demo — Bot API on {api.base_url.removesuffix('/bot')}, data in {workdir}\n"
            f"feeds: {', '.join(Path(f.url).name for f in s.feeds.sources)} (samples written for this project)\n")
        application = build_application(s)
        async with running(application):
            return await _play(application, api, script, late_feed, late_text)


def _quiet_libraries() -> None:
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=FutureWarning)


async def _play(application, api: LoopbackBotApi, script: Script, late_feed: Path, late_text: str) -> int:
    service = application.bot_data["service"]
    await script.command(READER_ID, "/start", "reader")
    await script.command(READER_ID, "/subscribe", "reader")
    script.say("service", "polling the sample feeds and summarizing new articles with the embedded model…")
    first = await api.wait_for(lambda: next((m for m in api.sent(READER_ID) if m.buttons), None), timeout=600, what="a summary")
    script.say("bot", first.text + "\n[ 👍 ] [ 👎 ] [ ✏️ Correct ]")

    # The reader corrects the summary: the lead of the article, tightened.
    summary_id = int(first.button("✏️")["callback_data"].split(":")[2])
    article = service.article(service.db["summaries"].get(summary_id)["article_id"])
    lead = " ".join(re.split(r"(?<=[.!?])\s+", article["text"])[:2])
    after = api.last_id(READER_ID)
    script.say("reader", "presses ✏️ Correct")
    await api.press(READER_ID, first.message_id, first.button("✏️")["callback_data"])
    prompt = await api.wait_for_message(READER_ID, after=after)
    script.say("bot", prompt.text)
    after = api.last_id(READER_ID)
    script.say("reader", lead)
    await api.send_text(READER_ID, lead, reply_to=prompt.message_id)
    script.say("bot", (await api.wait_for_message(READER_ID, after=after)).text)

    # An editor reviews it: approved corrections become training pairs.
    card = await script.command(ADMIN_ID, "/review", "admin")
    after = api.last_id(ADMIN_ID)
    script.say("admin", "presses ✅ Approve")
    await api.press(ADMIN_ID, card.message_id, card.button("Approve")["callback_data"])
    script.say("bot", (await api.wait_for_message(READER_ID, "was accepted")).text)
    await api.wait_for_message(ADMIN_ID, after=after)

    total = service.db["articles"].count
    await api.wait_for(lambda: len([m for m in api.sent(READER_ID) if m.buttons]) >= total, timeout=900, what="every summary")
    script.say("service", f"{total} articles summarized by v0 and delivered to the reader, one message each.")

    await script.command(READER_ID, "/retrain", "reader")
    after = api.last_id(ADMIN_ID)
    script.say("admin", "/retrain")
    await api.send_text(ADMIN_ID, "/retrain")
    shown: dict[int, str] = {}

    def finished():
        for m in api.sent(ADMIN_ID):
            if m.message_id > after and shown.get(m.message_id) != m.text:
                shown[m.message_id] = m.text
                script.say("bot", m.text)
        return next((m for m in api.sent(ADMIN_ID) if m.message_id > after and m.text.startswith(("✅", "❌", "⚠️"))), None)

    result = await api.wait_for(finished, timeout=1800, what="the training result")
    if result.text.startswith("✅"):
        script.say("service", "a new article is published; the promoted model summarizes it…")
        late_feed.write_text(late_text, encoding="utf-8")
        after = api.last_id(READER_ID)
        from .jobs import poll_feeds_job

        application.job_queue.run_once(poll_feeds_job, 0)
        late = await api.wait_for(lambda: next((m for m in api.sent(READER_ID) if m.message_id > after and m.buttons), None), timeout=600, what="the new summary")
        script.say("bot", late.text)
    await script.command(ADMIN_ID, "/status", "admin")
    ok = result.text.startswith(("✅", "❌"))
    script.say("service", "loop complete: " + ("the new version was " + ("promoted" if result.text.startswith("✅") else "rejected by the eval gate") if ok else "training failed") + ".")
    return 0 if ok else 1
