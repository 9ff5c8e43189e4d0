"""Dates outside 1900-01-01..2200-12-31 and control or text-direction characters in names are
form errors naming the field, and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest

from services.errors import InvalidInput
from services.validation import text_problem
from tests.conftest import Env
from tests.factories import Person, Provider

OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"]
BAD_IN_NAMES = [
    "\x00",
    "\x07",
    "\t",
    "\n",
    "\x1b",
    "\x7f",
    "\x85",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
]

CREATE_TASK = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { id dueDate } errors { field code message } } }"
)
UPDATE_TASK = (
    "mutation($input: UpdateTaskInput!) { updateTask(input: $input) {"
    " task { id } errors { field code message } } }"
)
POSTPONE = (
    "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
    " task { dueDate } errors { field code message } } }"
)
RECORD = (
    "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
    " employment { id } outreachTasks { dueDate } errors { field code message } } }"
)
END = (
    "mutation($input: EndEmploymentInput!) { endEmployment(input: $input) {"
    " employment { endDate } errors { field code message } } }"
)
CREATE_STAFF = (
    "mutation($input: CreateStaffInput!) { createStaff(input: $input) {"
    " staff { id } errors { field code message } } }"
)
UPDATE_STAFF = (
    "mutation($input: UpdateStaffInput!) { updateStaff(input: $input) {"
    " staff { name } errors { field code message } } }"
)
CREATE_CLIENT = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) {"
    " client { id } errors { field code message } } }"
)
UPDATE_CLIENT = (
    "mutation($input: UpdateClientInput!) { updateClient(input: $input) {"
    " client { name } errors { field code message } } }"
)
COUNT = "{ tasks(filter: {includeCompleted: true}) { totalCount } }"


def fields(payload: dict[str, Any]) -> list[list[str]]:
    assert all(error["code"] == "INVALID" for error in payload["errors"]), payload
    return [error["field"] for error in payload["errors"]]


async def task_count(env: Env, who: Person) -> int:
    return int((await env.api.data(COUNT, token=who.token))["tasks"]["totalCount"])


async def mutate(env: Env, name: str, query: str, given: dict[str, Any], who: Person) -> Any:
    return await env.api.mutate(name, query, {"input": given}, who.token)


def new_task(provider: Provider, **given: Any) -> dict[str, Any]:
    return {"name": "Call", "dueDate": "2027-03-10", "responsibleIds": [provider.admin.id], **given}


# ---------------------------------------------------------------- dates


async def test_due_dates_outside_the_range_are_form_errors_and_nothing_is_saved(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin

    for due in OUT_OF_RANGE:
        payload = await mutate(
            env, "createTask", CREATE_TASK, new_task(provider, dueDate=due), admin
        )
        assert payload["task"] is None
        assert fields(payload) == [["input", "dueDate"]], due
        assert "between 1900-01-01 and 2200-12-31" in payload["errors"][0]["message"]
    assert await task_count(env, admin) == 0

    for due in ("1900-01-01", "2200-12-31"):
        payload = await mutate(
            env, "createTask", CREATE_TASK, new_task(provider, dueDate=due), admin
        )
        assert payload["task"]["dueDate"] == due


async def test_edits_postponements_and_repeats_refuse_dates_outside_the_range(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin
    task = await env.world.task(admin)
    late = await env.world.task(admin, dueDate="2200-12-30")

    edit = await mutate(
        env, "updateTask", UPDATE_TASK, {"id": task["id"], "dueDate": "9999-12-31"}, admin
    )
    assert fields(edit) == [["input", "dueDate"]]
    custom = await mutate(
        env,
        "postponeTask",
        POSTPONE,
        {"id": task["id"], "by": "CUSTOM", "customDate": "9999-12-31"},
        admin,
    )
    assert fields(custom) == [["input", "customDate"]]
    by_weeks = await mutate(
        env, "postponeTask", POSTPONE, {"id": late["id"], "by": "ONE_WEEK"}, admin
    )
    assert fields(by_weeks) == [["input", "by"]]
    repeating = await mutate(
        env,
        "createTask",
        CREATE_TASK,
        new_task(provider, recurrence={"frequency": "WEEKLY", "until": "9999-12-31"}),
        admin,
    )
    assert fields(repeating) == [["input", "recurrence", "until"]]

    stored = await env.api.data(
        "query($id: ID!) { task(id: $id) { dueDate version } }", {"id": task["id"]}, admin.token
    )
    assert stored["task"] == {"dueDate": task["dueDate"], "version": task["version"]}
    assert await task_count(env, admin) == 2


async def test_record_employment_far_in_the_future_is_a_form_error_not_internal(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin
    client = await env.world.client(provider, caseworker=admin)

    for start in ("9999-12-31", "0001-01-01"):
        payload = await mutate(
            env,
            "recordEmployment",
            RECORD,
            {"clientId": client, "employer": "Acme", "startDate": start},
            admin,
        )
        assert payload["employment"] is None and payload["outreachTasks"] == []
        assert fields(payload) == [["input", "startDate"]]
    assert await task_count(env, admin) == 0

    recorded = await mutate(
        env,
        "recordEmployment",
        RECORD,
        {"clientId": client, "employer": "Acme", "startDate": "2027-01-31"},
        admin,
    )
    ended = await mutate(
        env,
        "endEmployment",
        END,
        {"employmentId": recorded["employment"]["id"], "endDate": "9999-12-31"},
        admin,
    )
    assert fields(ended) == [["input", "endDate"]]


async def test_filters_outside_the_range_are_bad_input(env: Env) -> None:
    provider = await env.world.provider()

    for bound in ("dueFrom", "dueTo"):
        codes = await env.api.error_codes(
            f'{{ tasks(filter: {{{bound}: "9999-12-31"}}) {{ totalCount }} }}',
            token=provider.admin.token,
        )
        assert codes == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("character", BAD_IN_NAMES, ids=lambda c: f"U+{ord(c):04X}")
async def test_task_names_refuse_control_and_direction_characters(env: Env, character: str) -> None:
    provider = await env.world.provider()
    name = f"Call {character}Sam"

    payload = await mutate(
        env, "createTask", CREATE_TASK, new_task(provider, name=name), provider.admin
    )

    assert fields(payload) == [["input", "name"]]
    assert f"U+{ord(character):04X}" in payload["errors"][0]["message"]
    assert await task_count(env, provider.admin) == 0


async def test_details_keep_line_breaks_and_tabs_but_refuse_other_controls(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin
    multiline = "First line\r\n\tindented\nlast"

    kept = await mutate(
        env, "createTask", CREATE_TASK, new_task(provider, details=multiline), admin
    )
    assert kept["errors"] == []
    for bad in ("colour \x1b[31m", "\u202eevil", "nul\x00"):
        refused = await mutate(
            env, "createTask", CREATE_TASK, new_task(provider, details=bad), admin
        )
        assert fields(refused) == [["input", "details"]]
        edited = await mutate(
            env, "updateTask", UPDATE_TASK, {"id": kept["task"]["id"], "details": bad}, admin
        )
        assert fields(edited) == [["input", "details"]]
    assert await task_count(env, admin) == 1


async def test_people_and_employers_refuse_control_and_direction_characters(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin
    member = await env.world.staff(provider)
    client = await env.world.client(provider)
    bad = "Sam\u202eeL"

    staff = await mutate(
        env,
        "createStaff",
        CREATE_STAFF,
        {"name": bad, "email": "x@example.org", "password": "long enough pw"},
        admin,
    )
    assert fields(staff) == [["input", "name"]]
    renamed = await mutate(
        env, "updateStaff", UPDATE_STAFF, {"id": member.id, "name": "A\x00B"}, admin
    )
    assert fields(renamed) == [["input", "name"]]
    created = await mutate(env, "createClient", CREATE_CLIENT, {"name": bad}, admin)
    assert fields(created) == [["input", "name"]]
    updated = await mutate(
        env, "updateClient", UPDATE_CLIENT, {"id": client, "name": "Tab\there"}, admin
    )
    assert fields(updated) == [["input", "name"]]
    employer = await mutate(
        env,
        "recordEmployment",
        RECORD,
        {"clientId": client, "employer": "\u2066Acme", "startDate": "2027-01-31"},
        admin,
    )
    assert fields(employer) == [["input", "employer"]]


async def test_provider_group_and_administrator_names_are_checked_too(env: Env) -> None:
    for given in ({"name": "North\u202eside"}, {"group": "Net\x07work"}):
        with pytest.raises(InvalidInput) as refused:
            await env.world.provider(**given)
        assert refused.value.problems[0].field in (("input", "name"), ("input", "group"))


def test_names_from_right_to_left_scripts_are_fine() -> None:
    assert text_problem("محمد عبد الله", "Name") is None
    assert text_problem("שרה כהן (Sarah)", "Name") is None
    assert text_problem("Zoë O'Brien-Łukasz", "Name") is None
