"""Mutation payloads read through the planner: with the planner on, a payload's `task { ... }`
is read after the commit in one statement, and answers what the field-by-field path answers.

The rest of the suite runs in check mode (both paths, compared); here the planner is "on", as in
production, so the rewritten mutation document and the spliced answer are what is tested.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schema.planned import OUTCOMES
from tests.conftest import Env
from tests.factories import TASK_FIELDS, Person

TASK = "query($id: ID!) { task(id: $id) { " + TASK_FIELDS + " } }"

FRAGMENT = "fragment Parts on Task { id name dueDate version responsible { name } }"

TWO_CHANGES = (
    "mutation($postpone: PostponeTaskInput!, $reassign: ReassignTaskInput!) {"
    " later: postponeTask(input: $postpone) { task { ...Parts overdue } errors { code } }"
    " moved: reassignTask(input: $reassign) {"
    "   errors { code } task { id who: responsible { id name } history { kind summary } }"
    " } } " + FRAGMENT
)


def planner_mode(env: Env, mode: str) -> None:
    env.app.state.services.planner = mode


async def read_field_by_field(env: Env, task_id: str, who: Person) -> dict[str, Any]:
    planner_mode(env, "off")
    try:
        return (await env.api.data(TASK, {"id": task_id}, who.token))["task"]  # type: ignore[no-any-return]
    finally:
        planner_mode(env, "on")


async def test_a_payload_task_is_read_by_the_planner_and_answers_as_field_by_field(
    env: Env,
) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    client = await env.world.client(provider, 'Zoë d\'Arcy \\ "Quoted"')
    planner_mode(env, "on")
    before = OUTCOMES["planned payload"]

    created = await env.world.task(ana, name="Call Zoë", dueDate="2027-03-01", clientId=client)
    env.clock.advance(timedelta(hours=1))
    completion = (
        "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
        " task { " + TASK_FIELDS + " } errors { code } } }"
    )
    completed = await env.api.mutate(
        "completeTask", completion, {"input": {"id": created["id"]}}, ana.token
    )

    assert completed["errors"] == []
    assert completed["task"] == await read_field_by_field(env, created["id"], ana)
    assert OUTCOMES["planned payload"] >= before + 2  # the creation's payload, and this one
    del ben


async def test_two_payloads_with_aliases_and_fragments_in_one_operation(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    first = await env.world.task(ana, name="First", dueDate="2027-03-01")
    second = await env.world.task(ana, name="Second", dueDate="2027-03-02")
    planner_mode(env, "on")
    before = OUTCOMES["planned payload"]

    answer = await env.api.data(
        TWO_CHANGES,
        {
            "postpone": {"id": first["id"], "by": "ONE_WEEK"},
            "reassign": {"id": second["id"], "responsibleIds": [ben.id]},
        },
        ana.token,
    )

    assert OUTCOMES["planned payload"] == before + 2
    later = answer["later"]["task"]
    assert list(later) == ["id", "name", "dueDate", "version", "responsible", "overdue"]
    assert later["dueDate"] == "2027-03-08"
    assert later["responsible"] == [{"name": "Ana Silva"}]
    moved = answer["moved"]
    assert list(moved) == ["errors", "task"]
    assert moved["task"]["who"] == [{"id": ben.id, "name": "Ben Okafor"}]
    truth = await read_field_by_field(env, second["id"], ana)
    assert moved["task"]["history"] == [
        {"kind": event["kind"], "summary": event["summary"]} for event in truth["history"]
    ]


async def test_a_refused_change_answers_its_errors_and_a_null_task(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    task = await env.world.task(ana, name="First", dueDate="2027-03-01")
    planner_mode(env, "on")

    answer = await env.api.data(
        TWO_CHANGES,
        {
            "postpone": {"id": task["id"], "by": "ONE_WEEK", "expectedVersion": 99},
            "reassign": {"id": task["id"], "responsibleIds": []},
        },
        ana.token,
    )

    assert answer["later"] == {"task": None, "errors": [{"code": "CONFLICT"}]}
    assert answer["moved"]["task"]["who"] == []
