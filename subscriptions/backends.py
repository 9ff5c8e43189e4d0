"""Broadcast backends for Redis and PostgreSQL LISTEN/NOTIFY.

broadcaster 0.3.1's own Redis backend can stop listening for good when its listener starts
before the first SUBSCRIBE has gone through, and its PostgreSQL backend publishes on the
connection it listens on, which asyncpg does not allow from concurrent requests. These keep
broadcaster's interface and fix both; memory:// stays broadcaster's own.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

import asyncpg
from broadcaster import Broadcast, BroadcastBackend, Event
from redis import asyncio as aioredis


class RedisBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
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

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _listen(self) -> None:
        async for message in self._pubsub.listen():
            if message["type"] == "message":
                channel = message["channel"].decode()
                await self._queue.put(Event(channel=channel, message=message["data"].decode()))


class PostgresBackend(BroadcastBackend):
    """LISTEN on one connection, NOTIFY through a small pool."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._queue: asyncio.Queue[Event] = asyncio.Queue()

    async def connect(self) -> None:
        self._listen_connection = await asyncpg.connect(self._url)
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

    async def next_published(self) -> Event:
        return await self._queue.get()


def broadcast_for(url: str) -> Broadcast:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return Broadcast(backend=RedisBackend(url))
    if scheme in ("postgres", "postgresql"):
        return Broadcast(backend=PostgresBackend(url))
    return Broadcast(url)
