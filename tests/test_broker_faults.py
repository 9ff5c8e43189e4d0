"""Faults of the broker: a broadcast connection killed (Redis CLIENT KILL of the hub's own
connection, pg_terminate_backend of its LISTEN backend), one that dies without a word (found
by the heartbeat), a broker that is down while mutations commit, a dashboard that cannot keep
up, and a server process restarted. Each time the dashboard gets exactly the stored
notifications, in order: no gap, no duplicate."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from casetasks.db import create_engine, create_session_factory
from casetasks.settings import Settings
from schema.ids import key_of, to_global_id
from services.clock import FixedClock, SystemClock
from subscriptions.backends import MemoryBackend
from subscriptions.hub import EventHub, NotificationAdded
from tests.conftest import START, Live
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import World
from tests.faults import (
    insert_notifications,
    kill_broadcast_connection,
    received_ids,
    served,
    stored_notification_ids,
    until,
)
from tests.graphql_client import Api
from tests.group_setup import group_of_two, send_task
from tests.live import ServeProcess
from tests.processes import process_env
from tests.services import POSTGRES_URL, REDIS_URL, need
from tests.tcp_proxy import TcpProxy, proxy_to
from tests.test_subscriptions import ALERTS
from tests.ws_client import GraphQLWebSocket

FAST = {
    "broadcast_heartbeat_interval_seconds": 0.2,
    "broadcast_heartbeat_timeout_seconds": 2.0,
    "broadcast_reconnect_delay_seconds": 0.05,
    "broadcast_reconnect_max_delay_seconds": 0.5,
    "subscription_queue_size": 5,
}
ALERT = "unassignedTaskAlerts"


def _port(url: str) -> int:
    return 6379 if url.startswith("redis") else 5432


@pytest.fixture
async def broker_proxy(broadcast: str) -> AsyncIterator[TcpProxy | None]:
    """Redis or PostgreSQL LISTEN/NOTIFY through a proxy this test may freeze."""
    if broadcast.startswith("memory"):
        yield None
        return
    async with proxy_to(broadcast, _port(broadcast)) as proxy:
        yield proxy


@pytest.fixture
def settings(settings: Settings, broker_proxy: TcpProxy | None) -> Settings:
    update: dict[str, object] = dict(FAST)
    if broker_proxy is not None:
        update["broadcast_url"] = broker_proxy.url_for(settings.broadcast_url)
    return settings.model_copy(update=update)


async def test_a_killed_broadcast_connection_loses_nothing_and_doubles_nothing(
    live: Live,
) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    group = await group_of_two(world)
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)
    await send_task(world, group, "Before")
    first = await received_ids(alerts, ALERT, 1)

    await kill_broadcast_connection(hub, live.env.database_url)
    for n in range(3):  # their events may go out while no one listens
        await send_task(world, group, f"During {n}")
    await until(lambda: hub.reconnects >= 1)
    await send_task(world, group, "After")

    stored = await stored_notification_ids(world, group.receiving_staff)
    assert len(stored) == 5
    assert first + await received_ids(alerts, ALERT, 4) == stored
    assert not dashboard.closed.is_set()
    await dashboard.close()


async def test_a_connection_that_dies_without_a_word_is_found_by_the_heartbeat(
    live: Live, broker_proxy: TcpProxy | None
) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    group = await group_of_two(world)
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)
    await send_task(world, group, "Before")
    first = await received_ids(alerts, ALERT, 1)

    if broker_proxy is None:
        assert isinstance(hub.backend, MemoryBackend)
        hub.backend.go_deaf()
    else:
        broker_proxy.freeze()  # the connections stay open and carry nothing: no error anywhere
    for n in range(2):
        await send_task(world, group, f"Unheard {n}")
    await until(lambda: hub.reconnects >= 1)
    await send_task(world, group, "After")

    stored = await stored_notification_ids(world, group.receiving_staff)
    assert len(stored) == 4
    assert first + await received_ids(alerts, ALERT, 3) == stored
    await dashboard.close()


async def _announce(hub: EventHub, event: NotificationAdded) -> None:
    """As a committed mutation does: a publish that fails still reaches local listeners."""
    with contextlib.suppress(ConnectionError, TimeoutError):
        await hub.publish([event])


ADDED_IDS = "subscription { notificationAdded { id message } }"


async def test_a_dashboard_that_cannot_keep_up_stays_bounded_then_catches_up(
    live: Live,
) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    provider = await world.provider()
    member = await world.staff(provider)
    staff_id = key_of(member.id, "Staff")
    # Uncompressed, so the bytes below are what fills the socket buffers.
    dashboard = await GraphQLWebSocket.connect(live.ws_url, member.token, compression=None)
    # A fixed receive buffer (Linux would grow it to tens of MB), larger than one loopback
    # segment so the window reopens at once when the browser reads again.
    dashboard.connection.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, 262_144
    )
    added = await dashboard.subscribe(ADDED_IDS)
    await added.nothing(0.2)

    dashboard.connection.transport.pause_reading()  # the browser stops reading
    stored = await insert_notifications(world, staff_id, 400, 16_384)  # ~6.5 MB to send
    await _announce(hub, NotificationAdded(staff_id, stored[-1]))
    deadline = time.monotonic() + 20
    while hub.collapsed == 0:  # more events while its sends are blocked, until they collapse
        assert time.monotonic() < deadline, (
            "the inbox never filled: the sends never blocked",
            hub.reconnects,
            hub.largest_inbox,
            added.messages.qsize(),
            len(stored),
        )
        (new,) = await insert_notifications(world, staff_id, 1, 10)
        stored.append(new)
        await _announce(hub, NotificationAdded(staff_id, new))
        assert hub.largest_inbox <= hub.options.queue_size
    assert hub.largest_inbox <= hub.options.queue_size

    dashboard.connection.transport.resume_reading()
    received = [(await added.next(timeout=10))["notificationAdded"]["id"] for _ in stored]
    assert received == [to_global_id("Notification", i) for i in stored]
    await added.nothing(0.3)
    await dashboard.close()


@pytest.fixture
async def postgres_url(postgres_templates: PostgresTemplates) -> AsyncIterator[str]:
    need("PostgreSQL", POSTGRES_URL, 5432)
    async with postgres_templates.database() as url:
        yield url


def _broker_url(kind: str, database_url: str) -> str:
    if kind == "redis":
        need("Redis", REDIS_URL, 6379)
        return REDIS_URL
    if kind == "postgres":
        return database_url.replace("postgresql+asyncpg://", "postgres://")
    return "memory://"


def _settings(database_url: str, broadcast_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url=broadcast_url,
        secret_key="test-secret-key-not-for-production",
        casetasks_env="test",
        materialize_interval_seconds=3600,
        **FAST,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_a_broker_down_fails_no_mutation_and_every_instance_catches_up(
    kind: str, postgres_url: str
) -> None:
    """Instance A's broker is down while its mutations commit; a dashboard on instance B (whose
    own connection is fine) hears of them once A's broker answers again."""
    broker = _broker_url(kind, postgres_url)
    clock = FixedClock(START)
    async with (
        proxy_to(broker, _port(broker)) as proxy,
        served(_settings(postgres_url, proxy.url_for(broker)), clock, postgres_url) as a,
        served(_settings(postgres_url, broker), clock, postgres_url) as b,
    ):
        group = await group_of_two(a.world)
        dashboard = await GraphQLWebSocket.connect(b.ws_url, group.receiving_staff.token)
        alerts = await dashboard.subscribe(ALERTS)
        await alerts.nothing(0.2)
        await send_task(a.world, group, "Before")
        first = await received_ids(alerts, ALERT, 1)
        published = a.hub.published

        proxy.cut(refuse=True)
        for n in range(2):  # each mutation succeeds (send_task checks), its event goes nowhere
            await send_task(a.world, group, f"While the broker is down {n}")
        assert a.hub.published == published
        await alerts.nothing(0.3)
        proxy.restore()
        await until(lambda: a.hub.reconnects >= 1)

        stored = await stored_notification_ids(a.world, group.receiving_staff)
        assert len(stored) == 3
        assert first + await received_ids(alerts, ALERT, 2) == stored
        await send_task(a.world, group, "After")
        assert (
            await received_ids(alerts, ALERT, 1)
            == (await stored_notification_ids(a.world, group.receiving_staff))[3:]
        )
        await dashboard.close()


@pytest.mark.parametrize(
    ("database", "broker"),
    [("sqlite", "memory"), ("postgresql", "redis"), ("postgresql", "postgres")],
)
async def test_a_restarted_server_loses_nothing_for_a_dashboard_resuming_with_after(
    database: str,
    broker: str,
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
        env = process_env(database_url, BROADCAST_URL=_broker_url(broker, database_url))
        restarted, other = ServeProcess(env, tmp_path), ServeProcess(env, tmp_path)
        await restarted.start()
        await other.start()
        engine = create_engine(database_url)
        try:
            async with (
                httpx.AsyncClient(base_url=restarted.http_url) as http,
                httpx.AsyncClient(base_url=other.http_url) as other_http,
            ):
                world = World(Api(http), create_session_factory(engine), SystemClock())
                through_other = World(Api(other_http), world.session_factory, world.clock)
                group = await group_of_two(world)
                dashboard = await GraphQLWebSocket.connect(
                    restarted.ws_url, group.receiving_staff.token
                )
                alerts = await dashboard.subscribe(ALERTS)
                await alerts.nothing(0.3)
                await send_task(world, group, "Before the restart")
                seen = (await alerts.next())[ALERT]["notification"]
                await restarted.stop()
                await dashboard.wait_closed()

                for n in range(3):
                    await send_task(through_other, group, f"While it restarts {n}")
                await restarted.start()
                again = await GraphQLWebSocket.connect(
                    restarted.ws_url, group.receiving_staff.token
                )
                resumed = await again.subscribe(ALERTS, {"after": seen["cursor"]})
                replayed = await received_ids(resumed, ALERT, 3)
                await send_task(world, group, "After the restart")
                live_one = await received_ids(resumed, ALERT, 1)

                stored = await stored_notification_ids(world, group.receiving_staff)
                assert [seen["id"], *replayed, *live_one] == stored
                await again.close()
        finally:
            await engine.dispose()
            await restarted.stop()
            await other.stop()
