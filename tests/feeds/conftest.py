"""Helpers for the feeds tests: a fresh feeds-only database and quick settings."""

from __future__ import annotations

import sqlite_utils
import pytest

from feeds import store
from feeds.settings import FeedSource, FeedsSettings, FetchSettings, FullTextSettings


@pytest.fixture
def feeds_db(tmp_path):
    """A database file with only the feeds package's tables (the feeds layer stands alone)."""
    db = sqlite_utils.Database(tmp_path / "feeds.db")
    store.migrate(db)
    yield db
    db.conn.close()


def quick_settings(urls, per_host: int = 8, full_text: bool = False, **kwargs) -> FeedsSettings:
    """Settings for loopback tests: short timeouts, no article-page fetching unless asked."""
    fetch = kwargs.pop("fetch", None) or FetchSettings(connect_timeout_s=5, read_timeout_s=5, total_timeout_s=20, per_host=per_host, concurrency=64)
    return FeedsSettings(sources=[u if isinstance(u, FeedSource) else FeedSource(url=u) for u in urls], fetch=fetch,
                         full_text=FullTextSettings(enabled=full_text), max_entries_per_feed=kwargs.pop("max_entries_per_feed", 100), **kwargs)
