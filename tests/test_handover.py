"""handOverCaseload (contract v2): a departing caseworker's open tasks (outreach and occurrences
included), the future occurrences of their repeating tasks and, optionally, their clients go to
a colleague in one transaction, with one REASSIGNED event per task and one CASELOAD_RECEIVED."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Env
from tests.factories import Person
from tests.test_series import WEEKLY, repeating, run_scheduler, series

HAND_OVER = """mutation($i: HandOverCaseloadInput!) { handOverCaseload(input: $i) {
  tasks series clients errors { field code message } } }"""
TASK = """query($id: ID!) { task(id: $id) {
  status version responsible { name } history { kind summary } } }"""
CLIENT = "query($id: ID!) { client(id: $id) { caseworker { name } } }"
NOTIFICATIONS = "{ notifications(first: 200) { edges { node { kind message } } } }"
RECORD = """mutation($i: RecordEmploymentInput!) { recordEmployment(input: $i) {
  outreachTasks { id } errors { message } } }"""
COMPLETE = "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { errors { message } } }"
DEACTIVATE = """mutation($i: UpdateStaffInput!) { updateStaff(input: $i) {
  errors { message } } }"""


async def task_state(env: Env, viewer: Person, task_id: str) -> dict[str, Any]:
    return (await env.api.data(TASK, {"id": task_id}, viewer.token))["task"]  # type: ignore[no-any-return]


async def caseworker(env: Env, viewer: Person, client_id: str) -> str | None:
    found = (await env.api.data(CLIENT, {"id": client_id}, viewer.token))["client"]["caseworker"]
    return None if found is None else str(found["name"])


async def received(env: Env, viewer: Person) -> list[dict[str, Any]]:
    edges = (await env.api.data(NOTIFICATIONS, token=viewer.token))["notifications"]["edges"]
    return [e["node"] for e in edges]


async def test_a_caseload_of_tasks_series_and_clients_moves_row_by_row(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    admin = provider.admin
    ana = await world.staff(provider, "Ana Leaving")
    ben = await world.staff(provider, "Ben Taking Over")
    cleo = await world.staff(provider, "Cleo Colleague")

    client = await world.client(provider, "Dana Client", caseworker=ana)
    other_client = await world.client(provider, "Eli Client", caseworker=cleo)
    outreach = await env.api.mutate(
        "recordEmployment",
        RECORD,
        {"i": {"clientId": client, "employer": "Acme", "startDate": "2027-03-01"}},
        admin.token,
    )
    outreach_ids = [t["id"] for t in outreach["outreachTasks"]]
    assert len(outreach_ids) == 4
    alone = await world.task(ana, name="Ana alone")
    shared = await world.task(ana, name="Shared", responsibleIds=[ana.id, cleo.id])
    both = await world.task(ana, name="Already Ben's too", responsibleIds=[ana.id, ben.id])
    done = await world.task(ana, name="Done")
    await env.api.mutate("completeTask", COMPLETE, {"i": {"id": done["id"]}}, ana.token)
    not_hers = await world.task(cleo, name="Cleo's")
    weekly = await repeating(env, ana, WEEKLY, name="Weekly check-in")
    cleo_weekly = await repeating(env, cleo, WEEKLY, name="Cleo weekly")
    moving = [*outreach_ids, alone["id"], shared["id"], both["id"], weekly["id"]]
    before = {i: await task_state(env, admin, i) for i in moving}

    payload = await env.api.mutate(
        "handOverCaseload",
        HAND_OVER,
        {"i": {"fromStaffId": ana.id, "toStaffId": ben.id}},
        admin.token,
    )
    assert payload == {"tasks": 8, "series": 1, "clients": 1, "errors": []}

    expected = {
        alone["id"]: ["Ben Taking Over"],
        shared["id"]: ["Ben Taking Over", "Cleo Colleague"],
        both["id"]: ["Ben Taking Over"],
        weekly["id"]: ["Ben Taking Over"],
        **{i: ["Ben Taking Over"] for i in outreach_ids},
    }
    for task_id, names in expected.items():
        after = await task_state(env, admin, task_id)
        assert [r["name"] for r in after["responsible"]] == names, task_id
        assert after["version"] == before[task_id]["version"] + 1
        assert after["history"][:-1] == before[task_id]["history"]
        assert after["history"][-1]["kind"] == "REASSIGNED"
        assert "Ana Leaving -> Ben Taking Over" in after["history"][-1]["summary"]
    assert [r["name"] for r in (await task_state(env, admin, done["id"]))["responsible"]] == [
        "Ana Leaving"
    ]
    assert [r["name"] for r in (await task_state(env, admin, not_hers["id"]))["responsible"]] == [
        "Cleo Colleague"
    ]
    assert await caseworker(env, admin, client) == "Ben Taking Over"
    assert await caseworker(env, admin, other_client) == "Cleo Colleague"

    # One CASELOAD_RECEIVED saying how much arrived, not one per task.
    notes = [n for n in await received(env, ben) if n["kind"] != "TASK_ASSIGNED"]
    assert [n["kind"] for n in notes] == ["CASELOAD_RECEIVED"]  # ("both" told Ben before)
    assert "8 tasks, 1 repeating task, 1 client" in notes[0]["message"]

    # The next occurrence of Ana's series is Ben's; Cleo's series is untouched.
    env.clock.advance(timedelta(days=7))
    admin.token = await world.login(admin.email)
    assert await run_scheduler(env) == 2
    found = await series(env, weekly["series"]["id"], admin)
    newest = max(found["occurrences"]["edges"], key=lambda e: e["node"]["dueDate"])["node"]
    assert [r["name"] for r in newest["responsible"]] == ["Ben Taking Over"]
    cleo_found = await series(env, cleo_weekly["series"]["id"], admin)
    assert all(
        [r["name"] for r in e["node"]["responsible"]] == ["Cleo Colleague"]
        for e in cleo_found["occurrences"]["edges"]
    )
    # Nothing of Ana's is left open.
    async with env.engine.connect() as connection:
        left = await connection.scalar(
            text(
                "SELECT count(*) FROM task_responsible r JOIN task t ON t.id = r.task_id "
                "JOIN staff s ON s.id = r.staff_id WHERE s.name = 'Ana Leaving' "
                "AND t.status = 'OPEN'"
            )
        )
    assert left == 0


async def test_clients_stay_when_not_included_and_an_empty_caseload_is_no_error(
    env: Env,
) -> None:
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Leaving")
    ben = await world.staff(provider, "Ben Taking Over")
    client = await world.client(provider, caseworker=ana)
    await world.task(ana)
    payload = await env.api.mutate(
        "handOverCaseload",
        HAND_OVER,
        {"i": {"fromStaffId": ana.id, "toStaffId": ben.id, "includeClients": False}},
        provider.admin.token,
    )
    assert payload == {"tasks": 1, "series": 0, "clients": 0, "errors": []}
    assert await caseworker(env, provider.admin, client) == "Ana Leaving"

    empty = await env.api.mutate(
        "handOverCaseload",
        HAND_OVER,
        {"i": {"fromStaffId": ben.id, "toStaffId": ana.id, "includeClients": False}},
        provider.admin.token,
    )
    # Ben's one task (just received) goes back; then Ana has nothing to give.
    assert empty["tasks"] == 1
    nothing = await env.api.mutate(
        "handOverCaseload",
        HAND_OVER,
        {"i": {"fromStaffId": ben.id, "toStaffId": ana.id}},
        provider.admin.token,
    )
    assert nothing == {"tasks": 0, "series": 0, "clients": 0, "errors": []}
    # No CASELOAD_RECEIVED for nothing.
    assert [n["kind"] for n in await received(env, ana)] == ["CASELOAD_RECEIVED"]


async def test_who_may_hand_over_and_to_whom(env: Env) -> None:
    world = env.world
    provider = await world.provider()
    admin = provider.admin
    ana = await world.staff(provider, "Ana Leaving")
    ben = await world.staff(provider, "Ben")
    desk = await world.staff(provider, "Desk", tasks=False)
    gone = await world.staff(provider, "Gone")
    await env.api.mutate(
        "updateStaff", DEACTIVATE, {"i": {"id": gone.id, "active": False}}, admin.token
    )
    task = await world.task(ana)
    other = await world.provider()
    outsider = await world.staff(other)

    def ask(giver: Person, taker: Person) -> dict[str, Any]:
        return {"i": {"fromStaffId": giver.id, "toStaffId": taker.id}}

    assert await env.api.error_codes(HAND_OVER, ask(ana, ben), ben.token) == ["FORBIDDEN"]
    assert await env.api.error_codes(HAND_OVER, ask(ana, ben)) == ["UNAUTHENTICATED"]
    assert await env.api.error_codes(HAND_OVER, ask(ana, outsider), admin.token) == ["NOT_FOUND"]
    assert await env.api.error_codes(HAND_OVER, ask(outsider, ben), admin.token) == ["NOT_FOUND"]
    assert await env.api.error_codes(HAND_OVER, ask(ana, ben), other.admin.token) == ["NOT_FOUND"]
    for taker, words in ((ana, "someone other"), (desk, "Tasks permission"), (gone, "deactivated")):
        payload = await env.api.mutate("handOverCaseload", HAND_OVER, ask(ana, taker), admin.token)
        [error] = payload["errors"]
        assert error["field"] == ["input", "toStaffId"] and words in error["message"]
        assert payload["tasks"] == 0
    assert (await task_state(env, admin, task["id"]))["version"] == task["version"]
