"""Broadcast backends: memory, Redis pub/sub and PostgreSQL LISTEN/NOTIFY.

They keep broadcaster's BroadcastBackend interface, and add what the event hub needs and
broadcaster 0.3.1's own backends lack: a lost connection surfaces as an error from
next_published (broadcaster's Redis listener can stop for good without a word, and its
PostgreSQL backend publishes on the connection it listens on, which asyncpg does not allow from
concurrent requests), and a Redis reconnection made by redis-py itself is reported as RESYNC,
since messages published meanwhile are gone.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

import asyncpg
from broadcaster import BroadcastBackend, Event
from redis import asyncio as aioredis

RESYNC = '{"resync":true}'


class Lost(ConnectionError):
    """The backend lost its connection; the hub reconnects and asks listeners to catch up."""


class _Queued(BroadcastBackend):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()

    async def next_published(self) -> Event:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def _fail(self, error: BaseException) -> None:
        self._queue.put_nowait(Lost(f"broadcast connection lost: {error!r}"))


class MemoryBackend(_Queued):
    """One process: what it publishes, it hears."""

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        pass

    async def unsubscribe(self, channel: str) -> None:
        pass

    async def publish(self, channel: str, message: Any) -> None:
        self._queue.put_nowait(Event(channel=channel, message=message))

    def lose_connection(self) -> None:
        """Tests: behave as a network backend does when its connection drops."""
        self._fail(ConnectionResetError("simulated"))


class RedisBackend(_Queued):
    def __init__(self, url: str) -> None:
        super().__init__()
        self._client = aioredis.Redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._listener: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._client.ping()

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        await self._pubsub.aclose()
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
        confirmations = 0
        try:
            async for message in self._pubsub.listen():
                kind = message["type"]
                if kind == "message":
                    channel = message["channel"].decode()
                    self._queue.put_nowait(Event(channel=channel, message=message["data"].decode()))
                elif kind == "subscribe":
                    confirmations += 1
                    if confirmations > 1:  # redis-py reconnected and subscribed again
                        self._queue.put_nowait(Event(channel="", message=RESYNC))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._fail(error)


class PostgresBackend(_Queued):
    """LISTEN on one connection, NOTIFY through a small pool."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    async def connect(self) -> None:
        self._listen_connection = await asyncpg.connect(self._url)
        self._listen_connection.add_termination_listener(lambda _c: self._fail(Lost("closed")))
        self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=4)

    async def disconnect(self) -> None:
        await self._listen_connection.close()
        await self._pool.close()

    async def subscribe(self, channel: str) -> None:
        await self._listen_connection.add_listener(channel, self._received)

    async def unsubscribe(self, channel: str) -> None:
        await self._listen_connection.remove_listener(channel, self._received)

    async def publish(self, channel: str, message: Any) -> None:
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_notify($1, $2)", channel, message)

    def _received(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel=channel, message=payload))


def backend_for(url: str) -> BroadcastBackend:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    if scheme in ("postgres", "postgresql"):
        return PostgresBackend(url)
    if scheme == "memory":
        return MemoryBackend()
    raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r} (memory, redis, postgres)")
