"""Graceful shutdown: on SIGTERM stop accepting, close websockets with 1001 (Going Away) so
dashboards reconnect elsewhere, let in-flight requests finish, and exit within a bound.

uvicorn closes websockets with 1012 and runs the lifespan shutdown only after its connections
are gone, so the 1001 comes from a hook at the start of the server's own shutdown: the app keeps
its open websockets in a registry (middleware that wraps websocket scopes) and `Server` asks it
to close them before uvicorn's shutdown begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("casetasks.shutdown")

GOING_AWAY = 1001
# How long the close handshakes may take before uvicorn's own shutdown takes over.
CLOSE_HANDSHAKE_SECONDS = 1.0


class _OpenSocket:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = asyncio.Lock()
        self.closed = False

    async def send(self, message: Message) -> None:
        async with self._lock:
            if self.closed:
                return  # closed by the server's shutdown: what the app sends after is moot
            if message["type"] == "websocket.close":
                self.closed = True
            await self._send(message)

    async def close(self, code: int, reason: str) -> None:
        async with self._lock:
            if self.closed:
                return
            self.closed = True
            with contextlib.suppress(Exception):  # the client may be gone already
                await self._send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketRegistry:
    """The app's open websockets, so shutdown can say goodbye to each."""

    def __init__(self) -> None:
        self._open: set[_OpenSocket] = set()
        self._changed = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._open)

    async def track(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        tracked = _OpenSocket(send)
        self._open.add(tracked)
        try:
            await app(scope, receive, tracked.send)
        finally:
            self._open.discard(tracked)
            async with self._changed:
                self._changed.notify_all()

    async def close_all(self, code: int = GOING_AWAY, wait_seconds: float = 1.0) -> int:
        """Sends close to every open websocket; waits (bounded) for their handlers to end."""
        sockets = list(self._open)
        for open_socket in sockets:
            await open_socket.close(code, "server shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds), self._changed:
                await self._changed.wait_for(lambda: not self._open)
        return len(sockets)


class TrackWebSockets:
    """ASGI middleware: every websocket scope passes through the registry."""

    def __init__(self, app: ASGIApp, registry: WebSocketRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.registry.track(self.app, scope, receive, send)
        else:
            await self.app(scope, receive, send)


class Server(uvicorn.Server):
    """uvicorn's server with a bounded shutdown that first closes websockets with 1001.

    A SIGTERM or SIGINT is a requested, clean stop: the process exits 0 (uvicorn would re-raise
    the signal after shutting down, ending with -SIGTERM)."""

    def __init__(
        self, config: uvicorn.Config, websockets: WebSocketRegistry, timeout_seconds: float
    ) -> None:
        super().__init__(config)
        self.websockets = websockets
        self.timeout_seconds = timeout_seconds

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        for server in self.servers:
            server.close()  # stop accepting first: no new websocket slips in after the goodbye
        closed = await self.websockets.close_all(
            GOING_AWAY, min(CLOSE_HANDSHAKE_SECONDS, self.timeout_seconds / 2)
        )
        log.info("closed %d websockets with %d", closed, GOING_AWAY)
        # What is left of the bound goes to in-flight requests; then uvicorn cancels them.
        self.config.timeout_graceful_shutdown = max(1, int(deadline - time.monotonic()))
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
