"""reassignTasks, postponeTasks, completeTasks (contract v2): the single-task rules for each
task, all or nothing, a failing task named by its index, one history event per task, and the
notifications the single-task mutations make, published after the one commit."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Env
from tests.factories import Person

PAYLOAD = "tasks { id dueDate status version responsible { name } } errors { field code message }"
REASSIGN = f"mutation($i: ReassignTasksInput!) {{ reassignTasks(input: $i) {{ {PAYLOAD} }} }}"
POSTPONE = f"mutation($i: PostponeTasksInput!) {{ postponeTasks(input: $i) {{ {PAYLOAD} }} }}"
COMPLETE = f"mutation($i: CompleteTasksInput!) {{ completeTasks(input: $i) {{ {PAYLOAD} }} }}"
COMPLETE_ONE = (
    "mutation($i: CompleteTaskInput!) { completeTask(input: $i) {"
    " task { status } errors { field code message } } }"
)
STATE = """query($id: ID!) { task(id: $id) {
  dueDate status version responsible { name } history { kind summary } } }"""
NOTIFICATIONS = "{ notifications(first: 200) { edges { node { kind message task { id } } } } }"


async def state(env: Env, viewer: Person, task_id: str) -> dict[str, Any]:
    return (await env.api.data(STATE, {"id": task_id}, viewer.token))["task"]  # type: ignore[no-any-return]


async def kinds(env: Env, viewer: Person) -> list[tuple[str, str | None]]:
    edges = (await env.api.data(NOTIFICATIONS, token=viewer.token))["notifications"]["edges"]
    return [(e["node"]["kind"], (e["node"]["task"] or {}).get("id")) for e in edges]


async def test_one_bad_id_in_a_hundred_saves_nothing_and_names_its_index(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    ben = await world.staff(provider, "Ben Caseworker")
    other = await world.provider()
    foreign = await world.task(other.admin)
    tasks = [await world.task(ana, dueDate="2027-03-15") for _ in range(99)]
    ids = [t["id"] for t in tasks]
    ids.insert(37, foreign["id"])
    before = {i: await state(env, ana, i) for i in ids[:3] + ids[38:40]}

    payload = await env.api.mutate(
        "reassignTasks", REASSIGN, {"i": {"ids": ids, "responsibleIds": [ben.id]}}, ana.token
    )
    assert payload["tasks"] == []
    [error] = payload["errors"]
    assert error["field"] == ["input", "ids", "37"]
    assert "NOT_FOUND" in error["message"]
    for task_id, was in before.items():
        assert await state(env, ana, task_id) == was
    assert await kinds(env, ben) == []
    # The other provider's task is untouched too.
    assert (await state(env, other.admin, foreign["id"]))["version"] == foreign["version"]

    # Without it, all 99 move, each with one history event, and Ben is told once per task.
    ids.pop(37)
    payload = await env.api.mutate(
        "reassignTasks", REASSIGN, {"i": {"ids": ids, "responsibleIds": [ben.id]}}, ana.token
    )
    assert payload["errors"] == []
    assert [t["id"] for t in payload["tasks"]] == ids
    assert all(t["responsible"] == [{"name": "Ben Caseworker"}] for t in payload["tasks"])
    after = await state(env, ana, ids[5])
    assert [h["kind"] for h in after["history"]] == ["CREATED", "REASSIGNED"]
    assert after["history"][1]["summary"] == "Responsible: Ana Caseworker -> Ben Caseworker"
    told = await kinds(env, ben)
    assert sorted(task for kind, task in told if kind == "TASK_ASSIGNED") == sorted(ids)


async def test_each_failing_task_is_named_with_its_reason(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    open_one = await world.task(ana, dueDate="2027-03-15")
    later_one = await world.task(ana, dueDate="2027-04-20")
    done = await world.task(ana, dueDate="2027-03-10")
    await env.api.mutate("completeTask", COMPLETE_ONE, {"i": {"id": done["id"]}}, ana.token)

    payload = await env.api.mutate(
        "postponeTasks",
        POSTPONE,
        {
            "i": {
                "ids": [open_one["id"], later_one["id"], done["id"], "not-an-id"],
                "by": "CUSTOM",
                "customDate": "2027-04-01",
            }
        },
        ana.token,
    )
    assert payload["tasks"] == []
    by_index = {tuple(e["field"]): e for e in payload["errors"]}
    assert set(by_index) == {("input", "ids", "1"), ("input", "ids", "2"), ("input", "ids", "3")}
    assert "after the current one (2027-04-20)" in by_index[("input", "ids", "1")]["message"]
    assert "completed" in by_index[("input", "ids", "2")]["message"]
    assert "NOT_FOUND" in by_index[("input", "ids", "3")]["message"]
    assert (await state(env, ana, open_one["id"]))["dueDate"] == "2027-03-15"

    # The form's own problem is named once, at its field.
    payload = await env.api.mutate(
        "postponeTasks",
        POSTPONE,
        {"i": {"ids": [open_one["id"]], "by": "CUSTOM", "customDate": "2027-01-01"}},
        ana.token,
    )
    assert [e["field"] for e in payload["errors"]] == [["input", "customDate"]]

    payload = await env.api.mutate(
        "postponeTasks",
        POSTPONE,
        {"i": {"ids": [open_one["id"], later_one["id"]], "by": "TWO_WEEKS"}},
        ana.token,
    )
    assert payload["errors"] == []
    assert [t["dueDate"] for t in payload["tasks"]] == ["2027-03-29", "2027-05-04"]
    history = (await state(env, ana, later_one["id"]))["history"]
    assert history[-1] == {"kind": "POSTPONED", "summary": "Due date 2027-04-20 -> 2027-05-04"}


async def test_empty_oversized_and_duplicate_selections_are_input_errors(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider)
    task = await world.task(ana)

    empty = await env.api.mutate("completeTasks", COMPLETE, {"i": {"ids": []}}, ana.token)
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [(["input", "ids"], "REQUIRED")]
    many = await env.api.mutate(
        "completeTasks", COMPLETE, {"i": {"ids": [task["id"]] * 101}}, ana.token
    )
    assert many["errors"][0]["field"] == ["input", "ids"]
    assert "At most 100" in many["errors"][0]["message"]
    twice = await env.api.mutate(
        "completeTasks", COMPLETE, {"i": {"ids": [task["id"], task["id"]]}}, ana.token
    )
    assert [e["field"] for e in twice["errors"]] == [["input", "ids", "1"]]
    assert "index 0" in twice["errors"][0]["message"]
    assert (await state(env, ana, task["id"]))["status"] == "OPEN"


async def test_completing_and_unassigning_notify_as_the_single_task_mutations(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    ben = await world.staff(provider, "Ben Caseworker")
    first = await world.task(ana)
    second = await world.task(ana)

    loose = await env.api.mutate(
        "reassignTasks",
        REASSIGN,
        {"i": {"ids": [first["id"], second["id"]], "responsibleIds": []}},
        ana.token,
    )
    assert loose["errors"] == []
    alerts = sorted(t for kind, t in await kinds(env, ben) if kind == "UNASSIGNED_TASK")
    assert alerts == sorted([first["id"], second["id"]])

    done = await env.api.mutate(
        "completeTasks",
        COMPLETE,
        {"i": {"ids": [second["id"], first["id"]], "expectedVersions": [2, 2]}},
        ana.token,
    )
    assert done["errors"] == []
    assert [t["status"] for t in done["tasks"]] == ["COMPLETED", "COMPLETED"]
    assert (await state(env, ana, first["id"]))["history"][-1]["kind"] == "COMPLETED"

    stale = await env.api.mutate(
        "reassignTasks",
        REASSIGN,
        {"i": {"ids": [first["id"]], "responsibleIds": [ana.id], "expectedVersions": [1]}},
        ana.token,
    )
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [
        (["input", "ids", "0"], "CONFLICT")
    ]


async def test_a_bulk_change_racing_a_single_change_one_wins_nothing_half_applied(
    env: Env,
) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider)
    ben = await world.staff(provider)
    for _round in range(3):
        a = await world.task(ana)
        b = await world.task(ana)
        bulk, single = await asyncio.gather(
            env.api.mutate(
                "completeTasks", COMPLETE, {"i": {"ids": [a["id"], b["id"]]}}, ana.token
            ),
            env.api.mutate(
                "completeTask",
                COMPLETE_ONE,
                {"i": {"id": b["id"], "expectedVersion": b["version"]}},
                ben.token,
            ),
        )
        bulk_won = bulk["errors"] == []
        single_won = single["errors"] == []
        assert bulk_won != single_won, (bulk, single)
        a_state = await state(env, ana, a["id"])
        if bulk_won:
            assert single["errors"][0]["code"] in ("CONFLICT", "INVALID")
            assert a_state["status"] == "COMPLETED"
        else:
            assert bulk["errors"][0]["field"] == ["input", "ids", "1"]
            assert a_state["status"] == "OPEN" and a_state["version"] == a["version"]
        assert [h["kind"] for h in (await state(env, ana, b["id"]))["history"]].count(
            "COMPLETED"
        ) == 1


async def test_who_may_change_many(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider)
    desk = await world.staff(provider, tasks=False)
    task = await world.task(ana)
    other = await world.provider()
    outsider = await world.staff(other)
    variables = {"i": {"ids": [task["id"]]}}
    assert await env.api.error_codes(COMPLETE, variables, desk.token) == ["FORBIDDEN"]
    assert await env.api.error_codes(COMPLETE, variables) == ["UNAUTHENTICATED"]
    foreign = await env.api.mutate("completeTasks", COMPLETE, variables, outsider.token)
    assert foreign["errors"][0]["field"] == ["input", "ids", "0"]
    assert "NOT_FOUND" in foreign["errors"][0]["message"]
    # Another provider's staff cannot be made responsible either.
    mixed = await env.api.mutate(
        "reassignTasks",
        REASSIGN,
        {"i": {"ids": [task["id"]], "responsibleIds": [outsider.id]}},
        ana.token,
    )
    assert [e["field"] for e in mixed["errors"]] == [["input", "responsibleIds"]]
    assert (await state(env, ana, task["id"]))["version"] == task["version"]
