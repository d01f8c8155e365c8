"""A loopback HTTP server that misbehaves the ways real feed servers do, one path per fault."""

from __future__ import annotations

import asyncio
import gzip
import zlib

from aiohttp import web

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Fine</title>
<item><title>Talks on the border dispute resume in Geneva</title><link>http://example.org/a</link>
<description>Diplomats from both governments met at the United Nations.</description></item></channel></rss>"""


def gzip_bomb(decoded_mb: int) -> bytes:
    """``decoded_mb`` MB of zeros gzipped (about 1/1000 of that on the wire), built without holding it decoded."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join([*(z.compress(block) for _ in range(decoded_mb)), z.flush()])


class FaultServer:
    """``async with FaultServer() as s: s.url("hang")``; ``hits`` counts requests per path."""

    def __init__(self, bomb_mb: int = 1024, big_mb: int = 50):
        self.port = 0
        self.hits: dict[str, int] = {}
        self._bomb = gzip_bomb(bomb_mb)
        self._big_mb = big_mb
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.hits[path] = self.hits.get(path, 0) + 1
        if path == "ok":
            return web.Response(body=FEED, content_type="application/rss+xml")
        if path == "gzip-ok":
            return web.Response(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        if path == "hang":  # accepts, then never answers
            await self._wait(3600)
            return web.Response(body=FEED)
        if path == "drip":  # headers at once, then one byte every 0.2 s forever
            resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await resp.prepare(request)
            for i in range(100_000):
                await resp.write(FEED[i % len(FEED): i % len(FEED) + 1])
                if await self._wait(0.2):
                    break
            return resp
        if path == "500":
            return web.Response(status=500, text="Internal Server Error")
        if path == "429":
            return web.Response(status=429, headers={"Retry-After": "7200"}, text="slow down")
        if path == "503-date":
            return web.Response(status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, text="maintenance")
        if path.startswith("loop"):
            n = int(path[4:] or 0)
            raise web.HTTPFound(f"/loop{n + 1}")
        if path == "big":  # 50 MB of a never-ending feed, streamed
            resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml", "Content-Length": str(self._big_mb << 20)})
            await resp.prepare(request)
            chunk = b"<item><title>x</title></item>" * 2000
            sent = 0
            try:
                while sent < self._big_mb << 20:
                    await resp.write(chunk)
                    sent += len(chunk)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        if path == "big-chunked":  # the same without Content-Length: only counting stops it
            resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            chunk = b"<item><title>x</title></item>" * 2000
            try:
                for _ in range((self._big_mb << 20) // len(chunk)):
                    await resp.write(chunk)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        if path == "bomb":
            return web.Response(body=self._bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        if path == "html":
            return web.Response(text="<html><body><h1>Welcome</h1><p>This is a web page, not a feed.</p></body></html>", content_type="text/html")
        return web.Response(status=404)

    async def _wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
            return True
        except TimeoutError:
            return False

    async def __aenter__(self) -> "FaultServer":
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        if self._runner:
            await self._runner.cleanup()
