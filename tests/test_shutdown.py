"""SIGTERM to a real `casetasks serve`: websockets closed with 1001 (Going Away), new connections
refused, in-flight requests finished, and a clean exit within SHUTDOWN_TIMEOUT_SECONDS."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from casetasks.db import create_engine, create_session_factory, unit_of_work
from services import providers
from services.clock import SystemClock
from tests.graphql_client import Api
from tests.live import ServeProcess
from tests.processes import process_env
from tests.ws_client import GraphQLWebSocket

EMAIL = "shutdown.admin@serve.example"
PASSWORD = "a long shutdown password"
TASKS = "{ tasks { totalCount } }"
# Generous for a loaded machine; the test with a request that never ends uses a short bound.
BOUND_SECONDS = 10.0
SLACK_SECONDS = 5.0


@asynccontextmanager
async def serving(
    database_url: str, folder: Path, bound: float = BOUND_SECONDS
) -> AsyncIterator[tuple[ServeProcess, str]]:
    """A provider, then `casetasks serve`; yields the process and its administrator's token."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await providers.create_provider(
                session,
                SystemClock(),
                name="Shutdown Services",
                timezone="Australia/Sydney",
                group_name=None,
                admin_name="Sid Shutdown",
                admin_email=EMAIL,
                admin_password=PASSWORD,
                group_admin=False,
            )
    finally:
        await engine.dispose()
    env = process_env(database_url, SHUTDOWN_TIMEOUT_SECONDS=str(bound), LOG_LEVEL="info")
    server = ServeProcess(env, folder)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            login = await Api(http).mutate(
                "login",
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                {"e": EMAIL, "p": PASSWORD},
            )
        yield server, str(login["token"])
    finally:
        await server.stop()


async def terminated(server: ServeProcess, bound: float) -> int:
    """The exit code after SIGTERM, which must come within the bound."""
    assert server.process is not None
    try:
        return await asyncio.wait_for(server.process.wait(), bound + SLACK_SECONDS)
    except TimeoutError:
        raise AssertionError(
            f"still running {bound + SLACK_SECONDS} s after SIGTERM:\n{server.log.read_text()}"
        ) from None


async def refused(server: ServeProcess) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_sigterm_closes_websockets_with_going_away_and_exits_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    async with serving(database_url, tmp_path) as (server, token):
        dashboards = [await GraphQLWebSocket.connect(server.ws_url, token) for _ in range(2)]
        for dashboard in dashboards:
            await dashboard.subscribe("subscription { notificationAdded { id } }")
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)

        assert [await d.wait_closed(timeout=BOUND_SECONDS) for d in dashboards] == [1001, 1001]
        assert await refused(server)
        assert await terminated(server, BOUND_SECONDS) == 0
    log = server.log.read_text()
    assert "Traceback" not in log, log
    assert "closed 2 websockets with 1001" in log


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def table_locked(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, Waiting]]:
    """The task table locked by the test: the app's queries on it wait inside PostgreSQL."""
    locker = await asyncpg.connect(_plain(database_url))
    monitor = await asyncpg.connect(_plain(database_url))
    try:
        await locker.execute("BEGIN; LOCK TABLE task IN ACCESS EXCLUSIVE MODE")
        yield locker, Waiting(monitor, {locker.get_server_pid(), monitor.get_server_pid()})
    finally:
        await locker.close()
        await monitor.close()


class Waiting:
    def __init__(self, monitor: asyncpg.Connection, own: set[int]) -> None:
        self.monitor = monitor
        self.own = list(own)

    async def until_a_query_waits(self) -> None:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND NOT pid = ANY($1::int[])"
        )
        deadline = time.monotonic() + 30
        while await self.monitor.fetchval(query, self.own) != 1:
            assert time.monotonic() < deadline, "the request never reached the database"
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_sigterm_lets_an_in_flight_request_finish(database_url: str, tmp_path: Path) -> None:
    async with (
        serving(database_url, tmp_path) as (server, token),
        table_locked(database_url) as (locker, waiting),
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        dashboard = await GraphQLWebSocket.connect(server.ws_url, token)
        in_flight = asyncio.create_task(
            http.post(
                "/graphql", json={"query": TASKS}, headers={"Authorization": f"Bearer {token}"}
            )
        )
        await waiting.until_a_query_waits()
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)

        assert await dashboard.wait_closed(timeout=BOUND_SECONDS) == 1001
        assert await refused(server)  # stopped accepting, while the request is still running
        assert not in_flight.done()

        await locker.execute("ROLLBACK")
        response = await in_flight
        assert response.status_code == 200
        assert response.json()["data"] == {"tasks": {"totalCount": 0}}
        assert await terminated(server, BOUND_SECONDS) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_sigterm_exits_within_the_bound_when_a_request_never_finishes(
    database_url: str, tmp_path: Path
) -> None:
    bound = 2.0
    async with (
        serving(database_url, tmp_path, bound=bound) as (server, token),
        table_locked(database_url) as (_locker, waiting),
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        in_flight = asyncio.create_task(
            http.post(
                "/graphql", json={"query": TASKS}, headers={"Authorization": f"Bearer {token}"}
            )
        )
        await waiting.until_a_query_waits()
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert await terminated(server, bound) == 0
        response = await in_flight
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
    log = server.log.read_text()
    assert "Traceback" not in log, log
    assert "request cancelled: the server is shutting down" in log
