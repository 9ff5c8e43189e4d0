"""Faults of the database: PostgreSQL going away and coming back (through a proxy this test
cuts, so the shared server is left alone), an exhausted pool, and a commit that fails. Requests
fail fast and masked, /readyz answers 503, open websockets stay up, the service recovers without
a restart, and a change that rolled back publishes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from casetasks.db import unit_of_work
from casetasks.settings import Settings
from schema.ids import key_of, to_global_id
from services.clock import FixedClock
from subscriptions.hub import EventHub, NotificationAdded
from tests.conftest import START, Live
from tests.databases import PostgresTemplates
from tests.factories import Person, World
from tests.faults import insert_notifications, received_ids, served, stored_notification_ids, until
from tests.group_setup import SEND_TASK, Group, group_of_two, send_task
from tests.services import POSTGRES_URL, REDIS_URL, need
from tests.tcp_proxy import proxy_to
from tests.test_subscriptions import ALERTS
from tests.ws_client import GraphQLWebSocket

ALERT = "unassignedTaskAlerts"
ME = "query { me { __typename } }"
HUB = {
    "broadcast_heartbeat_interval_seconds": 0.2,
    "broadcast_heartbeat_timeout_seconds": 2.0,
    "broadcast_reconnect_delay_seconds": 0.05,
    "broadcast_reconnect_max_delay_seconds": 0.5,
}
POOL = {
    "database_pool_size": 3,
    "database_max_overflow": 0,
    "database_pool_timeout_seconds": 2.0,
    # PostgreSQL's second pool (casetasks/db.py generic_plan_engine): 2, and 1 more under load.
    "database_generic_plan_pool_size": 2,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={**HUB, **POOL})


@pytest.fixture
async def postgres_url(postgres_templates: PostgresTemplates) -> AsyncIterator[str]:
    need("PostgreSQL", POSTGRES_URL, 5432)
    async with postgres_templates.database() as url:
        yield url


def _settings(database_url: str, broadcast_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url=broadcast_url,
        secret_key="test-secret-key-not-for-production",
        casetasks_env="test",
        materialize_interval_seconds=3600,
        database_connect_timeout_seconds=2.0,
        database_command_timeout_seconds=2.0,
        **HUB,  # type: ignore[arg-type]
        **POOL,  # type: ignore[arg-type]
    )


async def _post(http_url: str, query: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{http_url}/graphql", json={"query": query}, headers=headers)


def _is_masked_unavailable(response: httpx.Response) -> bool:
    body = response.json()
    return (
        response.status_code == 503
        and response.headers.get("retry-after") is not None
        and [(e["message"], e["extensions"]["code"]) for e in body["errors"]]
        == [("Service unavailable", "INTERNAL")]
        and all(e["extensions"]["requestId"] for e in body["errors"])
    )


async def _ready(http_url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{http_url}/readyz")


async def _dashboard(ws_url: str, world: World, group: Group) -> tuple[Any, Any, list[str]]:
    dashboard = await GraphQLWebSocket.connect(ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)
    await send_task(world, group, "Before")
    return dashboard, alerts, await received_ids(alerts, ALERT, 1)


@pytest.mark.parametrize("broker", ["redis", "postgres"])
async def test_postgresql_going_away_fails_fast_keeps_websockets_and_recovers(
    broker: str, postgres_url: str
) -> None:
    async with proxy_to(postgres_url, 5432) as proxy:
        if broker == "redis":
            need("Redis", REDIS_URL, 6379)
            broadcast_url = REDIS_URL
        else:  # LISTEN/NOTIFY goes away with the database
            broadcast_url = proxy.url_for(postgres_url).replace(
                "postgresql+asyncpg://", "postgres://"
            )
        settings = _settings(proxy.url_for(postgres_url), broadcast_url)
        async with served(settings, FixedClock(START), postgres_url) as app:
            world = app.world
            group = await group_of_two(world)
            dashboard, alerts, first = await _dashboard(app.ws_url, world, group)

            proxy.cut(refuse=True)
            ready = await _ready(app.http_url)
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": "unreachable"}
            assert _is_masked_unavailable(await _post(app.http_url, ME, group.caseworker.token))
            anonymous = await _post(
                app.http_url, 'mutation { login(email: "a@b.example", password: "x") { token } }'
            )
            assert anonymous.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
            assert "asyncpg" not in anonymous.text and "Traceback" not in anonymous.text
            await alerts.nothing(0.3)
            assert not dashboard.closed.is_set()

            proxy.restore()
            # The pool's connections died with the server: the first request after recovery
            # gets a new one (no pre-ping, and no failed request).
            after = await _post(app.http_url, ME, group.caseworker.token)
            assert after.status_code == 200, after.text
            assert after.json()["data"] == {"me": {"__typename": "Staff"}}
            assert (await _ready(app.http_url)).status_code == 200
            await send_task(world, group, "After")
            stored = await stored_notification_ids(world, group.receiving_staff)
            assert first + await received_ids(alerts, ALERT, 1) == stored
            assert not dashboard.closed.is_set()
            await dashboard.close()


async def test_a_stream_whose_catch_up_read_fails_retries_until_the_database_is_back(
    postgres_url: str,
) -> None:
    need("Redis", REDIS_URL, 6379)
    async with proxy_to(postgres_url, 5432) as proxy:
        settings = _settings(proxy.url_for(postgres_url), REDIS_URL)
        async with served(settings, FixedClock(START), postgres_url) as app:
            provider = await app.world.provider()
            member = await app.world.staff(provider)
            staff_id = key_of(member.id, "Staff")
            dashboard = await GraphQLWebSocket.connect(app.ws_url, member.token)
            added = await dashboard.subscribe("subscription { notificationAdded { id } }")
            await added.nothing(0.2)

            proxy.cut(refuse=True)
            stored = await insert_notifications(app.world, staff_id, 2, 10)  # directly
            await app.hub.publish([NotificationAdded(staff_id, stored[-1])])
            await added.nothing(0.5)  # its read fails, and is retried
            assert not dashboard.closed.is_set()

            proxy.restore()
            received = [(await added.next(timeout=10))["notificationAdded"]["id"] for _ in stored]
            assert received == [to_global_id("Notification", i) for i in stored]
            await added.nothing(0.3)
            await dashboard.close()


async def test_an_exhausted_pool_answers_503_at_once_and_recovers(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    dashboard, alerts, first = await _dashboard(live.ws_url, world, group)
    engine = live.env.engine

    held = [await engine.connect() for _ in range(POOL["database_pool_size"])]
    generic = live.env.app.state.services.generic_read_engine
    if generic is not None:  # every pool exhausted
        size = POOL["database_generic_plan_pool_size"]
        held += [await generic.connect() for _ in range(size + size // 2)]
    try:
        assert engine.pool.checkedout() == POOL["database_pool_size"]  # type: ignore[attr-defined]
        assert _is_masked_unavailable(await _post(live.http_url, ME, group.caseworker.token))
        assert (await _ready(live.http_url)).status_code == 503
        assert not dashboard.closed.is_set()
    finally:
        for connection in held:
            await connection.close()

    assert (await _post(live.http_url, ME, group.caseworker.token)).status_code == 200
    await send_task(world, group, "After")
    stored = await stored_notification_ids(world, group.receiving_staff)
    assert first + await received_ids(alerts, ALERT, 1) == stored
    await dashboard.close()


REFUSE_AT_COMMIT = {
    "sqlite": [
        "CREATE TABLE refused_at_commit"
        " (staff_id INTEGER REFERENCES staff(id) DEFERRABLE INITIALLY DEFERRED)",
        "CREATE TRIGGER refuse_at_commit AFTER INSERT ON notification"
        " BEGIN INSERT INTO refused_at_commit VALUES (-1); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
        "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON notification"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()",
    ],
}
DIE_AT_COMMIT = [
    "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$",
    REFUSE_AT_COMMIT["postgresql"][1],
]
ALLOW = {
    "sqlite": "DROP TRIGGER refuse_at_commit",
    "postgresql": "DROP TRIGGER refuse_at_commit ON notification",
}


async def _execute(world: World, statements: list[str]) -> None:
    async with unit_of_work(world.session_factory) as session:
        for statement in statements:
            await session.execute(text(statement))


async def _rolled_back_send_publishes_nothing(
    world: World, hub: EventHub, group: Group, alerts: Any, first: list[str], dialect: str
) -> None:
    published = hub.published
    response = await world.api.post(
        SEND_TASK,
        {
            "input": {
                "name": "Rolled back",
                "dueDate": "2027-03-10",
                "serviceProviderId": group.receiver.id,
            }
        },
        group.caseworker.token,
    )
    assert response["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert hub.published == published
    await alerts.nothing(0.5)
    assert await stored_notification_ids(world, group.receiving_staff) == first
    assert not await _task_named(world, group.receiving_staff, "Rolled back")

    await _execute(world, [ALLOW[dialect]])
    await send_task(world, group, "After")
    stored = await stored_notification_ids(world, group.receiving_staff)
    assert first + await received_ids(alerts, ALERT, 1) == stored
    assert hub.published == published + 1


async def _task_named(world: World, person: Person, name: str) -> bool:
    query = "query($s: String) { tasks(first: 5, filter: { search: $s }) { totalCount } }"
    data = await world.api.data(query, {"s": name}, person.token)
    return bool(data["tasks"]["totalCount"])


async def test_a_mutation_whose_commit_fails_publishes_nothing(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    dashboard, alerts, first = await _dashboard(live.ws_url, world, group)
    await _execute(world, REFUSE_AT_COMMIT[live.env.dialect])
    await _rolled_back_send_publishes_nothing(
        world, live.env.app.state.hub, group, alerts, first, live.env.dialect
    )
    await dashboard.close()


async def test_a_mutation_whose_backend_dies_at_commit_publishes_nothing(
    postgres_url: str,
) -> None:
    need("Redis", REDIS_URL, 6379)
    async with served(_settings(postgres_url, REDIS_URL), FixedClock(START), postgres_url) as app:
        group = await group_of_two(app.world)
        dashboard, alerts, first = await _dashboard(app.ws_url, app.world, group)
        await _execute(app.world, DIE_AT_COMMIT)
        await _rolled_back_send_publishes_nothing(
            app.world, app.hub, group, alerts, first, "postgresql"
        )
        await until(lambda: not dashboard.closed.is_set())
        await dashboard.close()
