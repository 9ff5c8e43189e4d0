"""A TCP proxy between the app and a shared server (PostgreSQL, Redis), for faults that must
not disturb anyone else using that server: cut every connection and refuse new ones (the
server restarting, or down), freeze them (a network that stops forwarding without a word), and
restore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.refusing = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url_for(self, url: str) -> str:
        """The same URL, through this proxy."""
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")
        netloc = f"{host[0]}{host[1]}127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def open_connections(self) -> int:
        return len(self._writers) // 2

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if sink in self._frozen:
                    continue  # swallowed: neither side hears a thing
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)
            self._frozen.discard(sink)

    def cut(self, refuse: bool = True) -> None:
        """Resets every connection (as a server going down does) and, with refuse, refuses
        new ones until restore()."""
        self.refusing = refuse
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._frozen.clear()

    def freeze(self) -> None:
        """Existing connections stay open but carry nothing more; new ones work."""
        self._frozen |= self._writers

    def restore(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pipe


@asynccontextmanager
async def proxy_to(url: str, default_port: int) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(url.replace("+asyncpg", ""))
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or default_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
