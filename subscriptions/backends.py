"""Broadcast backends: memory, Redis pub/sub and PostgreSQL LISTEN/NOTIFY.

They keep broadcaster's BroadcastBackend interface, and add what the event hub needs and
broadcaster 0.3.1's own backends lack: a lost connection surfaces as an error from
next_published (broadcaster's Redis listener can stop for good without a word, and its
PostgreSQL backend publishes on the connection it listens on, which asyncpg does not allow from
concurrent requests), a Redis reconnection made by redis-py itself is reported as RESYNC (since
messages published meanwhile are gone), and every connection carries the hub's name (Redis
CLIENT SETNAME, PostgreSQL application_name), so an operator sees whose it is.

A connection can also die without a word (a half-open TCP connection, a proxy that stops
forwarding); the hub's heartbeat finds those and calls `fail`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlparse

import asyncpg
from broadcaster import BroadcastBackend, Event
from redis import asyncio as aioredis

from subscriptions.events import RESYNC


class Lost(ConnectionError):
    """The backend lost its connection; the hub reconnects and asks listeners to catch up."""


class BroadcastConnection(BroadcastBackend):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()

    async def next_published(self) -> Event:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def fail(self, error: BaseException) -> None:
        """Ends the stream of events: next_published raises Lost."""
        self._queue.put_nowait(Lost(f"broadcast connection lost: {error!r}"))


class MemoryBackend(BroadcastConnection):
    """One process: what it publishes, it hears."""

    def __init__(self) -> None:
        super().__init__()
        self.deaf = False

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        pass

    async def unsubscribe(self, channel: str) -> None:
        pass

    async def publish(self, channel: str, message: Any) -> None:
        if not self.deaf:
            self._queue.put_nowait(Event(channel=channel, message=message))

    def lose_connection(self) -> None:
        """Tests: behave as a network backend does when its connection drops."""
        self.fail(ConnectionResetError("simulated"))

    def go_deaf(self) -> None:
        """Tests: behave as a subscription whose connection died without a word."""
        self.deaf = True


class RedisBackend(BroadcastConnection):
    def __init__(self, url: str, name: str) -> None:
        super().__init__()
        self._client = aioredis.Redis.from_url(url, client_name=f"{name}-publish")
        self._subscriber = aioredis.Redis.from_url(url, client_name=f"{name}-listen")
        self._pubsub = self._subscriber.pubsub()
        self._listener: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._client.ping()

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._subscriber.aclose()
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        if self._listener is None:  # only now does redis-py have a channel to listen on
            self._listener = asyncio.create_task(self._listen())

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._client.publish(channel, message)

    async def _listen(self) -> None:
        confirmed: set[str] = set()
        try:
            async for message in self._pubsub.listen():
                kind = message["type"]
                channel = message["channel"].decode()
                if kind == "message":
                    self._queue.put_nowait(Event(channel=channel, message=message["data"].decode()))
                elif kind == "subscribe":
                    if channel in confirmed:  # redis-py reconnected and subscribed again
                        self._queue.put_nowait(Event(channel="", message=RESYNC))
                    confirmed.add(channel)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.fail(error)


class PostgresBackend(BroadcastConnection):
    """LISTEN on one connection, NOTIFY through a small pool."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__()
        self._url = url
        self._name = name
        self._listen_connection: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        self._listen_connection = await asyncpg.connect(
            self._url, server_settings={"application_name": f"{self._name}-listen"}
        )
        self._listen_connection.add_termination_listener(lambda _c: self.fail(Lost("closed")))
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=1,
            max_size=4,
            server_settings={"application_name": f"{self._name}-publish"},
        )

    async def disconnect(self) -> None:
        # terminate, not close: a connection that died silently would never answer a goodbye.
        if self._listen_connection is not None:
            self._listen_connection.terminate()
        if self._pool is not None:
            self._pool.terminate()

    async def subscribe(self, channel: str) -> None:
        assert self._listen_connection is not None
        await self._listen_connection.add_listener(channel, self._received)

    async def unsubscribe(self, channel: str) -> None:
        assert self._listen_connection is not None
        await self._listen_connection.remove_listener(channel, self._received)

    async def publish(self, channel: str, message: Any) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_notify($1, $2)", channel, message)

    def _received(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel=channel, message=payload))


def backend_for(url: str, name: str = "casetasks") -> BroadcastConnection:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return RedisBackend(url, name)
    if scheme in ("postgres", "postgresql"):
        return PostgresBackend(url, name)
    if scheme == "memory":
        return MemoryBackend()
    raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r} (memory, redis, postgres)")
