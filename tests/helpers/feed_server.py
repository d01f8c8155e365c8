"""Serving feed files over loopback HTTP with real headers (ETag, Last-Modified, 304s, extra headers)."""

from __future__ import annotations

import hashlib
from email.utils import formatdate
from pathlib import Path

from aiohttp import web


class FeedServer:
    """Serves files from ``root`` at ``/<relative path>``; counts requests; answers conditional GETs."""

    def __init__(self, root: Path, host: str = "127.0.0.1"):
        self.root = Path(root)
        self.host = host
        self.port = 0
        self.hits: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        self.extra: dict[str, bytes] = {}           # path -> body served instead of a file
        self.content_types: dict[str, str] = {}
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
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        last_modified = formatdate(1700000000, usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            self.not_modified[rel] = self.not_modified.get(rel, 0) + 1
            return web.Response(status=304, headers={"ETag": etag})
        ctype = self.content_types.get(rel, "application/xml")
        return web.Response(body=body, headers={"ETag": etag, "Last-Modified": last_modified, "Content-Type": ctype})

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
