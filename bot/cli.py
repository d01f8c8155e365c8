"""The ``geobrief`` command: a thin layer over the Python API, one subcommand per job.

Examples:
    geobrief run                      # the bot (offline demo when TELEGRAM_BOT_TOKEN is unset)
    geobrief demo                     # the scripted offline loop, explicitly
    geobrief train                    # one fine-tune → eval → promote/reject, with a progress bar
    geobrief models list              # versions with metrics and online rates; `geobrief models rollback 2`
    geobrief models prepare-base      # fetch and convert the embedded base model (setup does this)
    geobrief dataset stats            # what the next training run would see
    geobrief dataset export -o train.jsonl                 # the training set, loadable with datasets.load_dataset("json")
    geobrief dataset import pairs.jsonl --input-field article --output-field summary
    geobrief feeds list               # each feed's state, last success, items today, last error
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from . import cli_feeds, cli_training
from .cli_common import CliError, _configure_logging, _settings, command
from .settings import ConfigError, Settings

EPILOG = "Run `geobrief COMMAND --help` for a command's options and an example."


# ---- run / demo ---------------------------------------------------------------------------------

def cmd_run(args) -> int:
    settings = _settings(args)
    if not settings.telegram.token:
        print("TELEGRAM_BOT_TOKEN is not set: running the offline demo against a loopback Bot API server.\n"
              "Set TELEGRAM_BOT_TOKEN (and telegram.admin_ids in config.toml) to serve real readers.\n", flush=True)
        return cmd_demo(args)
    _configure_logging(args.verbose)
    _require_base_model(settings)
    from .app import build_application, run_forever

    run_forever(build_application(settings))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    settings = _settings(args)
    _require_base_model(settings)
    logging.basicConfig(level=logging.WARNING if not args.verbose else logging.INFO)
    return asyncio.run(run_demo(settings, steps=args.train_steps))


def _require_base_model(settings: Settings) -> None:
    base = Path(settings.model.base)
    if (base.is_absolute() or str(base).startswith(("models", "."))) and not (base / "config.json").exists():
        raise CliError(f"base model not found at {base}; run `make setup` (or `geobrief models prepare-base`) first")


# ---- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geobrief", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.toml when present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = command(sub, "run", cmd_run, "Run the bot (offline demo when TELEGRAM_BOT_TOKEN is unset)", "TELEGRAM_BOT_TOKEN=123:abc geobrief run")
    p.add_argument("--train-steps", type=int, default=None, help="demo only: optimizer steps of the demo fine-tune (default 20)")
    p = command(sub, "demo", cmd_demo, "Play the whole loop offline: feeds → summaries → correction → retrain → promotion", "geobrief demo")
    p.add_argument("--train-steps", type=int, default=None, help="optimizer steps of the demo fine-tune (default 20)")
    cli_training.register(sub)
    cli_feeds.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ConfigError) as exc:
        print(f"geobrief: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
