"""Fetching feed bytes over HTTP (conditional GET, bounded) or from a local file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .settings import FetchSettings


class FetchError(Exception):
    """The feed could not be fetched; the message says why in one line."""


@dataclass
class FetchResult:
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def make_client(settings: FetchSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent},
    )


async def fetch(client: httpx.AsyncClient, url: str, settings: FetchSettings, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
    """Fetch one feed; raise FetchError with a readable reason on failure."""
    if not is_remote(url):
        path = Path(url.removeprefix("file://"))
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
        return FetchResult(200, data[: settings.max_bytes], {}, url)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(settings.total_timeout_s):
            async with client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304:
                    return FetchResult(304, b"", dict(resp.headers), str(resp.url))
                if resp.status_code >= 400:
                    raise FetchError(f"HTTP {resp.status_code} from {url}")
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > settings.max_bytes:
                        raise FetchError(f"body larger than {settings.max_bytes} bytes")
                return FetchResult(resp.status_code, bytes(body), dict(resp.headers), str(resp.url))
    except TimeoutError:
        raise FetchError(f"timed out after {settings.total_timeout_s:g} s") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {settings.max_redirects} redirects") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None
