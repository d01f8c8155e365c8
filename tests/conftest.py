"""Shared fixtures: real SQLite files, the real base model, loopback servers, settings for a test bot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
BASE_MODEL = ROOT / "models" / "base" / "SmolLM2-135M-Instruct"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def pytest_configure(config):
    if not (BASE_MODEL / "config.json").exists():
        raise pytest.UsageError(f"base model missing at {BASE_MODEL}: run `make setup` first")
    if not SHARED.exists():
        raise pytest.UsageError(f"shared test data missing at {SHARED}")


@pytest.fixture
def db(tmp_path):
    """A fresh database file with every package's tables."""
    from bot.db import open_db

    database = open_db(tmp_path / "test.db")
    yield database
    database.conn.close()


@pytest.fixture(scope="session")
def base_model_path() -> str:
    return str(BASE_MODEL)


@pytest.fixture(scope="session")
def base_model(base_model_path):
    """The real base model, loaded once per session (read-only: tests must not train it in place)."""
    from trainer.modeling import load_model

    return load_model(base_model_path, None, "v0", "cpu")


@pytest.fixture
def shared_data() -> Path:
    return SHARED


@pytest.fixture
async def botapi():
    from bot.loopback_api import LoopbackBotApi

    async with LoopbackBotApi() as api:
        yield api


@pytest.fixture
async def news_server():
    """The saved real news feeds of ../shared/data/feeds/news served over loopback HTTP."""
    from tests.helpers.feed_server import FeedServer

    async with FeedServer(SHARED / "feeds" / "news") as server:
        yield server


@pytest.fixture
def make_settings(tmp_path, base_model_path):
    """Settings for a test bot: temp database and models folder, the real base model, fast jobs."""
    from bot.settings import load_settings

    def make(api=None, **overrides):
        base = {
            "db_path": str(tmp_path / "geobrief.db"),
            "model.base": base_model_path,
            "model.models_dir": str(tmp_path / "models"),
            "model.device": "cpu",
            "telegram.admin_ids": [1001],
            "feeds.poll_interval_s": 3600,
            "delivery.summarize_interval_s": 3600,
            "training.schedule": "",
        }
        base.update(overrides)
        settings = load_settings(None, env={}, overrides=base)
        if api is not None:
            settings.telegram.token = api.token
            settings.telegram.base_url = api.base_url
            settings.telegram.base_file_url = api.base_file_url
        return settings

    return make
