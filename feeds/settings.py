"""Typed settings for the feeds layer; built by the caller, never read from files here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FeedSource:
    """One configured feed."""

    url: str = field(metadata={"help": "http(s) URL or local file path of an RSS/Atom feed"})
    title: str = field(default="", metadata={"help": "display name; the feed's own title when empty"})
    include: list[str] = field(default_factory=list, metadata={"help": "keep only entries matching one of these words or /regex/"})
    exclude: list[str] = field(default_factory=list, metadata={"help": "drop entries matching any of these words or /regex/"})

    def __post_init__(self) -> None:
        if not self.url or not isinstance(self.url, str):
            raise ValueError("each [[feeds.sources]] needs a url = \"https://...\" or a file path")


@dataclass
class FetchSettings:
    """Limits for every HTTP request the feeds layer makes."""

    user_agent: str = field(default="geobrief/0.1 (+https://github.com/geobrief/geobrief; RSS reader)", metadata={"help": "User-Agent header"})
    connect_timeout_s: float = field(default=10.0, metadata={"help": "TCP/TLS connect timeout"})
    read_timeout_s: float = field(default=20.0, metadata={"help": "longest wait for the next bytes"})
    total_timeout_s: float = field(default=45.0, metadata={"help": "hard limit for one whole request"})
    max_bytes: int = field(default=5_000_000, metadata={"help": "stop reading a body after this many (decoded) bytes"})
    max_redirects: int = field(default=5, metadata={"help": "redirects followed before giving up"})
    concurrency: int = field(default=32, metadata={"help": "requests in flight overall"})
    per_host: int = field(default=2, metadata={"help": "requests in flight per host"})

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"feeds.fetch.{name} must be > 0 seconds")
        if self.max_bytes < 1024:
            raise ValueError("feeds.fetch.max_bytes must be at least 1024")
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("feeds.fetch.concurrency and per_host must be >= 1")


@dataclass
class FeedsSettings:
    """Everything the poller needs."""

    sources: list[FeedSource] = field(default_factory=list, metadata={"help": "feeds polled at start-up (more can be added from the chat)"})
    poll_interval_s: int = field(default=900, metadata={"help": "seconds between polls of each feed"})
    max_entries_per_feed: int = field(default=50, metadata={"help": "newest entries taken from one fetch"})
    fetch: FetchSettings = field(default_factory=FetchSettings)

    def __post_init__(self) -> None:
        if self.poll_interval_s < 10:
            raise ValueError("feeds.poll_interval_s must be at least 10 seconds")
