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
    min_relevance: float = field(default=-1.0, metadata={"help": "this feed's relevance threshold; -1 uses feeds.relevance.threshold, 0 keeps everything"})

    def __post_init__(self) -> None:
        if not self.url or not isinstance(self.url, str):
            raise ValueError("each [[feeds.sources]] needs a url = \"https://...\" or a file path")
        if not (self.min_relevance == -1 or 0 <= self.min_relevance <= 1):
            raise ValueError(f"min_relevance of {self.url} must be between 0 and 1 (or -1 for the global threshold)")
        from .filters import compile_filters  # validates the patterns now, not at the first poll

        try:
            compile_filters(self.include, self.exclude)
        except ValueError as exc:
            raise ValueError(f"feed {self.url}: {exc}") from None


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
    max_retry_after_s: int = field(default=21600, metadata={"help": "a server's Retry-After is honoured up to this many seconds"})
    max_ttl_s: int = field(default=21600, metadata={"help": "a feed's <ttl> may stretch its poll interval up to this many seconds"})

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"feeds.fetch.{name} must be > 0 seconds")
        if self.max_bytes < 1024:
            raise ValueError("feeds.fetch.max_bytes must be at least 1024")
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("feeds.fetch.concurrency and per_host must be >= 1")
        if self.max_redirects < 0:
            raise ValueError("feeds.fetch.max_redirects must be >= 0")
        if self.max_retry_after_s < 0 or self.max_ttl_s < 0:
            raise ValueError("feeds.fetch.max_retry_after_s and max_ttl_s must be >= 0 seconds")


@dataclass
class HealthSettings:
    """Backing off failing feeds and disabling dead ones."""

    backoff_base_s: int = field(default=900, metadata={"help": "wait after the first failure; doubles with each further one"})
    backoff_max_s: int = field(default=43200, metadata={"help": "longest wait between two tries of a failing feed"})
    disable_after: int = field(default=20, metadata={"help": "consecutive failures before a feed is disabled (admins are told)"})

    def __post_init__(self) -> None:
        if self.backoff_base_s < 1 or self.backoff_max_s < self.backoff_base_s:
            raise ValueError("feeds.health needs 1 <= backoff_base_s <= backoff_max_s")
        if self.disable_after < 1:
            raise ValueError("feeds.health.disable_after must be at least 1")


@dataclass
class FullTextSettings:
    """Fetching the article page when a feed gives only a teaser."""

    enabled: bool = field(default=True, metadata={"help": "fetch and extract the article page for teaser-only entries"})
    min_chars: int = field(default=600, metadata={"help": "entry text shorter than this counts as a teaser"})
    max_per_poll: int = field(default=100, metadata={"help": "article pages fetched per polling pass at most"})

    def __post_init__(self) -> None:
        if self.min_chars < 0 or self.max_per_poll < 0:
            raise ValueError("feeds.full_text.min_chars and max_per_poll must be >= 0")


@dataclass
class DedupeSettings:
    """Recognising the same story across outlets."""

    window_hours: int = field(default=24, metadata={"help": "articles published this close together may be the same story"})
    similarity: float = field(default=0.25, metadata={"help": "title+lead similarity (0-1) at which two outlets' items are one story; 1 turns it off"})

    def __post_init__(self) -> None:
        if self.window_hours < 1:
            raise ValueError("feeds.dedupe.window_hours must be at least 1")
        if not 0 < self.similarity <= 1:
            raise ValueError("feeds.dedupe.similarity must be in (0, 1]")


@dataclass
class RelevanceSettings:
    """Dropping items that are not about geopolitics (sport, celebrities) from general feeds."""

    threshold: float = field(default=0.3, metadata={"help": "items scoring below this are stored but not summarized; 0 keeps everything"})
    geopolitical_terms: list[str] = field(default_factory=list, metadata={"help": "words or phrases added to the built-in geopolitical vocabulary"})
    off_topic_terms: list[str] = field(default_factory=list, metadata={"help": "words or phrases added to the built-in sport/celebrity vocabulary"})

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1:
            raise ValueError("feeds.relevance.threshold must be between 0 and 1")


@dataclass
class FeedsSettings:
    """Everything the poller needs."""

    sources: list[FeedSource] = field(default_factory=list, metadata={"help": "feeds polled at start-up (more can be added from the chat)"})
    poll_interval_s: int = field(default=900, metadata={"help": "seconds between polls of each feed"})
    max_entries_per_feed: int = field(default=50, metadata={"help": "newest entries taken from one fetch"})
    parse_processes: int = field(default=0, metadata={"help": "worker processes parsing changed feeds; 0 = one per CPU core (at most 8), 1 = a thread"})
    fetch: FetchSettings = field(default_factory=FetchSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    full_text: FullTextSettings = field(default_factory=FullTextSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)

    def __post_init__(self) -> None:
        if self.poll_interval_s < 10:
            raise ValueError("feeds.poll_interval_s must be at least 10 seconds")
        if self.max_entries_per_feed < 1:
            raise ValueError("feeds.max_entries_per_feed must be at least 1")
        if self.parse_processes < 0:
            raise ValueError("feeds.parse_processes must be >= 0 (0 = one per CPU core)")

    def source_for(self, url: str) -> FeedSource | None:
        """The configured source with this URL (feeds added from the chat have none)."""
        return next((s for s in self.sources if s.url == url), None)
