"""A planned request's database work: one connection, the token check and one statement.

The planner is "on" here, as in production (the rest of the suite runs in check mode, which
also answers field by field).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from schema.planned import OUTCOMES
from tests.conftest import Env

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
    seen: dict[str, Any] = {"checkouts": 0, "statements": []}
    sync_engine = env.engine.sync_engine

    def checkout(*_args: Any) -> None:
        seen["checkouts"] += 1

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        seen["statements"].append(text)

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
    # The token check, then the one planned statement; both on the request's one connection
    # (SQLite's BEGIN is the embedded database's own, not a round trip).
    assert seen["checkouts"] == 1
    statements = [text for text in seen["statements"] if text != "BEGIN"]
    assert len(statements) == 2, statements


async def test_a_query_the_planner_declines_answers_field_by_field(env: Env) -> None:
    provider = await env.world.provider()
    env.app.state.services.planner = "on"
    declined = sum(n for outcome, n in OUTCOMES.items() if outcome.startswith("declined"))

    data = await env.api.data("{ __schema { queryType { name } } }", None, provider.admin.token)

    assert data == {"__schema": {"queryType": {"name": "Query"}}}
    assert sum(n for outcome, n in OUTCOMES.items() if outcome.startswith("declined")) > declined
