"""createTask as the Add Task form uses it: mandatory fields, who may be responsible, dates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import START, Env
from tests.factories import CREATE_TASK, TASK_FIELDS, Person, Provider

TASK = "query($id: ID!) { task(id: $id) { " + TASK_FIELDS + " } }"
ALL_TASKS = "{ tasks(filter: {includeCompleted: true}) { totalCount edges { node { id name } } } }"
DEACTIVATE = (
    "mutation($id: ID!) { updateStaff(input: {id: $id, active: false}) {"
    " staff { id active } errors { field code message } } }"
)


async def create(env: Env, by: Person, **fields: Any) -> dict[str, Any]:
    """The whole HTTP response body, so tests can check there is no GraphQL error."""
    return await env.api.post(CREATE_TASK, {"input": fields}, by.token)


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    return body["data"]["createTask"]  # type: ignore[no-any-return]


def errors_of(body: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    result = payload(body)
    assert result["task"] is None, result
    return [(e["field"], e["code"]) for e in result["errors"]]


async def task_count(env: Env, provider: Provider) -> int:
    data = await env.api.data(ALL_TASKS, token=provider.admin.token)
    return int(data["tasks"]["totalCount"])


# ---------------------------------------------------------------- a complete form


async def test_create_task_with_every_field(env: Env) -> None:
    provider = await env.world.provider(name="Northside")
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    client = await env.world.client(provider, "Daniel Harris")

    body = await create(
        env,
        ana,
        name="  Call Daniel about the interview  ",
        details="Ask how it went",
        dueDate="2027-03-15",
        responsibleIds=[ana.id, ben.id],
        clientId=client,
    )

    task = payload(body)["task"]
    assert payload(body)["errors"] == []
    assert task["name"] == "Call Daniel about the interview"
    assert task["details"] == "Ask how it went"
    assert task["dueDate"] == "2027-03-15"
    assert task["status"] == "OPEN"
    assert task["kind"] == "STANDARD"
    assert task["overdue"] is False
    assert task["assignedToClient"] is False
    assert task["version"] == 1
    assert [s["name"] for s in task["responsible"]] == ["Ana Silva", "Ben Okafor"]
    assert task["client"] == {"id": client, "name": "Daniel Harris"}
    assert task["createdBy"] == {"id": ana.id, "name": "Ana Silva"}
    assert task["createdAt"] == START.isoformat()
    assert task["completedAt"] is None
    assert task["completedBy"] is None
    assert task["serviceProvider"] == {"id": provider.id, "name": "Northside"}
    assert task["originProvider"] == {"id": provider.id, "name": "Northside"}
    assert [(e["kind"], e["by"]["name"], e["at"]) for e in task["history"]] == [
        ("CREATED", "Ana Silva", START.isoformat())
    ]
    assert "2027-03-15" in task["history"][0]["summary"]
    assert "Ana Silva, Ben Okafor" in task["history"][0]["summary"]

    stored = (await env.api.data(TASK, {"id": task["id"]}, ana.token))["task"]
    assert stored == task
    assert await task_count(env, provider) == 1


async def test_details_are_optional(env: Env) -> None:
    provider = await env.world.provider()
    without = await env.world.task(provider.admin, name="No details")
    blank = await env.world.task(provider.admin, name="Blank details", details="   ")
    assert without["details"] is None
    assert blank["details"] is None


async def test_the_same_person_named_twice_is_responsible_once(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    task = await env.world.task(ana, responsibleIds=[ana.id, ana.id])
    assert [s["id"] for s in task["responsible"]] == [ana.id]


async def test_a_due_date_in_the_past_is_allowed_and_overdue(env: Env) -> None:
    provider = await env.world.provider()
    task = await env.world.task(provider.admin, dueDate="2026-12-31")
    assert task["dueDate"] == "2026-12-31"
    assert task["overdue"] is True


async def test_a_task_name_of_the_maximum_length_is_accepted(env: Env) -> None:
    provider = await env.world.provider()
    task = await env.world.task(provider.admin, name="x" * 500)
    assert len(task["name"]) == 500


# ---------------------------------------------------------------- mandatory fields


async def test_every_missing_mandatory_field_is_reported_at_once(env: Env) -> None:
    provider = await env.world.provider()

    body = await create(env, provider.admin, details="Only details")

    assert payload(body)["errors"] == [
        {"field": ["input", "name"], "code": "REQUIRED", "message": "Task Name must be entered"},
        {"field": ["input", "dueDate"], "code": "REQUIRED", "message": "Due Date must be entered"},
        {
            "field": ["input", "responsibleIds"],
            "code": "REQUIRED",
            "message": "Who's Responsible must be entered",
        },
    ]
    assert await task_count(env, provider) == 0


async def test_explicit_nulls_count_as_missing(env: Env) -> None:
    provider = await env.world.provider()
    body = await create(env, provider.admin, name=None, dueDate=None, responsibleIds=None)
    assert errors_of(body) == [
        (["input", "name"], "REQUIRED"),
        (["input", "dueDate"], "REQUIRED"),
        (["input", "responsibleIds"], "REQUIRED"),
    ]
    assert await task_count(env, provider) == 0


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\t\n "}, "name"),
        ({"dueDate": None}, "dueDate"),
        ({"responsibleIds": None}, "responsibleIds"),
        ({"responsibleIds": []}, "responsibleIds"),
    ],
)
async def test_one_missing_field_gives_exactly_one_error(
    env: Env, missing: dict[str, Any], field: str
) -> None:
    provider = await env.world.provider()
    fields = {"name": "Call Ana", "dueDate": "2027-03-15", "responsibleIds": [provider.admin.id]}
    fields.update(missing)

    body = await create(env, provider.admin, **fields)

    assert errors_of(body) == [(["input", field], "REQUIRED")]
    assert payload(body)["errors"][0]["message"].endswith("must be entered")
    assert await task_count(env, provider) == 0


async def test_a_task_name_over_the_maximum_length_is_invalid(env: Env) -> None:
    provider = await env.world.provider()
    body = await create(
        env,
        provider.admin,
        name="x" * 501,
        dueDate="2027-03-15",
        responsibleIds=[provider.admin.id],
    )
    assert errors_of(body) == [(["input", "name"], "INVALID")]
    assert await task_count(env, provider) == 0


async def test_details_over_the_maximum_length_are_invalid(env: Env) -> None:
    provider = await env.world.provider()
    body = await create(
        env,
        provider.admin,
        name="Call Ana",
        details="x" * 10_001,
        dueDate="2027-03-15",
        responsibleIds=[provider.admin.id],
    )
    assert errors_of(body) == [(["input", "details"], "INVALID")]
    assert await task_count(env, provider) == 0


# ---------------------------------------------------------------- due dates


@pytest.mark.parametrize("text", ["2027-02-30", "2027-13-01", "2026-02-29", "2027-3-1", "soon"])
async def test_an_impossible_due_date_is_a_user_error(env: Env, text: str) -> None:
    provider = await env.world.provider()

    body = await create(
        env, provider.admin, name="Call Ana", dueDate=text, responsibleIds=[provider.admin.id]
    )

    assert errors_of(body) == [(["input", "dueDate"], "INVALID")]
    message = payload(body)["errors"][0]["message"]
    assert text in message
    assert "Traceback" not in message
    assert await task_count(env, provider) == 0


async def test_an_impossible_due_date_written_in_the_query_is_a_user_error(env: Env) -> None:
    provider = await env.world.provider()
    query = (
        'mutation { createTask(input: {name: "Call Ana", dueDate: "2027-02-30", responsibleIds: ["'
        + provider.admin.id
        + '"]}) { task { id } errors { field code message } } }'
    )
    body = await env.api.post(query, token=provider.admin.token)
    assert "errors" not in body, body
    assert [(e["field"], e["code"]) for e in body["data"]["createTask"]["errors"]] == [
        (["input", "dueDate"], "INVALID")
    ]


async def test_an_impossible_date_and_missing_fields_come_back_together(env: Env) -> None:
    provider = await env.world.provider()
    body = await create(env, provider.admin, name="  ", dueDate="2027-02-30")
    assert errors_of(body) == [
        (["input", "name"], "REQUIRED"),
        (["input", "dueDate"], "INVALID"),
        (["input", "responsibleIds"], "REQUIRED"),
    ]


# ---------------------------------------------------------------- who may be responsible


async def test_inactive_staff_cannot_be_made_responsible(env: Env) -> None:
    provider = await env.world.provider()
    gone = await env.world.staff(provider, "Gone Person")
    deactivated = await env.api.mutate(
        "updateStaff", DEACTIVATE, {"id": gone.id}, provider.admin.token
    )
    assert deactivated["errors"] == []

    body = await create(
        env, provider.admin, name="Call Ana", dueDate="2027-03-15", responsibleIds=[gone.id]
    )

    assert errors_of(body) == [(["input", "responsibleIds"], "INVALID")]
    assert await task_count(env, provider) == 0


async def test_another_providers_staff_cannot_be_made_responsible(env: Env) -> None:
    provider = await env.world.provider()
    other = await env.world.provider()
    outsider = await env.world.staff(other, "Olga Outsider")

    for responsible in ([outsider.id], [provider.admin.id, outsider.id]):
        body = await create(
            env, provider.admin, name="Call Ana", dueDate="2027-03-15", responsibleIds=responsible
        )
        assert errors_of(body) == [(["input", "responsibleIds"], "INVALID")]
        assert "Olga" not in payload(body)["errors"][0]["message"]
    assert await task_count(env, provider) == 0
    assert await task_count(env, other) == 0


async def test_ids_that_are_not_staff_cannot_be_made_responsible(env: Env) -> None:
    provider = await env.world.provider()
    client = await env.world.client(provider)
    for bogus in (client, provider.id, "not-an-id", ""):
        body = await create(
            env, provider.admin, name="Call Ana", dueDate="2027-03-15", responsibleIds=[bogus]
        )
        assert errors_of(body) == [(["input", "responsibleIds"], "INVALID")], bogus
    assert await task_count(env, provider) == 0


async def test_the_client_must_be_one_of_the_providers_clients(env: Env) -> None:
    provider = await env.world.provider()
    other = await env.world.provider()
    foreign_client = await env.world.client(other)

    for bogus in (foreign_client, provider.admin.id, "not-an-id"):
        body = await create(
            env,
            provider.admin,
            name="Call Ana",
            dueDate="2027-03-15",
            responsibleIds=[provider.admin.id],
            clientId=bogus,
        )
        assert errors_of(body) == [(["input", "clientId"], "INVALID")], bogus
    assert await task_count(env, provider) == 0


# ---------------------------------------------------------------- who may add tasks


async def test_adding_a_task_needs_a_signed_in_member_with_the_tasks_permission(
    env: Env,
) -> None:
    provider = await env.world.provider()
    no_tasks = await env.world.staff(provider, tasks=False)
    variables = {
        "input": {"name": "Call Ana", "dueDate": "2027-03-15", "responsibleIds": [no_tasks.id]}
    }

    assert await env.api.error_codes(CREATE_TASK, variables) == ["UNAUTHENTICATED"]
    assert await env.api.error_codes(CREATE_TASK, variables, no_tasks.token) == ["FORBIDDEN"]
    assert await task_count(env, provider) == 0
