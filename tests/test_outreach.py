"""Post-Employment Outreach over HTTP: four separate tasks at 1, 3, 6 and 12 calendar months."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Env
from tests.factories import Person, Provider

OUTREACH = """
    id name dueDate status kind milestoneMonth version
    client { id name }
    responsible { id name }
    series { id }
    history { kind summary }
"""
RECORD = (
    "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
    " employment { id employer startDate endDate }"
    " outreachTasks { " + OUTREACH + " } errors { field code message } } }"
)
END = (
    "mutation($input: EndEmploymentInput!) { endEmployment(input: $input) {"
    " employment { id employer startDate endDate }"
    " outreachTasks { id dueDate milestoneMonth } errors { field code message } } }"
)
DELETE = (
    "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
    " deletedIds errors { field code message } } }"
)
OUTREACH_LIST = (
    "{ tasks(filter: {kind: POST_EMPLOYMENT_OUTREACH, includeCompleted: true}) {"
    " totalCount edges { node { id dueDate milestoneMonth status } } } }"
)
CLIENT = (
    "query($id: ID!) { client(id: $id) { employments { id employer startDate endDate }"
    " tasks(includeCompleted: true) { totalCount edges { node { id kind dueDate } } } } }"
)


async def record(
    env: Env, by: Person, client_id: str, start: str | None, employer: str | None = "Harbour Cafe"
) -> dict[str, Any]:
    return await env.api.mutate(
        "recordEmployment",
        RECORD,
        {"input": {"clientId": client_id, "employer": employer, "startDate": start}},
        by.token,
    )


async def recorded(env: Env, by: Person, client_id: str, start: str) -> dict[str, Any]:
    result = await record(env, by, client_id, start)
    assert result["errors"] == [], result["errors"]
    return result


async def end(
    env: Env, by: Person, employment_id: str, end_date: str, cancel: bool | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"employmentId": employment_id, "endDate": end_date}
    if cancel is not None:
        fields["cancelRemainingOutreach"] = cancel
    return await env.api.mutate("endEmployment", END, {"input": fields}, by.token)


async def outreach_list(env: Env, by: Person) -> list[dict[str, Any]]:
    data = await env.api.data(OUTREACH_LIST, token=by.token)
    return [e["node"] for e in data["tasks"]["edges"]]


async def delete(env: Env, by: Person, task_id: str, scope: str = "THIS") -> list[str]:
    result = await env.api.mutate(
        "deleteTask", DELETE, {"input": {"id": task_id, "scope": scope}}, by.token
    )
    assert result["errors"] == [], result["errors"]
    return result["deletedIds"]  # type: ignore[no-any-return]


async def caseworker_and_client(env: Env) -> tuple[Provider, Person, str]:
    provider = await env.world.provider()
    carla = await env.world.staff(provider, "Carla Mendes")
    client = await env.world.client(provider, "Daniel Harris", caseworker=carla)
    return provider, carla, client


def dates(tasks: list[dict[str, Any]]) -> list[str]:
    return [t["dueDate"] for t in tasks]


# ---------------------------------------------------------------- recordEmployment


async def test_a_job_starting_31_january_gets_four_clamped_outreach_tasks(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    result = await recorded(env, provider.admin, client, "2027-01-31")
    employment = result["employment"]
    assert (employment["employer"], employment["startDate"], employment["endDate"]) == (
        "Harbour Cafe",
        "2027-01-31",
        None,
    )
    tasks = result["outreachTasks"]
    assert [(t["milestoneMonth"], t["dueDate"]) for t in tasks] == [
        (1, "2027-02-28"),
        (3, "2027-04-30"),
        (6, "2027-07-31"),
        (12, "2028-01-31"),
    ]
    for task in tasks:
        assert (task["kind"], task["status"], task["series"]) == (
            "POST_EMPLOYMENT_OUTREACH",
            "OPEN",
            None,
        )
        assert task["client"] == {"id": client, "name": "Daniel Harris"}
        assert task["responsible"] == [{"id": carla.id, "name": "Carla Mendes"}]
        assert [e["kind"] for e in task["history"]] == ["CREATED"]
    assert len({t["id"] for t in tasks}) == 4
    assert len({t["name"] for t in tasks}) == 4  # each says which milestone it is

    listed = await outreach_list(env, carla)
    assert sorted(dates(listed)) == ["2027-02-28", "2027-04-30", "2027-07-31", "2028-01-31"]
    data = await env.api.data(CLIENT, {"id": client}, carla.token)
    assert data["client"]["employments"] == [employment]
    assert data["client"]["tasks"]["totalCount"] == 4


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2028-01-31", ["2028-02-29", "2028-04-30", "2028-07-31", "2029-01-31"]),  # leap year
        ("2027-08-31", ["2027-09-30", "2027-11-30", "2028-02-29", "2028-08-31"]),
        ("2027-03-31", ["2027-04-30", "2027-06-30", "2027-09-30", "2028-03-31"]),
        ("2028-02-29", ["2028-03-29", "2028-05-29", "2028-08-29", "2029-02-28"]),
        ("2027-03-01", ["2027-04-01", "2027-06-01", "2027-09-01", "2028-03-01"]),
    ],
)
async def test_milestones_are_calendar_months_clamped_to_the_months_last_day(
    env: Env, start: str, expected: list[str]
) -> None:
    provider, _carla, client = await caseworker_and_client(env)
    result = await recorded(env, provider.admin, client, start)
    assert dates(result["outreachTasks"]) == expected


async def test_a_client_without_a_caseworker_gets_unassigned_outreach_and_an_alert(
    env: Env,
) -> None:
    provider = await env.world.provider()
    colleague = await env.world.staff(provider, "Eve Tran")
    client = await env.world.client(provider, "Fatima Noor")
    result = await recorded(env, provider.admin, client, "2027-03-15")
    tasks = result["outreachTasks"]
    assert [t["responsible"] for t in tasks] == [[], [], [], []]
    data = await env.api.data(
        "{ notifications { unreadCount edges { node { kind task { id } } } } }",
        token=colleague.token,
    )
    alerts = [e["node"] for e in data["notifications"]["edges"]]
    assert {a["kind"] for a in alerts} == {"UNASSIGNED_TASK"}
    assert sorted(a["task"]["id"] for a in alerts) == sorted(t["id"] for t in tasks)


async def test_an_inactive_caseworker_leaves_the_outreach_unassigned(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    deactivated = await env.api.mutate(
        "updateStaff",
        "mutation($id: ID!) { updateStaff(input: {id: $id, active: false}) {"
        " staff { id } errors { message } } }",
        {"id": carla.id},
        provider.admin.token,
    )
    assert deactivated["errors"] == []
    result = await recorded(env, provider.admin, client, "2027-03-15")
    assert [t["responsible"] for t in result["outreachTasks"]] == [[], [], [], []]


async def test_the_caseworker_is_told_when_someone_else_records_the_job(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    await recorded(env, provider.admin, client, "2027-03-15")
    data = await env.api.data(
        "{ notifications { edges { node { kind task { dueDate } } } } }", token=carla.token
    )
    assert sorted(
        e["node"]["task"]["dueDate"]
        for e in data["notifications"]["edges"]
        if e["node"]["kind"] == "TASK_ASSIGNED"
    ) == ["2027-04-15", "2027-06-15", "2027-09-15", "2028-03-15"]


async def test_record_employment_errors_come_back_at_once_and_nothing_is_saved(
    env: Env,
) -> None:
    _provider, carla, client = await caseworker_and_client(env)
    result = await record(env, carla, client, None, employer="  ")
    assert result["employment"] is None and result["outreachTasks"] == []
    assert sorted((tuple(e["field"]), e["code"]) for e in result["errors"]) == [
        (("input", "employer"), "REQUIRED"),
        (("input", "startDate"), "REQUIRED"),
    ]
    too_long = await record(env, carla, client, "2027-03-01", employer="x" * 201)
    assert [e["field"] for e in too_long["errors"]] == [["input", "employer"]]
    assert await outreach_list(env, carla) == []
    data = await env.api.data(CLIENT, {"id": client}, carla.token)
    assert data["client"]["employments"] == []


async def test_only_staff_of_the_clients_provider_may_record_a_job(env: Env) -> None:
    provider, _carla, client = await caseworker_and_client(env)
    stranger = await env.world.provider()
    codes = await env.api.error_codes(
        RECORD,
        {"input": {"clientId": client, "employer": "X", "startDate": "2027-03-01"}},
        stranger.admin.token,
    )
    assert codes == ["NOT_FOUND"]
    no_tasks = await env.world.staff(provider, "Gil Park", tasks=False)
    codes = await env.api.error_codes(
        RECORD,
        {"input": {"clientId": client, "employer": "X", "startDate": "2027-03-01"}},
        no_tasks.token,
    )
    assert codes == ["FORBIDDEN"]
    codes = await env.api.error_codes(
        RECORD, {"input": {"clientId": client, "employer": "X", "startDate": "2027-03-01"}}
    )
    assert codes == ["UNAUTHENTICATED"]
    assert await outreach_list(env, provider.admin) == []


# ---------------------------------------------------------------- separate tasks


@pytest.mark.parametrize("scope", ["THIS", "THIS_AND_FOLLOWING"])
async def test_deleting_one_outreach_task_leaves_the_other_three(env: Env, scope: str) -> None:
    provider, carla, client = await caseworker_and_client(env)
    tasks = (await recorded(env, provider.admin, client, "2027-01-31"))["outreachTasks"]
    assert await delete(env, carla, tasks[1]["id"], scope) == [tasks[1]["id"]]
    left = await outreach_list(env, carla)
    assert [(t["milestoneMonth"], t["dueDate"]) for t in left] == [
        (1, "2027-02-28"),
        (6, "2027-07-31"),
        (12, "2028-01-31"),
    ]


async def test_each_outreach_task_is_completed_and_postponed_on_its_own(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    tasks = (await recorded(env, provider.admin, client, "2027-03-01"))["outreachTasks"]
    done = await env.api.mutate(
        "completeTask",
        "mutation($id: ID!) { completeTask(input: {id: $id}) {"
        " task { status } errors { message } } }",
        {"id": tasks[0]["id"]},
        carla.token,
    )
    assert done["task"]["status"] == "COMPLETED"
    moved = await env.api.mutate(
        "postponeTask",
        "mutation($id: ID!) { postponeTask(input: {id: $id, by: TWO_WEEKS}) {"
        " task { dueDate } errors { message } } }",
        {"id": tasks[1]["id"]},
        carla.token,
    )
    assert moved["task"]["dueDate"] == "2027-06-15"
    listed = {t["id"]: t for t in await outreach_list(env, carla)}
    assert [(listed[t["id"]]["status"], listed[t["id"]]["dueDate"]) for t in tasks] == [
        ("COMPLETED", "2027-04-01"),
        ("OPEN", "2027-06-15"),
        ("OPEN", "2027-09-01"),
        ("OPEN", "2028-03-01"),
    ]


# ---------------------------------------------------------------- endEmployment


async def test_ending_a_job_with_cancel_deletes_the_open_outreach_due_after_it(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    first = await recorded(env, provider.admin, client, "2027-01-31")
    tasks = first["outreachTasks"]
    # The 6-month follow-up was done early: completed tasks stay, with their history.
    await env.api.mutate(
        "completeTask",
        "mutation($id: ID!) { completeTask(input: {id: $id}) { errors { message } } }",
        {"id": tasks[2]["id"]},
        carla.token,
    )
    # Another job of the same client keeps its outreach.
    other = await recorded(env, provider.admin, client, "2027-02-15")

    result = await end(env, carla, first["employment"]["id"], "2027-04-30", cancel=True)
    assert result["errors"] == []
    assert result["employment"]["endDate"] == "2027-04-30"
    # The 3-month task is due on the end date itself, so it stays.
    assert [(t["milestoneMonth"], t["dueDate"]) for t in result["outreachTasks"]] == [
        (12, "2028-01-31")
    ]
    assert result["outreachTasks"][0]["id"] == tasks[3]["id"]
    left = {t["id"]: t for t in await outreach_list(env, carla)}
    assert [t["id"] in left for t in tasks] == [True, True, True, False]
    assert left[tasks[2]["id"]]["status"] == "COMPLETED"
    assert all(t["id"] in left for t in other["outreachTasks"])
    data = await env.api.data(CLIENT, {"id": client}, carla.token)
    assert {e["endDate"] for e in data["client"]["employments"]} == {"2027-04-30", None}


async def test_ending_a_job_without_cancel_keeps_every_outreach_task(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    first = await recorded(env, provider.admin, client, "2027-01-31")
    result = await end(env, carla, first["employment"]["id"], "2027-02-01")
    assert result["errors"] == [] and result["outreachTasks"] == []
    assert result["employment"]["endDate"] == "2027-02-01"
    assert len(await outreach_list(env, carla)) == 4


async def test_ending_a_job_before_it_started_is_refused(env: Env) -> None:
    provider, carla, client = await caseworker_and_client(env)
    first = await recorded(env, provider.admin, client, "2027-03-01")
    result = await end(env, carla, first["employment"]["id"], "2027-02-28", cancel=True)
    assert result["employment"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        (["input", "endDate"], "INVALID")
    ]
    assert len(await outreach_list(env, carla)) == 4
    stranger = await env.world.provider()
    codes = await env.api.error_codes(
        END,
        {"input": {"employmentId": first["employment"]["id"], "endDate": "2027-05-01"}},
        stranger.admin.token,
    )
    assert codes == ["NOT_FOUND"]
