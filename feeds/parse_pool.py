"""Parsing feeds in worker processes.

feedparser is pure Python, so parsing in threads uses one core however many feeds changed; worker
processes use them all, and a parser that dies on a hostile feed takes a worker down, not the service.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .parse import ParsedFeed, ParseError, parse_feed

log = logging.getLogger(__name__)

MAX_AUTO_PROCESSES = 8

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def worker_count(configured: int) -> int:
    """Processes to parse with: the configured number, or one per core (at most 8) for 0."""
    return configured if configured > 0 else min(MAX_AUTO_PROCESSES, os.cpu_count() or 1)


def timed_parse(content: bytes, headers: dict, max_entries: int | None) -> tuple[ParsedFeed, float]:
    """parse_feed, with the CPU seconds it took."""
    started = time.thread_time()
    parsed = parse_feed(content, headers, max_entries)
    return parsed, time.thread_time() - started


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the service shuts its workers down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _get_pool(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # spawn, not fork: the service has threads (PTB, torch) that a forked child must not inherit mid-lock
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_ignore_sigint)
            _pool_size = size
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes (they are started again on the next parse)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


async def parse_in_worker(content: bytes, headers: dict, max_entries: int | None, processes: int) -> tuple[ParsedFeed, float]:
    """Parse off the event loop: in a worker process, or a thread when one process is configured.

    A worker that dies (any feed in flight on that pool fails with it) is retried once on a fresh pool;
    a feed that kills a worker twice is reported as a ParseError.
    """
    size = worker_count(processes)
    if size <= 1:
        return await asyncio.to_thread(timed_parse, content, headers, max_entries)
    for attempt in (1, 2):
        pool = _get_pool(size)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, timed_parse, content, headers, max_entries)
        except BrokenProcessPool:
            _discard(pool)
            log.warning("a feed parser process died (attempt %d)", attempt)
    raise ParseError("the feed parser crashed on this feed")
