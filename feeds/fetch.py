"""Fetching bytes over HTTP within limits: conditional GET, timeouts, size cap, redirects, per-host concurrency.

Compressed bodies are decoded here, not by httpx, so that the size cap applies to the decoded
bytes as they are produced: a 1 MB gzip bomb that would inflate to 1 GB stops after ``max_bytes``
with at most one ``max_bytes`` buffer in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .settings import FetchSettings

ACCEPT_FEED = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class FetchError(Exception):
    """The resource could not be fetched; the message says why in one line."""

    def __init__(self, message: str, retry_after_s: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.status = status


@dataclass
class FetchResult:
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


class Fetcher:
    """One httpx client plus the overall and per-host limits; use as ``async with Fetcher(settings) as f``."""

    def __init__(self, settings: FetchSettings):
        self.settings = settings
        self._overall = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s, pool=settings.total_timeout_s)
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self.client = httpx.AsyncClient(
            timeout=timeout, limits=limits, follow_redirects=True, max_redirects=settings.max_redirects,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    @asynccontextmanager
    async def _slot(self, url: str):
        host = urlsplit(url).netloc.lower()
        sem = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        async with self._overall, sem:
            yield

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None, accept: str = ACCEPT_FEED) -> FetchResult:
        """GET ``url`` (or read a local file); raise FetchError with a readable reason on any failure."""
        if not is_remote(url):
            return await _read_file(url, self.settings.max_bytes)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        s = self.settings
        try:
            async with self._slot(url), asyncio.timeout(s.total_timeout_s):  # waiting for a slot is not counted
                async with self.client.stream("GET", url, headers=headers) as resp:
                    return await _read(resp, url, s.max_bytes)
        except TimeoutError:
            raise FetchError(f"timed out after {s.total_timeout_s:g} s") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {s.max_redirects} redirects") from None
        except httpx.TimeoutException as exc:
            kind = {"ConnectTimeout": "connecting", "ReadTimeout": "waiting for data", "PoolTimeout": "waiting for a connection"}.get(type(exc).__name__, "")
            raise FetchError(f"timed out {kind}".strip()) from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL: {exc}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}"[:300]) from None


async def _read(resp: httpx.Response, url: str, max_bytes: int) -> FetchResult:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    final = str(resp.url)
    if resp.status_code == 304:
        return FetchResult(304, b"", headers, final)
    if resp.status_code >= 400:
        retry = retry_after_seconds(headers.get("retry-after")) if resp.status_code in (429, 503) else None
        phrase = f" {resp.reason_phrase}" if resp.reason_phrase else ""
        raise FetchError(f"HTTP {resp.status_code}{phrase}" + (f" (retry after {retry:.0f} s)" if retry else ""), retry, resp.status_code)
    declared = headers.get("content-length", "")
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if declared.isdigit() and int(declared) > max_bytes and encoding in ("", "identity"):
        raise FetchError(f"body of {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
    decoder = _Decoder(encoding)
    body = bytearray()
    async for chunk in resp.aiter_raw():
        body += decoder.feed(chunk, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            raise FetchError(f"body larger than {max_bytes:,} bytes" + (f" after {encoding} decoding" if decoder.active else ""))
    body += decoder.flush(max_bytes + 1 - len(body))
    if len(body) > max_bytes:
        raise FetchError(f"body larger than {max_bytes:,} bytes")
    headers.pop("content-encoding", None)
    return FetchResult(resp.status_code, bytes(body), headers, final)


class _Decoder:
    """gzip/deflate decoding that never produces more than asked for at a time."""

    def __init__(self, encoding: str):
        self.active = encoding in ("gzip", "x-gzip", "deflate")
        if encoding not in ("", "identity") and not self.active:
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")
        # 47 = auto-detect gzip or zlib header; raw deflate (no header) is retried below.
        self._z = zlib.decompressobj(47) if self.active else None
        self._tried_raw = False

    def feed(self, data: bytes, room: int) -> bytes:
        if not self._z:
            return data
        try:
            out = self._z.decompress(data, max(room, 1))
        except zlib.error:
            if self._tried_raw:
                raise FetchError("corrupt compressed body") from None
            self._tried_raw = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, room)
        if self._z.unconsumed_tail and len(out) < room:
            out += self.feed(self._z.unconsumed_tail, room - len(out))
        return out

    def flush(self, room: int) -> bytes:
        if not self._z:
            return b""
        out = b""
        while self._z.unconsumed_tail and len(out) < room:
            out += self._z.decompress(self._z.unconsumed_tail, room - len(out))
        return out


async def _read_file(url: str, max_bytes: int) -> FetchResult:
    path = Path(url.removeprefix("file://"))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(f"file of {size:,} bytes is over the {max_bytes:,}-byte limit")
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    return FetchResult(200, data, {}, url)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
