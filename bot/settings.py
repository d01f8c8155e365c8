"""Settings: config.toml and the environment, parsed once into typed objects."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from feeds.settings import FeedSource, FeedsSettings, FetchSettings
from trainer.settings import EvalSettings, ModelSettings, StyleSettings, TrainingSettings

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


class ConfigError(ValueError):
    """config.toml or the environment holds a value we cannot use."""


@dataclass
class TelegramSettings:
    """How the bot talks to Telegram."""

    token: str = field(default="", repr=False, metadata={"help": f"from the {TOKEN_ENV} environment variable only"})
    admin_ids: list[int] = field(default_factory=list, metadata={"help": "Telegram user ids allowed to run admin commands"})
    base_url: str = field(default="https://api.telegram.org/bot", metadata={"help": "Bot API endpoint (a local Bot API server, or the loopback one in tests)"})
    base_file_url: str = field(default="https://api.telegram.org/file/bot", metadata={"help": "Bot API file endpoint"})
    mode: str = field(default="polling", metadata={"help": "polling or webhook"})
    webhook_url: str = field(default="", metadata={"help": "public https URL Telegram posts updates to (webhook mode)"})
    webhook_listen: str = field(default="127.0.0.1", metadata={"help": "address the webhook server binds"})
    webhook_port: int = field(default=8443, metadata={"help": "port the webhook server binds"})
    webhook_secret: str = field(default="", repr=False, metadata={"help": "from GEOBRIEF_WEBHOOK_SECRET; checked on every webhook call"})
    max_messages_per_second: float = field(default=30.0, metadata={"help": "overall send rate (Telegram allows about 30/s)"})
    per_chat_interval_s: float = field(default=1.0, metadata={"help": "least time between two messages to one chat"})

    def __post_init__(self) -> None:
        if self.mode not in ("polling", "webhook"):
            raise ValueError("telegram.mode must be polling or webhook")
        loopback = self.webhook_url.startswith(("http://127.0.0.1", "http://localhost"))  # a local Bot API server
        if self.mode == "webhook" and not (self.webhook_url.startswith("https://") or loopback):
            raise ValueError("telegram.mode = \"webhook\" needs telegram.webhook_url = \"https://...\" (Telegram only posts to https)")
        self.admin_ids = [int(a) for a in self.admin_ids]


@dataclass
class DeliverySettings:
    """What readers receive and when."""

    realtime_interval_s: int = field(default=60, metadata={"help": "seconds between outbox sweeps"})
    summarize_interval_s: int = field(default=120, metadata={"help": "seconds between summarizing batches of new articles"})
    max_articles_per_batch: int = field(default=16, metadata={"help": "articles summarized per job run"})
    max_backlog_hours: int = field(default=48, metadata={"help": "articles older than this are stored but not summarized"})
    digest_check_interval_s: int = field(default=300, metadata={"help": "how often due digests are looked for"})
    digest_window_hours: int = field(default=24, metadata={"help": "a digest covers articles from this many hours back"})
    backfill_on_subscribe: int = field(default=3, metadata={"help": "latest summaries sent to a new subscriber"})

    def __post_init__(self) -> None:
        if self.digest_check_interval_s < 30 or self.digest_check_interval_s > 3600:
            raise ValueError("delivery.digest_check_interval_s must be between 30 and 3600")


@dataclass
class CorrectionSettings:
    """How readers' corrections are checked before they become training data."""

    daily_cap: int = field(default=10, metadata={"help": "corrections one reader may send per 24 hours"})
    min_chars: int = field(default=20, metadata={"help": "shortest acceptable correction"})
    max_chars: int = field(default=1500, metadata={"help": "longest acceptable correction"})
    trust_admins: bool = field(default=True, metadata={"help": "admins' corrections skip review"})

    def __post_init__(self) -> None:
        if self.daily_cap < 1:
            raise ValueError("corrections.daily_cap must be >= 1")
        if not 1 <= self.min_chars < self.max_chars:
            raise ValueError("corrections.min_chars must be >= 1 and below corrections.max_chars")


@dataclass
class Settings:
    """The whole service's configuration."""

    db_path: Path = field(default=Path("data/geobrief.db"), metadata={"help": "the SQLite file that holds everything"})
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    corrections: CorrectionSettings = field(default_factory=CorrectionSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    style: StyleSettings = field(default_factory=StyleSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    config_path: Path | None = field(default=None, metadata={"help": "where these settings were read from"})

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)


def _build(cls: type, data: typing.Any, where: str) -> typing.Any:
    """Turn a TOML table into dataclass ``cls``, naming the bad key when there is one."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in [{where}]; known keys: {', '.join(sorted(known))}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _convert(hints[name], value, f"{where}.{name}" if where else name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def _convert(tp: typing.Any, value: typing.Any, where: str) -> typing.Any:
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list")
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _convert(option, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where} has the wrong type: {value!r}")
    if tp is Path:
        return Path(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {tp.__name__}, got {value!r}")
    return value


def load_settings(path: str | Path | None, env: typing.Mapping[str, str] | None = None, overrides: dict | None = None) -> Settings:
    """Read config.toml (if given), apply overrides and the environment, and validate."""
    env = os.environ if env is None else env
    data: dict = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found (copy config.toml from the repository)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    if "token" in data.get("telegram", {}):
        raise ConfigError(f"the bot token must not be in the config file; set {TOKEN_ENV} in the environment")
    telegram = data.setdefault("telegram", {})
    if env.get(TOKEN_ENV):
        telegram["token"] = env[TOKEN_ENV].strip()
    if env.get("GEOBRIEF_WEBHOOK_SECRET"):
        telegram["webhook_secret"] = env["GEOBRIEF_WEBHOOK_SECRET"]
    if env.get("GEOBRIEF_ADMIN_IDS"):
        try:
            telegram["admin_ids"] = [int(x) for x in env["GEOBRIEF_ADMIN_IDS"].replace(",", " ").split()]
        except ValueError:
            raise ConfigError("GEOBRIEF_ADMIN_IDS must be Telegram user ids separated by commas") from None
    if env.get("GEOBRIEF_DB"):
        data["db_path"] = env["GEOBRIEF_DB"]
    settings = _build(Settings, data, "")
    settings.config_path = Path(path) if path is not None else None
    _resolve_paths(settings)
    return settings


def _resolve_paths(settings: Settings) -> None:
    """Relative paths in config.toml are relative to the file, so the service can start from anywhere."""
    if settings.config_path is None:
        return
    root = settings.config_path.resolve().parent

    def fix(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    settings.db_path = fix(settings.db_path)
    settings.model.models_dir = fix(settings.model.models_dir)
    if not Path(settings.model.base).is_absolute() and (root / settings.model.base).exists() or settings.model.base.startswith(("models/", "./")):
        settings.model.base = str(fix(Path(settings.model.base)))
    settings.training.seed_files = [fix(p) for p in settings.training.seed_files]
    for src in settings.feeds.sources:
        if "://" not in src.url:
            src.url = str(fix(Path(src.url)))


__all__ = ["ConfigError", "CorrectionSettings", "DeliverySettings", "FeedSource", "FetchSettings", "Settings", "TelegramSettings", "load_settings"]
