"""Several `casetasks serve` processes behind one load balancer, and restarts.

Real processes sharing one database and broadcast backend: PostgreSQL with Redis or with
PostgreSQL LISTEN/NOTIFY, and the embedded SQLite with memory:// for a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from casetasks.db import create_engine, create_session_factory
from services.clock import SystemClock
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import World
from tests.graphql_client import Api
from tests.group_setup import group_of_two, send_task
from tests.live import ServeProcess
from tests.processes import process_env
from tests.services import POSTGRES_URL, REDIS_URL, need
from tests.test_subscriptions import ALERTS
from tests.ws_client import GraphQLWebSocket


def _broadcast_url(kind: str) -> str:
    if kind == "redis":
        need("Redis", REDIS_URL, 6379)
        return REDIS_URL
    if kind == "postgres":
        return POSTGRES_URL.replace("postgresql+asyncpg://", "postgres://")
    return "memory://"


@pytest.fixture
async def postgres_url(postgres_templates: PostgresTemplates) -> AsyncIterator[str]:
    need("PostgreSQL", POSTGRES_URL, 5432)
    async with postgres_templates.database() as url:
        yield url


async def _world(database_url: str, http: httpx.AsyncClient) -> tuple[World, object]:
    engine = create_engine(database_url)
    return World(Api(http), create_session_factory(engine), SystemClock()), engine


@pytest.mark.parametrize("broadcast", ["redis", "postgres"])
async def test_an_alert_reaches_a_dashboard_on_another_instance_within_a_second(
    postgres_url: str, broadcast: str, tmp_path: Path
) -> None:
    env = process_env(postgres_url, BROADCAST_URL=_broadcast_url(broadcast))
    first, second = ServeProcess(env, tmp_path), ServeProcess(env, tmp_path)
    await first.start()
    await second.start()
    try:
        async with httpx.AsyncClient(base_url=second.http_url) as http:
            world, engine = await _world(postgres_url, http)
            group = await group_of_two(world)
            dashboard = await GraphQLWebSocket.connect(first.ws_url, group.receiving_staff.token)
            alerts = await dashboard.subscribe(ALERTS)
            await alerts.nothing(0.3)

            task = await send_task(world, group, "Sent through the second instance")
            alert = (await alerts.next(timeout=1.0))["unassignedTaskAlerts"]
            assert alert["task"]["id"] == task["id"]
            await alerts.nothing(0.5)
            await dashboard.close()
            await engine.dispose()  # type: ignore[attr-defined]
    finally:
        await first.stop()
        await second.stop()


@pytest.mark.parametrize(("database", "broadcast"), [("postgresql", "redis"), ("sqlite", "memory")])
async def test_replay_after_a_server_restart_loses_nothing_and_repeats_nothing(
    database: str,
    broadcast: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    postgres_templates: PostgresTemplates,
) -> None:
    if database == "postgresql":
        need("PostgreSQL", POSTGRES_URL, 5432)
        databases = postgres_templates.database()
    else:
        databases = sqlite_templates.database()
    async with databases as database_url:
        server = ServeProcess(
            process_env(database_url, BROADCAST_URL=_broadcast_url(broadcast)), tmp_path
        )
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.http_url) as http:
                world, engine = await _world(database_url, http)
                group = await group_of_two(world)
                dashboard = await GraphQLWebSocket.connect(
                    server.ws_url, group.receiving_staff.token
                )
                alerts = await dashboard.subscribe(ALERTS)
                await alerts.nothing(0.3)
                await send_task(world, group, "Before the restart")
                cursor = (await alerts.next())["unassignedTaskAlerts"]["notification"]["cursor"]

                await server.stop()
                assert await dashboard.wait_closed() is not None or dashboard.closed.is_set()
                await server.start()

                missed = [
                    (await send_task(world, group, f"While away {n}"))["id"] for n in range(3)
                ]
                again = await GraphQLWebSocket.connect(server.ws_url, group.receiving_staff.token)
                resumed = await again.subscribe(ALERTS, {"after": cursor})
                got = [(await resumed.next())["unassignedTaskAlerts"]["task"]["id"] for _ in missed]
                assert got == missed
                await resumed.nothing(0.5)
                await again.close()
                await engine.dispose()  # type: ignore[attr-defined]
        finally:
            await server.stop()
