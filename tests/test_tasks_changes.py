"""What happens to a task after it is added: edit, postpone, reassign, complete, reopen, delete.

Every change bumps the version and leaves a line in the history; a stale expectedVersion is
refused with a CONFLICT that says what changed, and nothing is overwritten.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import START, Env
from tests.factories import TASK_FIELDS, Person, Provider

PAYLOAD = "task { " + TASK_FIELDS + " } errors { field code message }"
TASK = "query($id: ID!) { task(id: $id) { " + TASK_FIELDS + " } }"
ALL_TASKS = "{ tasks(filter: {includeCompleted: true}) { totalCount edges { node { id } } } }"
DEACTIVATE = (
    "mutation($id: ID!) { updateStaff(input: {id: $id, active: false}) {"
    " staff { id } errors { message } } }"
)

INPUT_TYPES = {
    "updateTask": "UpdateTaskInput",
    "postponeTask": "PostponeTaskInput",
    "reassignTask": "ReassignTaskInput",
    "completeTask": "CompleteTaskInput",
    "reopenTask": "CompleteTaskInput",
}


async def change(env: Env, mutation: str, who: Person, /, **fields: Any) -> dict[str, Any]:
    """Run a task mutation; its payload, after checking there was no GraphQL error."""
    query = (
        f"mutation($input: {INPUT_TYPES[mutation]}!) {{"
        f" {mutation}(input: $input) {{ {PAYLOAD} }} }}"
    )
    return await env.api.mutate(mutation, query, {"input": fields}, who.token)


async def changed(env: Env, mutation: str, who: Person, /, **fields: Any) -> dict[str, Any]:
    """Run a task mutation that must succeed; the task it returns."""
    result = await change(env, mutation, who, **fields)
    assert result["errors"] == [], result["errors"]
    return result["task"]  # type: ignore[no-any-return]


def refused(result: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert result["task"] is None, result
    return [(e["field"], e["code"]) for e in result["errors"]]


async def fetch(env: Env, task_id: str, by: Person) -> dict[str, Any]:
    return (await env.api.data(TASK, {"id": task_id}, by.token))["task"]  # type: ignore[no-any-return]


def summaries(task: dict[str, Any]) -> list[str]:
    return [event["summary"] for event in task["history"]]


async def team(env: Env) -> tuple[Provider, Person, Person]:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    return provider, ana, ben


# ---------------------------------------------------------------- updateTask


async def test_update_changes_the_given_fields_and_records_old_and_new_values(env: Env) -> None:
    provider, ana, _ben = await team(env)
    client = await env.world.client(provider, "Daniel Harris")
    task = await env.world.task(ana, name="Call Daniel", details="Old notes", dueDate="2027-03-01")
    env.clock.advance(timedelta(hours=1))

    updated = await changed(
        env,
        "updateTask",
        ana,
        id=task["id"],
        name=" Phone Daniel ",
        details="New notes",
        dueDate="2027-03-15",
        clientId=client,
    )

    assert updated["name"] == "Phone Daniel"
    assert updated["details"] == "New notes"
    assert updated["dueDate"] == "2027-03-15"
    assert updated["client"] == {"id": client, "name": "Daniel Harris"}
    assert updated["version"] == 2
    edit = updated["history"][-1]
    assert edit["kind"] == "EDITED"
    assert edit["by"]["name"] == "Ana Silva"
    assert edit["at"] == (START + timedelta(hours=1)).isoformat()
    for part in (
        "Call Daniel",
        "Phone Daniel",
        "Old notes",
        "New notes",
        "Due date 2027-03-01 -> 2027-03-15",
        "Daniel Harris",
    ):
        assert part in edit["summary"]
    assert await fetch(env, task["id"], ana) == updated


async def test_update_leaves_omitted_fields_alone(env: Env) -> None:
    provider, ana, _ben = await team(env)
    client = await env.world.client(provider)
    task = await env.world.task(
        ana, name="Call Daniel", details="Notes", dueDate="2027-03-01", clientId=client
    )

    updated = await changed(env, "updateTask", ana, id=task["id"], details="Better notes")

    assert updated["details"] == "Better notes"
    for unchanged in ("name", "dueDate", "client", "responsible", "status"):
        assert updated[unchanged] == task[unchanged]


async def test_update_with_null_clears_the_optional_fields(env: Env) -> None:
    provider, ana, _ben = await team(env)
    client = await env.world.client(provider, "Daniel Harris")
    task = await env.world.task(ana, details="Notes", clientId=client)

    updated = await changed(env, "updateTask", ana, id=task["id"], details=None, clientId=None)

    assert updated["details"] is None
    assert updated["client"] is None
    assert "Client: Daniel Harris -> none" in updated["history"][-1]["summary"]


async def test_update_refuses_to_clear_the_mandatory_fields(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, name="Call Daniel", dueDate="2027-03-01")

    result = await change(env, "updateTask", ana, id=task["id"], name=None, dueDate=None)
    assert refused(result) == [(["input", "name"], "REQUIRED"), (["input", "dueDate"], "REQUIRED")]
    assert result["errors"][0]["message"] == "Task Name must be entered"

    blank = await change(env, "updateTask", ana, id=task["id"], name="   ", details="kept?")
    assert refused(blank) == [(["input", "name"], "REQUIRED")]
    assert await fetch(env, task["id"], ana) == task


async def test_update_refuses_impossible_dates_and_other_providers_clients(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    foreign_client = await env.world.client(await env.world.provider())
    task = await env.world.task(ana)

    result = await change(
        env, "updateTask", ana, id=task["id"], dueDate="2027-02-30", clientId=foreign_client
    )

    assert refused(result) == [
        (["input", "dueDate"], "INVALID"),
        (["input", "clientId"], "INVALID"),
    ]
    assert await fetch(env, task["id"], ana) == task


async def test_an_update_that_changes_nothing_keeps_the_version(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, name="Call Daniel")

    same = await changed(env, "updateTask", ana, id=task["id"], name="Call Daniel")

    assert same["version"] == 1
    assert len(same["history"]) == 1


# ---------------------------------------------------------------- postponeTask


@pytest.mark.parametrize(
    ("by", "new_due"),
    [
        ("ONE_WEEK", "2027-03-22"),
        ("TWO_WEEKS", "2027-03-29"),
        ("THREE_WEEKS", "2027-04-05"),
        ("FOUR_WEEKS", "2027-04-12"),
    ],
)
async def test_postpone_by_weeks_moves_the_current_due_date(
    env: Env, by: str, new_due: str
) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")

    postponed = await changed(env, "postponeTask", ana, id=task["id"], by=by)

    assert postponed["dueDate"] == new_due
    assert postponed["version"] == 2
    assert postponed["history"][-1]["kind"] == "POSTPONED"
    assert postponed["history"][-1]["summary"] == f"Due date 2027-03-15 -> {new_due}"


async def test_postponing_again_starts_from_the_postponed_date(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-02-26")  # already overdue

    once = await changed(env, "postponeTask", ana, id=task["id"], by="ONE_WEEK")
    twice = await changed(env, "postponeTask", ana, id=task["id"], by="TWO_WEEKS")

    assert once["dueDate"] == "2027-03-05"
    assert twice["dueDate"] == "2027-03-19"
    assert summaries(twice)[1:] == [
        "Due date 2027-02-26 -> 2027-03-05",
        "Due date 2027-03-05 -> 2027-03-19",
    ]


async def test_postpone_to_a_custom_date(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")

    postponed = await changed(
        env, "postponeTask", ana, id=task["id"], by="CUSTOM", customDate="2027-05-02"
    )

    assert postponed["dueDate"] == "2027-05-02"
    assert postponed["history"][-1]["summary"] == "Due date 2027-03-15 -> 2027-05-02"


async def test_a_custom_postponement_needs_its_date(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana)

    result = await change(env, "postponeTask", ana, id=task["id"], by="CUSTOM")

    assert refused(result) == [(["input", "customDate"], "REQUIRED")]
    assert await fetch(env, task["id"], ana) == task


@pytest.mark.parametrize(
    "custom_date",
    [
        "2027-02-27",  # in the past (today is 2027-03-01 in Sydney)
        "2027-03-10",  # in the future, but before the current due date
        "2027-03-15",  # the current due date itself
        "2027-02-30",  # not a date at all
    ],
)
async def test_a_custom_date_must_be_a_later_date_than_now_and_the_due_date(
    env: Env, custom_date: str
) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")

    result = await change(
        env, "postponeTask", ana, id=task["id"], by="CUSTOM", customDate=custom_date
    )

    assert refused(result) == [(["input", "customDate"], "INVALID")]
    assert await fetch(env, task["id"], ana) == task


async def test_the_past_ends_at_midnight_in_the_providers_timezone(env: Env) -> None:
    # 07:30 UTC on 2 March is still 23:30 on 1 March in Los Angeles.
    env.clock.set(datetime(2027, 3, 2, 7, 30, tzinfo=UTC))
    provider = await env.world.provider(timezone="America/Los_Angeles")
    task = await env.world.task(provider.admin, dueDate="2027-02-20")

    today = await change(
        env, "postponeTask", provider.admin, id=task["id"], by="CUSTOM", customDate="2027-03-01"
    )
    yesterday = await change(
        env, "postponeTask", provider.admin, id=task["id"], by="CUSTOM", customDate="2027-02-28"
    )

    assert today["errors"] == []
    assert today["task"]["dueDate"] == "2027-03-01"
    assert refused(yesterday) == [(["input", "customDate"], "INVALID")]


async def test_an_overdue_task_cannot_be_postponed_into_the_past(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-02-01")

    result = await change(
        env, "postponeTask", ana, id=task["id"], by="CUSTOM", customDate="2027-02-15"
    )

    assert refused(result) == [(["input", "customDate"], "INVALID")]
    assert "past" in result["errors"][0]["message"]


async def test_a_completed_task_cannot_be_postponed(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")
    done = await changed(env, "completeTask", ana, id=task["id"])

    for option in ({"by": "ONE_WEEK"}, {"by": "CUSTOM", "customDate": "2027-06-01"}):
        result = await change(env, "postponeTask", ana, id=task["id"], **option)
        assert refused(result) == [(None, "INVALID")]
        assert "completed" in result["errors"][0]["message"]
    assert await fetch(env, task["id"], ana) == done


# ---------------------------------------------------------------- reassignTask


async def test_reassign_to_someone_else(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, responsibleIds=[ana.id])

    reassigned = await changed(env, "reassignTask", ana, id=task["id"], responsibleIds=[ben.id])

    assert reassigned["responsible"] == [{"id": ben.id, "name": "Ben Okafor"}]
    assert reassigned["version"] == 2
    assert reassigned["history"][-1]["kind"] == "REASSIGNED"
    assert reassigned["history"][-1]["summary"] == "Responsible: Ana Silva -> Ben Okafor"


async def test_reassign_to_several_people_keeps_their_order(env: Env) -> None:
    provider, ana, ben = await team(env)
    chloe = await env.world.staff(provider, "Chloe Nguyen")
    task = await env.world.task(ana, responsibleIds=[ana.id])

    reassigned = await changed(
        env, "reassignTask", ana, id=task["id"], responsibleIds=[chloe.id, ben.id]
    )

    assert [s["name"] for s in reassigned["responsible"]] == ["Chloe Nguyen", "Ben Okafor"]
    assert (
        reassigned["history"][-1]["summary"] == "Responsible: Ana Silva -> Chloe Nguyen, Ben Okafor"
    )


async def test_reassign_to_nobody_leaves_the_task_unassigned(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, responsibleIds=[ana.id, ben.id])

    unassigned = await changed(env, "reassignTask", ana, id=task["id"], responsibleIds=[])
    back = await changed(env, "reassignTask", ana, id=task["id"], responsibleIds=[ben.id])

    assert unassigned["responsible"] == []
    assert summaries(back)[1:] == [
        "Responsible: Ana Silva, Ben Okafor -> Unassigned",
        "Responsible: Unassigned -> Ben Okafor",
    ]


async def test_reassign_refuses_other_providers_and_inactive_staff(env: Env) -> None:
    provider, ana, ben = await team(env)
    outsider = await env.world.staff(await env.world.provider(), "Olga Outsider")
    gone = await env.world.staff(provider, "Gone Person")
    await env.api.mutate("updateStaff", DEACTIVATE, {"id": gone.id}, provider.admin.token)
    task = await env.world.task(ana, responsibleIds=[ana.id])

    for responsible in ([outsider.id], [ben.id, outsider.id], [gone.id], ["not-an-id"]):
        result = await change(env, "reassignTask", ana, id=task["id"], responsibleIds=responsible)
        assert refused(result) == [(["input", "responsibleIds"], "INVALID")], responsible
    assert await fetch(env, task["id"], ana) == task


# ---------------------------------------------------------------- completeTask, reopenTask


async def test_complete_records_who_and_when(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-02-01")
    assert task["overdue"] is True
    env.clock.advance(timedelta(hours=2, minutes=30))

    done = await changed(env, "completeTask", ben, id=task["id"], expectedVersion=1)

    finished_at = (START + timedelta(hours=2, minutes=30)).isoformat()
    assert done["status"] == "COMPLETED"
    assert done["overdue"] is False
    assert done["completedAt"] == finished_at
    assert done["completedBy"] == {"__typename": "Staff", "id": ben.id, "name": "Ben Okafor"}
    assert done["version"] == 2
    last = done["history"][-1]
    assert (last["kind"], last["at"], last["by"]["name"]) == (
        "COMPLETED",
        finished_at,
        "Ben Okafor",
    )
    assert await fetch(env, task["id"], ana) == done


async def test_completing_twice_is_a_user_error_and_keeps_the_first_completion(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana)
    done = await changed(env, "completeTask", ana, id=task["id"])
    env.clock.advance(timedelta(hours=1))

    again = await change(env, "completeTask", ben, id=task["id"])

    assert refused(again) == [(None, "INVALID")]
    assert "already completed" in again["errors"][0]["message"]
    assert await fetch(env, task["id"], ana) == done


async def test_reopen_clears_the_completion(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana)
    await changed(env, "completeTask", ana, id=task["id"])
    env.clock.advance(timedelta(minutes=5))

    reopened = await changed(env, "reopenTask", ben, id=task["id"], expectedVersion=2)

    assert reopened["status"] == "OPEN"
    assert reopened["completedAt"] is None
    assert reopened["completedBy"] is None
    assert reopened["version"] == 3
    last = reopened["history"][-1]
    assert (last["kind"], last["by"]["name"], last["at"]) == (
        "REOPENED",
        "Ben Okafor",
        (START + timedelta(minutes=5)).isoformat(),
    )


async def test_only_a_completed_task_can_be_reopened(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana)

    result = await change(env, "reopenTask", ana, id=task["id"])

    assert refused(result) == [(None, "INVALID")]
    assert await fetch(env, task["id"], ana) == task


# ---------------------------------------------------------------- deleteTask

DELETE = (
    "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
    " deletedIds errors { field code message } } }"
)


async def test_delete_removes_the_task(env: Env) -> None:
    provider, ana, _ben = await team(env)
    task = await env.world.task(ana)
    kept = await env.world.task(ana)
    await changed(env, "postponeTask", ana, id=task["id"], by="ONE_WEEK")  # some history

    result = await env.api.mutate("deleteTask", DELETE, {"input": {"id": task["id"]}}, ana.token)

    assert result == {"deletedIds": [task["id"]], "errors": []}
    assert await env.api.error_codes(TASK, {"id": task["id"]}, ana.token) == ["NOT_FOUND"]
    listed = await env.api.data(ALL_TASKS, token=provider.admin.token)
    assert listed["tasks"]["totalCount"] == 1
    assert listed["tasks"]["edges"] == [{"node": {"id": kept["id"]}}]


async def test_a_deleted_task_can_no_longer_be_changed(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana)
    await env.api.mutate("deleteTask", DELETE, {"input": {"id": task["id"]}}, ana.token)

    assert await env.api.error_codes(DELETE, {"input": {"id": task["id"]}}, ana.token) == [
        "NOT_FOUND"
    ]
    query = "mutation($input: CompleteTaskInput!) { completeTask(input: $input) { task { id } } }"
    assert await env.api.error_codes(query, {"input": {"id": task["id"]}}, ana.token) == [
        "NOT_FOUND"
    ]


async def test_another_providers_task_is_not_found_for_any_change(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    outsider = (await env.world.provider()).admin
    task = await env.world.task(ana)
    attempts = [
        ("updateTask", {"name": "Taken over"}),
        ("postponeTask", {"by": "ONE_WEEK"}),
        ("reassignTask", {"responsibleIds": [outsider.id]}),
        ("completeTask", {}),
        ("reopenTask", {}),
    ]

    for mutation, fields in attempts:
        query = (
            f"mutation($input: {INPUT_TYPES[mutation]}!) {{ {mutation}(input: $input) {{"
            " task { id } } }"
        )
        variables = {"input": {"id": task["id"], **fields}}
        assert await env.api.error_codes(query, variables, outsider.token) == ["NOT_FOUND"]
    assert await env.api.error_codes(DELETE, {"input": {"id": task["id"]}}, outsider.token) == [
        "NOT_FOUND"
    ]
    assert await fetch(env, task["id"], ana) == task


# ---------------------------------------------------------------- versions and conflicts


async def test_every_change_bumps_the_version(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana)
    steps = [
        ("updateTask", {"name": "Renamed"}),
        ("postponeTask", {"by": "ONE_WEEK"}),
        ("reassignTask", {"responsibleIds": [ben.id]}),
        ("completeTask", {}),
        ("reopenTask", {}),
    ]

    versions = [task["version"]]
    for mutation, fields in steps:
        result = await changed(
            env, mutation, ana, id=task["id"], expectedVersion=versions[-1], **fields
        )
        versions.append(result["version"])

    assert versions == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("mutation", "fields"),
    [
        ("updateTask", {"dueDate": "2027-04-01"}),
        ("postponeTask", {"by": "TWO_WEEKS"}),
        ("reassignTask", {"responsibleIds": []}),
        ("completeTask", {}),
    ],
)
async def test_a_stale_version_is_a_conflict_naming_the_change(
    env: Env, mutation: str, fields: dict[str, Any]
) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")
    # Ben postpones the task while Ana still has version 1 on her screen.
    current = await changed(env, "postponeTask", ben, id=task["id"], by="ONE_WEEK")

    result = await change(env, mutation, ana, id=task["id"], expectedVersion=1, **fields)

    assert refused(result) == [(["input", "expectedVersion"], "CONFLICT")]
    message = result["errors"][0]["message"]
    assert "Due date 2027-03-15 -> 2027-03-22" in message
    assert "Ben Okafor" in message
    assert await fetch(env, task["id"], ana) == current


async def test_a_conflict_names_every_change_since_the_given_version(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, name="Call Daniel")
    await changed(env, "updateTask", ben, id=task["id"], name="Phone Daniel")
    await changed(env, "reassignTask", ben, id=task["id"], responsibleIds=[ben.id])

    result = await change(env, "updateTask", ana, id=task["id"], name="Mine", expectedVersion=1)

    message = result["errors"][0]["message"]
    assert "Phone Daniel" in message
    assert "Responsible: Ana Silva -> Ben Okafor" in message
    assert (await fetch(env, task["id"], ana))["name"] == "Phone Daniel"


async def test_a_conflict_comes_back_with_the_other_problems(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana)
    await changed(env, "updateTask", ben, id=task["id"], details="Ben was here")

    result = await change(env, "updateTask", ana, id=task["id"], name="", expectedVersion=1)

    assert refused(result) == [
        (["input", "name"], "REQUIRED"),
        (["input", "expectedVersion"], "CONFLICT"),
    ]


async def test_the_current_version_is_accepted(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana)
    await changed(env, "updateTask", ben, id=task["id"], details="Ben was here")

    updated = await changed(env, "updateTask", ana, id=task["id"], name="Mine", expectedVersion=2)

    assert (updated["name"], updated["details"], updated["version"]) == ("Mine", "Ben was here", 3)


async def test_of_two_simultaneous_changes_from_the_same_version_one_wins(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, name="Call Daniel")

    results = await asyncio.gather(
        change(env, "updateTask", ana, id=task["id"], name="Ana's name", expectedVersion=1),
        change(env, "updateTask", ben, id=task["id"], name="Ben's name", expectedVersion=1),
    )

    outcomes = sorted(tuple(e["code"] for e in r["errors"]) for r in results)
    assert outcomes == [(), ("CONFLICT",)]
    winner = next(r["task"] for r in results if r["task"] is not None)
    stored = await fetch(env, task["id"], ana)
    assert (stored["name"], stored["version"]) == (winner["name"], 2)


async def test_simultaneous_postponements_are_not_lost(env: Env) -> None:
    _provider, ana, ben = await team(env)
    task = await env.world.task(ana, dueDate="2027-03-15")

    await asyncio.gather(
        changed(env, "postponeTask", ana, id=task["id"], by="ONE_WEEK"),
        changed(env, "postponeTask", ben, id=task["id"], by="ONE_WEEK"),
    )

    stored = await fetch(env, task["id"], ana)
    assert (stored["dueDate"], stored["version"]) == ("2027-03-29", 3)
    assert summaries(stored)[1:] == [
        "Due date 2027-03-15 -> 2027-03-22",
        "Due date 2027-03-22 -> 2027-03-29",
    ]


# ---------------------------------------------------------------- history


async def test_history_lists_every_change_oldest_first(env: Env) -> None:
    provider, ana, ben = await team(env)
    client = await env.world.client(provider, "Daniel Harris")
    task = await env.world.task(
        ana, name="Call Daniel", dueDate="2027-03-01", responsibleIds=[ana.id]
    )
    steps: list[tuple[Person, str, dict[str, Any]]] = [
        (ben, "updateTask", {"clientId": client}),
        (ana, "postponeTask", {"by": "TWO_WEEKS"}),
        (ben, "reassignTask", {"responsibleIds": [ben.id]}),
        (ben, "completeTask", {}),
        (ana, "reopenTask", {}),
    ]
    for minutes, (who, mutation, fields) in enumerate(steps, start=1):
        env.clock.set(START + timedelta(minutes=minutes))
        await changed(env, mutation, who, id=task["id"], **fields)

    history = (await fetch(env, task["id"], ana))["history"]

    assert [(e["kind"], e["by"]["name"], e["at"]) for e in history] == [
        ("CREATED", "Ana Silva", START.isoformat()),
        ("EDITED", "Ben Okafor", (START + timedelta(minutes=1)).isoformat()),
        ("POSTPONED", "Ana Silva", (START + timedelta(minutes=2)).isoformat()),
        ("REASSIGNED", "Ben Okafor", (START + timedelta(minutes=3)).isoformat()),
        ("COMPLETED", "Ben Okafor", (START + timedelta(minutes=4)).isoformat()),
        ("REOPENED", "Ana Silva", (START + timedelta(minutes=5)).isoformat()),
    ]
    assert [e["summary"] for e in history[1:4]] == [
        "Client: none -> Daniel Harris",
        "Due date 2027-03-01 -> 2027-03-15",
        "Responsible: Ana Silva -> Ben Okafor",
    ]
    assert "Ben Okafor" in history[4]["summary"]
    assert "Ana Silva" in history[5]["summary"]


async def test_refused_changes_leave_no_history(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await env.world.task(ana)

    await change(env, "updateTask", ana, id=task["id"], name="")
    await change(env, "postponeTask", ana, id=task["id"], by="CUSTOM")
    await change(env, "reassignTask", ana, id=task["id"], responsibleIds=["nobody"])
    await change(env, "reopenTask", ana, id=task["id"])

    stored = await fetch(env, task["id"], ana)
    assert [e["kind"] for e in stored["history"]] == ["CREATED"]
    assert stored["version"] == 1
