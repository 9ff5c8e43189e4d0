"""Planned statements that one generic plan serves as well as a custom one (one person's or one
client's tasks by due date, rows by id) run on PostgreSQL's second pool, whose sessions plan a
prepared statement once; every other statement runs on the main pool, planned per execution
(casetasks/db.py generic_plan_engine, resolvers.planner.Plan.custom_plans)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from casetasks.app import create_app
from casetasks.db import DatabaseLimits, create_engine, generic_plan_engine
from tests.conftest import Env, settings_for_tests

TASKS = """
query($filter: TaskFilter, $orderBy: TaskOrder) {
  tasks(filter: $filter, orderBy: $orderBy, first: 3) {
    totalCount edges { cursor node { id name dueDate responsible { name } client { name } } }
  }
}
"""
CLIENTS = "{ clients(first: 3) { totalCount edges { node { name } } } }"
POSTPONE = (
    "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
    " task { id dueDate history { kind } } errors { message } } }"
)


@dataclass
class Checkouts:
    main: int = 0
    generic: int = 0


@contextmanager
def checkouts(env: Env) -> Iterator[Checkouts]:
    """Connections taken from each pool while the block runs."""
    generic = env.app.state.services.generic_read_engine
    assert generic is not None
    seen = Checkouts()

    def on_main(*_args: Any) -> None:
        seen.main += 1

    def on_generic(*_args: Any) -> None:
        seen.generic += 1

    pools = ((env.engine.sync_engine.pool, on_main), (generic.sync_engine.pool, on_generic))
    for pool, listener in pools:
        event.listen(pool, "checkout", listener)
    try:
        yield seen
    finally:
        for pool, listener in pools:
            event.remove(pool, "checkout", listener)


async def _caseload(env: Env) -> tuple[str, str, str, str]:
    """A staff member's token, their id, a client's id and one of their tasks' id."""
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    client = await env.world.client(provider, caseworker=ana)
    task_id = ""
    for n in range(4):
        task = await env.world.task(
            ana, name=f"Call {n}", dueDate=f"2027-03-1{n}", responsibleIds=[ana.id], clientId=client
        )
        task_id = task["id"]
    return ana.token, ana.id, client, task_id


async def _answers(
    env: Env, query: str, variables: dict[str, Any], token: str
) -> tuple[Any, Checkouts]:
    """The planned answer, which must equal the field-by-field one, and the pools it used."""
    services = env.app.state.services
    services.planner = "off"
    expected = await env.api.post(query, variables, token)
    services.planner = "on"
    with checkouts(env) as seen:
        planned = await env.api.post(query, variables, token)
    assert planned.get("errors") is None
    assert planned["data"] == expected["data"]
    return planned, seen


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_persons_or_a_clients_tasks_by_due_date_run_on_the_generic_pool(
    env: Env,
) -> None:
    token, staff_id, client_id, _task_id = await _caseload(env)
    await env.api.data("{ __typename }", None, token)  # the token's viewer remembered
    window = {"dueFrom": "2027-03-01", "dueTo": "2027-03-31"}
    for task_filter, order in (
        ({"responsibleId": staff_id, **window}, "DUE_DATE_ASC"),
        ({"responsibleId": staff_id}, "DUE_DATE_DESC"),
        ({"clientId": client_id, "includeCompleted": True}, "DUE_DATE_ASC"),
    ):
        variables = {"filter": task_filter, "orderBy": order}
        answer, seen = await _answers(env, TASKS, variables, token)
        assert answer["data"]["tasks"]["totalCount"] == 4, answer
        assert (seen.main, seen.generic) == (0, 1), (task_filter, order, seen)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_broad_lists_searches_and_other_orders_stay_on_custom_plans(env: Env) -> None:
    token, staff_id, _client_id, _task_id = await _caseload(env)
    await env.api.data("{ __typename }", None, token)
    for query, variables in (
        (TASKS, {}),  # the provider's open tasks
        (TASKS, {"filter": {"responsibleId": staff_id}, "orderBy": "CREATED_AT_DESC"}),
        (TASKS, {"filter": {"responsibleId": staff_id, "search": "call"}}),
        (TASKS, {"filter": {"responsibleId": staff_id, "unassigned": False}}),
        (CLIENTS, {}),
    ):
        _answer, seen = await _answers(env, query, variables, token)
        assert (seen.main, seen.generic) == (1, 0), (variables, seen)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_mutations_payload_is_read_on_the_generic_pool(env: Env) -> None:
    token, _staff_id, _client_id, task_id = await _caseload(env)
    await env.api.data("{ __typename }", None, token)
    env.app.state.services.planner = "on"
    with checkouts(env) as seen:
        payload = await env.api.mutate(
            "postponeTask", POSTPONE, {"input": {"id": task_id, "by": "ONE_WEEK"}}, token
        )
    assert payload["errors"] == []
    assert [event["kind"] for event in payload["task"]["history"]] == ["CREATED", "POSTPONED"]
    # The change on the main pool; its payload, read after the commit, on the generic one.
    assert seen.generic == 1, seen


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_generic_pools_sessions_plan_statements_once(env: Env) -> None:
    generic = env.app.state.services.generic_read_engine
    assert generic is not None
    async with generic.connect() as connection:
        mode = (await connection.execute(text("SHOW plan_cache_mode"))).scalar()
    async with env.engine.connect() as connection:
        main_mode = (await connection.execute(text("SHOW plan_cache_mode"))).scalar()
    assert (mode, main_mode) == ("force_generic_plan", "force_custom_plan")


async def test_no_second_pool_where_nothing_is_gained(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        if engine.dialect.name == "sqlite":
            assert generic_plan_engine(engine, database_url, DatabaseLimits(), 10) is None
            return
        for limits, size in (
            (DatabaseLimits(plan_cache_mode=None), 10),  # the server's own mode
            (DatabaseLimits(plan_cache_mode="force_generic_plan"), 10),  # generic already
            (DatabaseLimits(), 0),  # turned off
        ):
            assert generic_plan_engine(engine, database_url, limits, size) is None
        generic = generic_plan_engine(engine, database_url, DatabaseLimits(), 4)
        assert isinstance(generic, AsyncEngine)
        assert (generic.sync_engine.pool.size(), generic.sync_engine.pool._max_overflow) == (4, 2)  # type: ignore[attr-defined]
        await generic.dispose()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_turned_off_every_planned_read_runs_on_the_main_pool(
    database_url: str, broadcast: str
) -> None:
    settings = settings_for_tests(database_url, broadcast, database_generic_plan_pool_size=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert app.state.services.generic_read_engine is None
