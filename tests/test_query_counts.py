"""A Tasks screen page costs the same few SQL statements whatever its size (no N+1); a change
writes no more than it must."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.conftest import Env
from tests.factories import TASK_FIELDS
from tests.test_planner_requests import database_work

PAGE_SIZES = (10, 50, 100)
MAX_STATEMENTS = 10

PAGE = (
    "query($first: Int!) { tasks(first: $first, filter: {includeCompleted: true}) {"
    " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { "
    + TASK_FIELDS
    + " } } } }"
)
POSTPONE = (
    "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
    " task { id } errors { message } } }"
)
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    " task { id } errors { message } } }"
)


async def _fill(env: Env, count: int) -> str:
    """count tasks of varied people and clients; a third postponed, a third completed."""
    provider = await env.world.provider()
    staff = [provider.admin, *[await env.world.staff(provider) for _ in range(2)]]
    clients = [await env.world.client(provider, caseworker=person) for person in staff[:2]]
    first_due = date(2027, 3, 9)
    for n in range(count):
        responsible = [staff[n % 3].id] if n % 4 else [staff[0].id, staff[1].id]
        # Postponed tasks start a week early, so every page mixes all three kinds.
        due = first_due + timedelta(days=n % 40) - timedelta(weeks=1 if n % 3 == 1 else 0)
        task = await env.world.task(
            staff[n % 3],
            dueDate=due.isoformat(),
            responsibleIds=responsible,
            clientId=clients[n % 2] if n % 5 else None,
        )
        if n % 3 == 1:
            payload = await env.api.mutate(
                "postponeTask",
                POSTPONE,
                {"input": {"id": task["id"], "by": "ONE_WEEK"}},
                staff[0].token,
            )
            assert payload["errors"] == [], payload
        elif n % 3 == 2:
            payload = await env.api.mutate(
                "completeTask", COMPLETE, {"input": {"id": task["id"]}}, staff[n % 3].token
            )
            assert payload["errors"] == [], payload
    return provider.admin.token


def _assert_page_is_varied(nodes: list[dict[str, Any]]) -> None:
    assert any(node["completedBy"] for node in nodes)
    assert any(node["status"] == "OPEN" for node in nodes)
    assert any(len(node["history"]) > 1 and node["status"] == "OPEN" for node in nodes)
    assert any(node["client"] for node in nodes)
    assert any(len(node["responsible"]) > 1 for node in nodes)
    for node in nodes:
        assert node["serviceProvider"] and node["originProvider"] and node["createdBy"]
        assert all(event["by"] for event in node["history"])


async def test_task_pages_take_a_constant_number_of_statements(env: Env) -> None:
    token = await _fill(env, max(PAGE_SIZES))
    counts: dict[int, int] = {}
    for size in PAGE_SIZES:
        env.sql.reset()
        data = await env.api.data(PAGE, {"first": size}, token)
        counts[size] = env.sql.count
        nodes = [edge["node"] for edge in data["tasks"]["edges"]]
        assert len(nodes) == size
        _assert_page_is_varied(nodes)
    statements = "\n".join(env.sql.statements)
    assert len(set(counts.values())) == 1, f"{counts}; the last page ran:\n{statements}"
    assert counts[PAGE_SIZES[0]] <= MAX_STATEMENTS, f"{counts}; the last page ran:\n{statements}"


REASSIGN = (
    "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
    " task { id responsible { name } } errors { message } } }"
)


async def test_reassigning_a_task_someone_has_writes_the_task_once_and_no_alerts(
    env: Env,
) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    task = await env.world.task(ana, name="Shared", responsibleIds=[ana.id])
    env.app.state.services.planner = "on"
    await env.api.data("{ __typename }", None, ana.token)

    with database_work(env) as seen:
        payload = await env.api.mutate(
            "reassignTask",
            REASSIGN,
            {"input": {"id": task["id"], "responsibleIds": [ana.id, ben.id]}},
            ana.token,
        )

    assert payload["errors"] == []
    assert payload["task"]["responsible"] == [{"name": "Ana Silva"}, {"name": "Ben Okafor"}]
    writes = [s.split()[0:3] for s in seen["statements"] if s.split()[0] in {"UPDATE", "DELETE"}]
    # The version (and an Unassigned stint's end) in one UPDATE; no Unassigned alert to read.
    assert writes == [["DELETE", "FROM", "task_responsible"], ["UPDATE", "task", "SET"]]
    # Who was responsible, ids and names, in one statement (besides the payload's reads).
    reads = [
        s
        for s in seen["statements"]
        if s.startswith("SELECT") and "task_responsible" in s and not s.startswith("SELECT CAST")
    ]
    assert len(reads) == 1, reads
    assert reads[0].startswith("SELECT task_responsible.staff_id, staff.name")
