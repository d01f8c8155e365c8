"""The long-lived state of one running bot: database, serving model, and the work jobs call into."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from dataclasses import replace

import sqlite_utils
import torch

from feeds import store as feed_store
from feeds.filters import compile_filters
from trainer import registry
from trainer.modeling import load_model
from trainer.pipeline import TrainerConfig
from trainer.prompts import article_input
from trainer.summarize import Request, Summarizer

from . import store
from .settings import Settings

log = logging.getLogger(__name__)


class Service:
    """Shared by handlers and jobs through ``application.bot_data["service"]``."""

    def __init__(self, settings: Settings, db: sqlite_utils.Database):
        self.settings = settings
        self.db = db
        # Model work runs here, off the event loop; one thread, because torch already uses every core.
        self.model_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.summarizer: Summarizer | None = None
        self.model_ready = asyncio.Event()
        self.model_error: str | None = None
        self.training = None  # bot.training.TrainingJob while a run is in flight
        self._summarize_lock = asyncio.Lock()  # the poll job and the timer may both ask at once
        self._swap_lock = asyncio.Lock()  # one champion swap at a time
        self._default_threads = torch.get_num_threads()
        self._filters: dict = {}
        self.clock = lambda: datetime.now(timezone.utc)  # tests move time by replacing this

    @property
    def trainer_config(self) -> TrainerConfig:
        s = self.settings
        return TrainerConfig(model=s.model, style=s.style, training=s.training, eval=s.eval)

    # ---- the serving model -----------------------------------------------------------------------

    async def _in_model_thread(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.model_executor, fn, *args)

    async def load_model(self) -> None:
        """Load the champion (the base model until a fine-tune is promoted)."""
        registry.ensure_base_version(self.db, self.settings.model.base)
        try:
            # Loading needs no DB; read the champion here on the loop thread.
            champ = registry.champion(self.db)
            adapter = registry.adapter_dir(self.settings.model.models_dir, champ)
            loaded = await asyncio.get_running_loop().run_in_executor(
                None, load_model, self.settings.model.base, adapter, champ["name"], self.settings.model.device)
        except Exception as exc:
            self.model_error = f"{type(exc).__name__}: {exc}"
            log.exception("cannot load the serving model")
            raise
        self.summarizer = Summarizer(loaded, self.settings.model.max_input_tokens, self.settings.model.batch_size)
        self.model_ready.set()

    async def swap_to_champion(self) -> str:
        """Load the current champion beside the serving model, then switch between batches.

        Swaps run one at a time, and each re-reads the champion after loading, so two quick rollbacks
        can never leave the older of the two serving.
        """
        async with self._swap_lock:
            while True:
                champ = registry.champion(self.db)
                if self.summarizer and champ["name"] == self.summarizer.version:
                    return champ["name"]
                adapter = registry.adapter_dir(self.settings.model.models_dir, champ)
                # Loaded in a separate thread so summaries keep flowing from the old model meanwhile.
                loaded = await asyncio.get_running_loop().run_in_executor(
                    None, load_model, self.settings.model.base, adapter, champ["name"], self.settings.model.device)
                if registry.champion(self.db)["name"] != champ["name"]:
                    continue  # the champion changed while loading: load the newer one
                if self.summarizer is None:
                    self.summarizer = Summarizer(loaded, self.settings.model.max_input_tokens, self.settings.model.batch_size)
                    self.model_ready.set()
                else:
                    self.summarizer.swap(loaded)  # atomic: a batch in flight finishes on the model it started with
                return champ["name"]

    # ---- summarizing and queueing ----------------------------------------------------------------

    def _variants_wanted(self) -> set[tuple[str, str]]:
        variants = {(self.settings.style.length, self.settings.style.tone)}
        for sub in store.active_subscribers(self.db):
            variants.add((sub["length"] or self.settings.style.length, sub["tone"] or self.settings.style.tone))
        return variants

    def _articles_needing(self, length: str, tone: str, limit: int) -> list[dict]:
        hours = self.settings.delivery.max_backlog_hours
        return list(self.db.query(
            "select a.* from articles a where a.fetched_at >= ? and a.skip_reason is null and not exists "
            "(select 1 from summaries s where s.article_id = a.id and s.length = ? and s.tone = ?) order by a.id limit ?",
            [store.iso_ago(hours), length, tone, limit]))

    def training_on_cpu(self) -> bool:
        job = self.training
        return bool(job and job.task and not job.task.done()) and not torch.cuda.is_available()

    def _summarize_in_thread(self, requests, style):
        # A CPU fine-tune in the child needs the cores; inference steps back to one thread meanwhile.
        torch.set_num_threads(1 if self.training_on_cpu() else self._default_threads)
        return self.summarizer.summarize(requests, style)

    async def summarize_new(self) -> int:
        """Summarize articles that have no summary yet in each wanted (length, tone); return how many."""
        await self.model_ready.wait()
        async with self._summarize_lock:
            made = await self._summarize_new()
        if made:
            self.enqueue_realtime()
        return made

    async def _summarize_new(self) -> int:
        made = 0
        for length, tone in sorted(self._variants_wanted()):
            articles = self._articles_needing(length, tone, self.settings.delivery.max_articles_per_batch)
            if not articles:
                continue
            style = replace(self.settings.style, length=length, tone=tone)
            requests = [Request(article_input(a["title"], a["text"]), length) for a in articles]
            summaries = await self._in_model_thread(self._summarize_in_thread, requests, style)
            for article, summary in zip(articles, summaries):
                if summary.text:
                    store.add_summary(self.db, article["id"], summary.text, summary.version, length, tone)
                    made += 1
        return made

    def filter_for(self, sub: dict):
        """The reader's topic filter as a predicate over article text (None: everything passes)."""
        include, exclude = json.loads(sub["include"] or "[]"), json.loads(sub["exclude"] or "[]")
        if not include and not exclude:
            return None
        key = (tuple(include), tuple(exclude))
        if key not in self._filters:
            self._filters[key] = compile_filters(include, exclude)
        return self._filters[key].allows

    def enqueue_realtime(self, chat_id: int | None = None, backfill: int = 0) -> int:
        """Queue, for realtime subscribers (or one chat), the newest summary of each article they have not had."""
        subs = [store.get_subscriber(self.db, chat_id)] if chat_id else store.active_subscribers(self.db, "realtime")
        queued = 0
        for sub in subs:
            if not sub or not sub["active"] or sub["blocked"] or sub["mode"] != "realtime":
                continue
            since = sub["subscribed_at"] or store.utcnow()
            rows = self.db.execute(
                """
                select max(s.id), a.title, a.text, a.fetched_at >= ? as fresh from summaries s join articles a on a.id = s.article_id
                where s.length = ? and s.tone = ? and a.skip_reason is null
                  and a.id not in (select s2.article_id from outbox o join summaries s2 on s2.id = o.summary_id where o.chat_id = ?)
                group by a.id order by max(s.id) desc
                """,
                [since, sub["length"], sub["tone"], sub["chat_id"]]).fetchall()
            allows = self.filter_for(sub)
            chosen = []
            for n, (sid, title, text, fresh) in enumerate(rows):
                if (fresh or n < backfill) and (allows is None or allows(f"{title}\n{text}")):
                    chosen.append(sid)
            for sid in sorted(chosen):
                queued += store.enqueue(self.db, sub["chat_id"], sid)
        self.db.conn.commit()
        return queued

    def article(self, article_id: int) -> dict:
        return feed_store.get_article(self.db, article_id)
