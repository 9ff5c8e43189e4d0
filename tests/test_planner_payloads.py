"""Mutation payloads read through the planner: with the planner on, a payload's `task { ... }`
is read after the commit in one statement, and answers what the field-by-field path answers.

The rest of the suite runs in check mode (both paths, compared); here the planner is "on", as in
production, so the rewritten mutation document and the spliced answer are what is tested.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from resolvers import planner as planner_module
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


async def test_one_plan_serves_every_call_of_a_mutation_whatever_its_input(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    tasks = [await env.world.task(ana, name=f"Task {n}", dueDate="2027-03-01") for n in range(3)]
    planner_mode(env, "on")
    postpone = (
        "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
        " task { id name dueDate version } errors { code } } }"
    )
    planned = planner_module.plan_tasks
    plans: list[int] = []

    def counted(*args: Any) -> Any:
        plans.append(1)
        return planned(*args)

    planner_module.plan_tasks = counted  # type: ignore[assignment]
    try:
        answers = [
            await env.api.mutate(
                "postponeTask", postpone, {"input": {"id": task["id"], "by": by}}, ana.token
            )
            for task, by in zip(tasks, ["ONE_WEEK", "TWO_WEEKS", "ONE_WEEK"], strict=True)
        ]
    finally:
        planner_module.plan_tasks = planned  # type: ignore[assignment]

    assert len(plans) == 1  # planned for the first call; the others bind their own task's id
    assert [a["task"]["id"] for a in answers] == [t["id"] for t in tasks]
    assert [a["task"]["name"] for a in answers] == ["Task 0", "Task 1", "Task 2"]
    assert [a["task"]["dueDate"] for a in answers] == ["2027-03-08", "2027-03-15", "2027-03-08"]
    assert [a["task"]["version"] for a in answers] == [2, 2, 2]


async def test_variables_the_payload_selection_uses_choose_its_plan(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    tasks = [await env.world.task(ana, name=f"Task {n}", dueDate="2027-03-01") for n in range(3)]
    planner_mode(env, "on")
    postpone = (
        "mutation($input: PostponeTaskInput!, $who: Boolean!, $withTask: Boolean = true) {"
        " postponeTask(input: $input) {"
        "   task @include(if: $withTask) { id responsible @include(if: $who) { name } }"
        " } }"
    )

    def call(task: dict[str, Any], variables: dict[str, Any]) -> Any:
        return env.api.mutate(
            "postponeTask",
            postpone,
            {"input": {"id": task["id"], "by": "ONE_WEEK"}, **variables},
            ana.token,
        )

    with_names = await call(tasks[0], {"who": True})
    without = await call(tasks[1], {"who": False})
    no_task = await call(tasks[2], {"who": True, "withTask": False})

    assert with_names["task"] == {"id": tasks[0]["id"], "responsible": [{"name": "Ana Silva"}]}
    assert without["task"] == {"id": tasks[1]["id"]}
    assert "task" not in no_task
    assert (await read_field_by_field(env, tasks[2]["id"], ana))["dueDate"] == "2027-03-08"
