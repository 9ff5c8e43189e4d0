"""`casetasks serve --workers N` as a real process: N workers behind one port, events crossing
between them through the shared broadcast backend, and the refusals.

Which worker holds a connection is read from outside, as an operator would: the server side of
the TCP connection in /proc/net/tcp, and which worker process has that socket open (Linux)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from casetasks.db import create_engine, create_session_factory
from services.clock import SystemClock
from tests.databases import PostgresTemplates
from tests.factories import World
from tests.graphql_client import Api
from tests.group_setup import SEND_TASK, Group, group_of_two, send_task
from tests.live import ServeProcess
from tests.processes import process_env, run_cli
from tests.services import POSTGRES_URL, REDIS_URL, need
from tests.test_subscriptions import ALERTS
from tests.ws_client import GraphQLWebSocket, Operation

MOST_CONNECTIONS = 40  # to find both workers; the kernel hands connections to either
NOTIFICATIONS = "{ notifications(first: 50) { edges { node { cursor task { id } } } } }"

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc")


@pytest.fixture
async def postgres_url(postgres_templates: PostgresTemplates) -> AsyncIterator[str]:
    need("PostgreSQL", POSTGRES_URL, 5432)
    async with postgres_templates.database() as url:
        yield url


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def server_side_socket(server_port: int, client_port: int) -> str:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return f"socket:[{fields[9]}]"
    raise AssertionError(f"no connection from port {client_port} to {server_port}")


def worker_of(server: ServeProcess, client: GraphQLWebSocket) -> int:
    assert server.process is not None
    target = server_side_socket(server.port, client.connection.local_address[1])
    for pid in children(server.process.pid):
        with os.scandir(f"/proc/{pid}/fd") as descriptors:
            for descriptor in descriptors:
                try:
                    if os.readlink(descriptor.path) == target:
                        return pid
                except OSError:
                    continue
    raise AssertionError(f"no worker of {server.process.pid} holds {target}")


async def cursor_of_alert(world: World, group: Group, task_id: str) -> str:
    body = await world.api.data(NOTIFICATIONS, token=group.receiving_staff.token)
    for edge in body["notifications"]["edges"]:
        if edge["node"]["task"] and edge["node"]["task"]["id"] == task_id:
            return str(edge["node"]["cursor"])
    raise AssertionError(f"no notification about {task_id}: {body}")


async def alerted(dashboards: list[tuple[int, Operation]]) -> set[str]:
    return {
        (await alerts.next(timeout=5.0))["unassignedTaskAlerts"]["task"]["id"]
        for _pid, alerts in dashboards
    }


async def test_two_workers_answer_and_an_event_crosses_from_one_to_the_other(
    postgres_url: str, tmp_path: Path
) -> None:
    need("Redis", REDIS_URL, 6379)
    server = ServeProcess(
        process_env(postgres_url, BROADCAST_URL=REDIS_URL), tmp_path, None, "--workers", "2"
    )
    await server.start()
    sockets: list[GraphQLWebSocket] = []
    workers: set[int] = set()  # the processes seen holding connections
    engine = create_engine(postgres_url)
    try:
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            world = World(Api(http), create_session_factory(engine), SystemClock())
            group = await group_of_two(world)  # queries and mutations answered over HTTP
            first = await send_task(world, group, "Before the dashboards")
            after = await cursor_of_alert(world, group, first["id"])

            writer = await GraphQLWebSocket.connect(server.ws_url, group.caseworker.token)
            sockets.append(writer)
            writer_pid = worker_of(server, writer)
            workers.add(writer_pid)
            dashboards: list[tuple[int, Operation]] = []
            while not any(pid != writer_pid for pid, _ in dashboards):
                assert len(dashboards) < MOST_CONNECTIONS, "every connection went to one worker"
                dashboard = await GraphQLWebSocket.connect(
                    server.ws_url, group.receiving_staff.token
                )
                sockets.append(dashboard)
                alerts = await dashboard.subscribe(ALERTS, {"after": after})
                dashboards.append((worker_of(server, dashboard), alerts))
            workers |= {pid for pid, _ in dashboards}
            assert len(workers) == 2

            # Every dashboard has caught up (so each is now waiting on its worker's hub)...
            second = await send_task(world, group, "While the dashboards catch up")
            assert await alerted(dashboards) == {second["id"]}

            # ...and a task created through the writer's worker reaches the dashboards on the
            # other worker only through the broadcast backend.
            variables: dict[str, Any] = {
                "input": {
                    "name": "Through one worker",
                    "dueDate": "2027-03-10",
                    "serviceProviderId": group.receiver.id,
                }
            }
            created = await (await writer.subscribe(SEND_TASK, variables)).next()
            third = created["createTask"]["task"]
            elsewhere = [(pid, alerts) for pid, alerts in dashboards if pid != writer_pid]
            assert elsewhere
            assert await alerted(dashboards) == {third["id"]}
    finally:
        for socket in sockets:
            await socket.close()
        await engine.dispose()
        await server.stop()
    assert server.process is not None and server.process.returncode == 0
    assert not any(alive(pid) for pid in workers), "a worker outlived serve"


@pytest.mark.parametrize(
    ("database", "broadcast", "words"),
    [
        ("sqlite+aiosqlite:///./never.db", "memory://", ["BROADCAST_URL", "memory://"]),
        ("sqlite+aiosqlite:///:memory:", REDIS_URL, ["in-memory SQLite"]),
    ],
    ids=["memory-broadcast", "memory-database"],
)
async def test_workers_without_what_they_share_are_refused_in_one_line(
    tmp_path: Path, database: str, broadcast: str, words: list[str]
) -> None:
    finished = await run_cli(
        "serve",
        "--workers",
        "2",
        env=process_env(database, BROADCAST_URL=broadcast),
        cwd=tmp_path,
    )
    assert finished.returncode == 2, finished
    assert len(finished.stderr_lines) == 1, finished.stderr
    line = finished.stderr_lines[0]
    assert line.startswith("casetasks: --workers 2 needs"), line
    for word in words:
        assert word in line, line
    assert not (tmp_path / "never.db").exists()
