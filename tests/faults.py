"""Faults of the broadcast connection, dealt only to this test's own hub: a Redis connection
killed by its client name, a LISTEN backend of this test's own database terminated."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
from redis import asyncio as aioredis
from starlette.applications import Starlette

from casetasks.app import create_app
from casetasks.db import create_engine, create_session_factory, unit_of_work
from casetasks.settings import Settings
from models import Notification, NotificationKind
from services.clock import Clock
from subscriptions.backends import MemoryBackend, PostgresBackend, RedisBackend
from subscriptions.hub import EventHub
from tests.conftest import START
from tests.factories import Person, World
from tests.graphql_client import Api
from tests.live import serve_in_process
from tests.services import REDIS_URL
from tests.ws_client import Operation


async def kill_redis_listener(hub: EventHub) -> None:
    """CLIENT KILL ID of the hub's own subscriber connection, found by its client name."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        ids = [c["id"] for c in await client.client_list() if c["name"] == f"{hub.name}-listen"]
        assert len(ids) == 1, ids
        await client.client_kill_filter(_id=ids[0])
    finally:
        await client.aclose()


async def terminate_listen_backend(hub: EventHub, database_url: str) -> None:
    """pg_terminate_backend of the hub's LISTEN connection, in this test's own database."""
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        terminated = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            f"{hub.name}-listen",
        )
    finally:
        await admin.close()
    assert terminated == 1


async def kill_broadcast_connection(hub: EventHub, database_url: str) -> None:
    """Drops the hub's subscriber connection the way a broker or network failure would."""
    backend = hub.backend
    if isinstance(backend, MemoryBackend):
        backend.lose_connection()
    elif isinstance(backend, RedisBackend):
        await kill_redis_listener(hub)
    else:
        assert isinstance(backend, PostgresBackend)
        await terminate_listen_backend(hub, database_url)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.01)


@dataclass
class Served:
    """An app served by a real uvicorn server, with factories that reach the database directly
    (not through any proxy the app's own connections go through)."""

    app: Starlette
    world: World
    http_url: str
    ws_url: str

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.app.state.hub
        return hub


@asynccontextmanager
async def served(settings: Settings, clock: Clock, direct_url: str) -> AsyncIterator[Served]:
    app = create_app(settings, clock=clock)
    direct = create_engine(direct_url)
    try:
        async with (
            app.router.lifespan_context(app),
            serve_in_process(app) as address,
            httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
        ):
            world = World(Api(http), create_session_factory(direct), clock)
            yield Served(app, world, f"http://{address}", f"ws://{address}/graphql")
    finally:
        await direct.dispose()


NOTIFICATION_IDS = "query { notifications(first: 100) { edges { node { id } } } }"


async def stored_notification_ids(world: World, person: Person) -> list[str]:
    """The person's notifications as the widget lists them, oldest first."""
    data = await world.api.data(NOTIFICATION_IDS, token=person.token)
    return [edge["node"]["id"] for edge in reversed(data["notifications"]["edges"])]


async def received_ids(operation: Operation, field: str, count: int) -> list[str]:
    """The notification ids of the next `count` messages, then nothing more."""
    ids = []
    for _ in range(count):
        data = (await operation.next(timeout=10))[field]
        ids.append(data["notification"]["id"] if "notification" in data else data["id"])
    await operation.nothing(0.3)
    return ids


async def insert_notifications(world: World, staff_id: int, count: int, size: int) -> list[int]:
    async with unit_of_work(world.session_factory) as session:
        rows = [
            Notification(
                recipient_id=staff_id,
                kind=NotificationKind.TASK_ASSIGNED,
                # Random text: the websocket's compression (permessage-deflate) cannot shrink it.
                message=f"{n}:" + base64.b64encode(os.urandom(size * 3 // 4)).decode(),
                created_at=START,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id or 0 for row in rows]
