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


@pytest.fixture(scope="session")
def lead_seed(tmp_path_factory) -> Path:
    """40 lead-sentence pairs from real news articles (see tests/helpers/training.py)."""
    from tests.helpers.training import write_seed

    return write_seed(tmp_path_factory.mktemp("seed") / "lead.jsonl", SHARED / "news_pairs.jsonl")


class Trained:
    """A registry in which one real short fine-tune ran: v0 (base) and the promoted v1."""

    def __init__(self, root: Path, cfg, outcome, events: list[dict], records: list[dict]):
        self.root, self.cfg, self.outcome, self.events, self.records = root, cfg, outcome, events, records

    def copy_to(self, dest: Path) -> Path:
        """A private copy (database and models) for a test that changes things."""
        import shutil

        shutil.copytree(self.root, dest)
        return dest

    def config_at(self, root: Path):
        """This run's settings, pointed at a copy made with ``copy_to``."""
        import copy

        cfg = copy.deepcopy(self.cfg)
        cfg.model.models_dir = Path(root) / "models"
        return cfg


@pytest.fixture(scope="session")
def trained(tmp_path_factory, lead_seed, base_model_path) -> Trained:
    """Shared by the registry, rollback, hot-swap and admin tests: the work of one real fine-tune, done once."""
    import sqlite_utils

    from tests.helpers.training import lead_config
    from trainer import pipeline, store

    root = tmp_path_factory.mktemp("trained")
    db = sqlite_utils.Database(root / "geobrief.db")
    store.migrate(db)
    cfg = lead_config(base_model_path, root / "models", lead_seed)
    events, records = [], []
    real_finetune = pipeline.finetune

    def spy(recs, *args, **kwargs):  # the real fine-tune; keep what it was given
        records.extend(recs)
        return real_finetune(recs, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "finetune", spy)
        outcome = pipeline.run_training(db, cfg, trigger="test", report=events.append)
    db.conn.close()
    return Trained(root, cfg, outcome, events, records)
