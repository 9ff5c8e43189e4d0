"""A planned request's database work: one connection and one statement, which also confirms
who the token names (the viewer the process last saw for it, planned for provisionally).

The planner is "on" here, as in production (the rest of the suite runs in check mode, which
also answers field by field).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from schema.planned import OUTCOMES
from services.auth import RecentViewers
from tests.conftest import Env
from tests.test_staff import ME, TASKS, codes, update_staff

PAGE = """
query Page($filter: TaskFilter, $first: Int) {
  tasks(filter: $filter, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name dueDate status overdue
      client { name caseworker { name provider { name } } }
      responsible { id name }
      history { kind summary by { ... on Staff { name } } }
    } }
  }
  me { ... on Staff { name } }
  notifications(first: 5) { unreadCount edges { node { message task { name } } } }
}
"""


@contextmanager
def database_work(env: Env) -> Iterator[dict[str, Any]]:
    """Counts the pool checkouts and statements of the app's engine while the block runs."""
    seen: dict[str, Any] = {"checkouts": 0, "statements": [], "contexts": []}
    sync_engine = env.engine.sync_engine

    def checkout(*_args: Any) -> None:
        seen["checkouts"] += 1

    def statement(_conn: Any, _cursor: Any, text: str, *args: Any) -> None:
        if text != "BEGIN":  # SQLite's BEGIN is the embedded database's own, not a round trip
            seen["statements"].append(text)
            seen["contexts"].append(args[1])  # SQLAlchemy's execution context, if it ran it

    event.listen(sync_engine, "checkout", checkout)
    event.listen(sync_engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "checkout", checkout)
        event.remove(sync_engine, "before_cursor_execute", statement)


async def test_the_tasks_page_is_one_statement_on_one_connection(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    client = await env.world.client(provider, "Zoë Adams")
    for day in range(1, 8):
        await env.world.task(
            ana,
            name=f"Task {day}",
            dueDate=f"2027-03-0{day}",
            responsibleIds=[ana.id, ben.id],
            clientId=client,
        )
    env.app.state.services.planner = "on"
    planned = OUTCOMES["planned"]

    with database_work(env) as seen:
        data = await env.api.data(PAGE, {"first": 5}, ana.token)

    assert OUTCOMES["planned"] == planned + 1
    assert data["tasks"]["totalCount"] == 7
    assert len(data["tasks"]["edges"]) == 5
    assert data["tasks"]["edges"][0]["node"]["responsible"][1]["name"] == "Ben Okafor"
    assert data["me"] == {"name": "Ana Silva"}
    # Ana's token was seen by the requests that made the tasks: the one planned statement
    # reads the page and confirms her token, on the request's one connection.
    assert seen["checkouts"] == 1
    assert len(seen["statements"]) == 1, seen["statements"]
    assert "ct_viewer" in seen["statements"][0]


async def test_reads_on_postgresql_go_through_asyncpg_unless_sql_is_traced(env: Env) -> None:
    provider = await env.world.provider()
    services = env.app.state.services
    services.planner = "on"
    await env.api.data(PAGE, {"first": 5}, provider.admin.token)

    with database_work(env) as direct:
        await env.api.data(PAGE, {"first": 5}, provider.admin.token)
    services.sql_traced = True
    try:
        with database_work(env) as traced:
            await env.api.data(PAGE, {"first": 5}, provider.admin.token)
    finally:
        services.sql_traced = False

    assert direct["statements"] == traced["statements"]  # listeners see the same statement
    assert all(context is not None for context in traced["contexts"])
    on_postgresql = env.engine.dialect.name == "postgresql"
    assert all((context is None) == on_postgresql for context in direct["contexts"])


async def test_a_token_this_process_has_not_seen_is_looked_up_first(env: Env) -> None:
    provider = await env.world.provider()
    env.app.state.services.planner = "on"
    env.app.state.services.recent_viewers = RecentViewers()

    with database_work(env) as first:
        await env.api.data(PAGE, {"first": 5}, provider.admin.token)
    with database_work(env) as second:
        await env.api.data(PAGE, {"first": 5}, provider.admin.token)

    assert first["checkouts"] == 1 and second["checkouts"] == 1
    assert len(first["statements"]) == 2, first["statements"]
    assert "ct_viewer" not in first["statements"][1]
    assert len(second["statements"]) == 1 and "ct_viewer" in second["statements"][0]


async def test_a_remembered_token_deactivated_since_gets_no_planned_answer(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Kim")
    await env.world.task(member, name="Kim's task", dueDate="2027-03-01")
    env.app.state.services.planner = "on"
    await env.api.data(TASKS, token=member.token)  # remembered as Kim
    changed = OUTCOMES["viewer changed"]

    await update_staff(env, provider.admin.token, id=member.id, active=False)

    body = await env.api.post(TASKS, token=member.token)
    assert codes(body) == ["UNAUTHENTICATED"] and body["data"] is None
    assert OUTCOMES["viewer changed"] == changed + 1
    assert await env.api.data(ME, token=member.token) == {"me": None}


async def test_a_remembered_token_is_answered_with_the_permissions_it_has_now(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Lee")
    env.app.state.services.planner = "on"
    assert await env.api.data(TASKS, token=member.token) == {"tasks": {"totalCount": 0}}

    await update_staff(env, provider.admin.token, id=member.id, permissions=[])
    assert codes(await env.api.post(TASKS, token=member.token)) == ["FORBIDDEN"]

    await update_staff(env, provider.admin.token, id=member.id, permissions=["TASKS"])
    assert await env.api.data(TASKS, token=member.token) == {"tasks": {"totalCount": 0}}


async def test_a_remembered_token_logged_out_since_is_signed_out(env: Env) -> None:
    provider = await env.world.provider()
    token = await env.world.login(provider.admin.email)
    env.app.state.services.planner = "on"
    await env.api.data(TASKS, token=token)

    assert await env.api.data("mutation { logout }", token=token) == {"logout": True}

    assert codes(await env.api.post(TASKS, token=token)) == ["UNAUTHENTICATED"]


async def test_a_query_the_planner_declines_looks_the_remembered_token_up_first(
    env: Env,
) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Kim")
    env.app.state.services.planner = "on"
    await env.api.data(TASKS, token=member.token)
    await update_staff(env, provider.admin.token, id=member.id, active=False)

    declined = "{ me { ... on Staff { name } } __schema { queryType { name } } }"
    with database_work(env) as seen:
        data = await env.api.data(declined, token=member.token)

    assert data == {"me": None, "__schema": {"queryType": {"name": "Query"}}}
    assert len(seen["statements"]) == 1 and "auth_session" in seen["statements"][0]


async def test_a_query_the_planner_declines_answers_field_by_field(env: Env) -> None:
    provider = await env.world.provider()
    env.app.state.services.planner = "on"
    declined = sum(n for outcome, n in OUTCOMES.items() if outcome.startswith("declined"))

    data = await env.api.data("{ __schema { queryType { name } } }", None, provider.admin.token)

    assert data == {"__schema": {"queryType": {"name": "Query"}}}
    assert sum(n for outcome, n in OUTCOMES.items() if outcome.startswith("declined")) > declined
