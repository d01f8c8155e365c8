"""Serving feed files over loopback HTTP with real headers (ETag, Last-Modified, 304s, extra headers)."""

from __future__ import annotations

import hashlib
import re
from email.utils import formatdate
from pathlib import Path

from aiohttp import web


_HEADER_LINE = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.M)


def corpus_headers(body: bytes) -> dict[str, str]:
    """The ``Header: Name: value`` lines of a feedparser test file's leading comment (the headers it is served with)."""
    head = body[:3000]
    end = head.find(b"-->")
    head = head[: end if end > 0 else len(head)]
    return {m.group(1).decode("latin-1"): m.group(2).decode("latin-1") for m in _HEADER_LINE.finditer(head)}


class FeedServer:
    """Serves files from ``root`` at ``/<relative path>``; counts requests; answers conditional GETs.

    With ``file_headers`` each file is served with the headers its leading comment names
    (feedparser's test corpus: ``Header: Content-type: text/xml``), overriding the defaults.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", file_headers: bool = False):
        self.root = Path(root)
        self.host = host
        self.port = 0
        self.hits: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        self.extra: dict[str, bytes] = {}           # path -> body served instead of a file
        self.content_types: dict[str, str] = {}
        self.file_headers = file_headers
        self._runner: web.AppRunner | None = None

    def url(self, rel: str) -> str:
        return f"http://{self.host}:{self.port}/{rel}"

    def put(self, rel: str, body: bytes, content_type: str = "application/rss+xml") -> str:
        """Serve ``body`` at ``rel`` (replacing a previous one); return its URL."""
        self.extra[rel] = body
        self.content_types[rel] = content_type
        return self.url(rel)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        self.hits[rel] = self.hits.get(rel, 0) + 1
        if rel in self.extra:
            body = self.extra[rel]
        else:
            path = (self.root / rel).resolve()
            if not path.is_file() or self.root.resolve() not in path.parents:
                return web.Response(status=404)
            body = path.read_bytes()
        headers = {"ETag": '"' + hashlib.sha1(body).hexdigest() + '"', "Last-Modified": formatdate(1700000000, usegmt=True),
                   "Content-Type": self.content_types.get(rel, "application/xml")}
        if self.file_headers:
            extra = corpus_headers(body)
            headers = {k: v for k, v in headers.items() if k.lower() not in {e.lower() for e in extra}} | extra
        if request.headers.get("If-None-Match") == headers.get("ETag"):
            self.not_modified[rel] = self.not_modified.get(rel, 0) + 1
            return web.Response(status=304, headers={"ETag": headers["ETag"]})
        return web.Response(body=body, headers=headers)

    async def start(self) -> "FeedServer":
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop()
