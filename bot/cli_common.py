"""What every ``geobrief`` subcommand shares: settings, the database, errors, the subcommand helper."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from .settings import Settings, _build, load_settings

DEFAULT_CONFIG = Path("config.toml")


class CliError(Exception):
    """A problem worth one line on stderr and a non-zero exit."""


def _settings(args) -> Settings:
    if getattr(args, "settings_json", None):
        data = json.loads(Path(args.settings_json).read_text(encoding="utf-8"))
        return _build(Settings, data, "")
    path = args.config
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_settings(path)


def _db(settings: Settings):
    from .db import open_db

    return open_db(settings.db_path)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def command(parent, name: str, func, help: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help carries an example (tests/test_cli.py checks every one does)."""
    p = parent.add_parser(name, help=help, description=f"{help}\n\nExample:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func)
    return p
