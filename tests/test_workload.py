"""Query.workload (contract v2): each staff member's open, overdue and soon-due tasks, what they
completed in 30 days, and the provider's Unassigned tasks, in the provider's timezone, equal to
the task list's own counts; administrators see everyone who may use the Tasks screen, other
staff their own row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Env
from tests.factories import Person, Provider

WORKLOAD = """query($days: Int) { workload(dueWithinDays: $days) {
  unassigned
  staff { staff { id name } open overdue dueSoon completedLast30Days }
} }"""
COUNT = "query($f: TaskFilter) { tasks(filter: $f) { totalCount } }"
COMPLETE = "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { errors { message } } }"
REASSIGN = "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { errors { message } } }"


async def listed(env: Env, viewer: Person, **task_filter: Any) -> int:
    data = await env.api.data(COUNT, {"f": task_filter}, viewer.token)
    return int(data["tasks"]["totalCount"])


async def rows(env: Env, viewer: Person, days: int | None = 7) -> dict[str, Any]:
    return (await env.api.data(WORKLOAD, {"days": days}, viewer.token))["workload"]


async def later(env: Env, delta: timedelta, *people: Person) -> None:
    """Moves the clock on; everyone signs in again (tokens expire meanwhile)."""
    env.clock.advance(delta)
    for person in people:
        person.token = await env.world.login(person.email)


async def a_caseload(env: Env) -> tuple[Provider, Person, Person, Person]:
    """At 2027-03-01 10:00 in Sydney: Ana with five tasks (one completed), Ben with one, and one
    task made Unassigned; then two days pass."""
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    ben = await world.staff(provider, "Ben Caseworker")
    no_tasks = await world.staff(provider, "Reception Desk", tasks=False)
    for due in ("2027-03-01", "2027-03-02", "2027-03-05", "2027-03-20"):
        await world.task(ana, dueDate=due)
    done = await world.task(ana, dueDate="2027-03-04")
    await env.api.mutate("completeTask", COMPLETE, {"i": {"id": done["id"]}}, ana.token)
    await world.task(ben, dueDate="2027-03-03")
    loose = await world.task(provider.admin, dueDate="2027-03-06", responsibleIds=[ben.id])
    await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"i": {"id": loose["id"], "responsibleIds": []}},
        provider.admin.token,
    )
    await later(env, timedelta(days=2), provider.admin, ana, ben, no_tasks)  # Sydney 03-03 10:00
    return provider, ana, ben, no_tasks


async def test_an_administrator_sees_everyone_and_every_figure_matches_the_task_list(
    env: Env,
) -> None:
    provider, _ana, _ben, no_tasks = await a_caseload(env)
    other = await env.world.provider()
    await env.world.task(other.admin, dueDate="2027-03-02")

    env.sql.reset()
    await env.api.data(
        "{ workload { unassigned staff { open overdue dueSoon completedLast30Days } } }",
        token=provider.admin.token,
    )
    counted = [q for q in env.sql.statements if "task_responsible" in q or "count(" in q.lower()]
    assert len(counted) == 1, env.sql.statements  # one statement, whatever the staff count
    assert env.sql.count == 2, env.sql.statements  # and the viewer's own lookup

    workload = await rows(env, provider.admin)
    by_name = {row["staff"]["name"]: row for row in workload["staff"]}
    assert set(by_name) == {provider.admin.name, "Ana Caseworker", "Ben Caseworker"}
    assert next(row["staff"]["name"] for row in workload["staff"]) == "Ana Caseworker"
    assert {k: v for k, v in by_name["Ana Caseworker"].items() if k != "staff"} == {
        "open": 4,
        "overdue": 2,
        "dueSoon": 1,
        "completedLast30Days": 1,
    }
    assert by_name["Ben Caseworker"]["overdue"] == 0 and by_name["Ben Caseworker"]["dueSoon"] == 1
    assert workload["unassigned"] == 1

    admin = provider.admin
    for row in workload["staff"]:
        who = row["staff"]["id"]
        assert row["open"] == await listed(env, admin, responsibleId=who)
        assert row["overdue"] == await listed(env, admin, responsibleId=who, overdue=True)
        soon = await listed(env, admin, responsibleId=who, dueFrom="2027-03-03", dueTo="2027-03-10")
        assert row["dueSoon"] == soon
    assert workload["unassigned"] == await listed(env, admin, unassigned=True)
    # A longer horizon takes in more; today alone, only what is due today.
    assert {r["staff"]["name"]: r["dueSoon"] for r in (await rows(env, admin, 30))["staff"]}[
        "Ana Caseworker"
    ] == 2
    assert {r["staff"]["name"]: r["dueSoon"] for r in (await rows(env, admin, 0))["staff"]}[
        "Ben Caseworker"
    ] == 1
    assert no_tasks.name not in by_name


async def test_staff_see_their_own_row_and_others_are_refused(env: Env) -> None:
    _provider, ana, _ben, no_tasks = await a_caseload(env)
    own = await rows(env, ana)
    assert [row["staff"]["name"] for row in own["staff"]] == ["Ana Caseworker"]
    assert own["unassigned"] == 1
    assert await env.api.error_codes(WORKLOAD, {"days": 7}, no_tasks.token) == ["FORBIDDEN"]
    assert await env.api.error_codes(WORKLOAD, {"days": 7}) == ["UNAUTHENTICATED"]
    body = await env.api.post(WORKLOAD, {"days": -1}, ana.token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "dueWithinDays" in body["errors"][0]["message"]
    # null takes the default of 7 days.
    assert (await rows(env, ana, None)) == (await rows(env, ana, 7))


async def test_overdue_is_judged_in_the_providers_timezone(env: Env) -> None:
    # 2027-02-28 23:00 UTC: already 2027-03-01 in Sydney, still 2027-02-28 in London.
    london = await env.world.provider(timezone="Europe/London")
    sydney = await env.world.provider(timezone="Australia/Sydney")
    await env.world.task(london.admin, dueDate="2027-03-01")
    await env.world.task(sydney.admin, dueDate="2027-03-01")
    # London 2027-03-01 23:00, Sydney 2027-03-02 10:00.
    await later(env, timedelta(days=1), london.admin, sydney.admin)
    in_london = (await rows(env, london.admin))["staff"][0]
    in_sydney = (await rows(env, sydney.admin))["staff"][0]
    assert (in_london["overdue"], in_london["dueSoon"]) == (0, 1)
    assert (in_sydney["overdue"], in_sydney["dueSoon"]) == (1, 0)
