"""Repeating tasks over HTTP: a series, its occurrences on their scheduled dates, edits and deletes.

The clock starts at 10:00 on Monday 1 March 2027 in Sydney; tests move it and run the scheduler
pass (what the server runs on a timer and `casetasks materialize` runs once).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from casetasks.scheduler import materialize_due
from tests.conftest import Env
from tests.factories import Person, Provider

MONDAY = date(2027, 3, 1)  # the clock's today at the start

OCCURRENCE = """
    id name details dueDate status kind overdue version
    responsible { id name }
    series { id }
    history { kind summary }
"""
SERIES_FIELDS = (
    "id name details rrule startDate until count upcoming(first: $upcoming)"
    " occurrences(first: 200) { totalCount edges { node { " + OCCURRENCE + " } } }"
)
SERIES = (
    "query($id: ID!, $upcoming: Int) { node(id: $id) { ... on TaskSeries { "
    + SERIES_FIELDS
    + " } } }"
)
CREATE = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { " + OCCURRENCE + " series { id rrule startDate until count upcoming(first: 6) } }"
    " errors { field code message } } }"
)
UPDATE = (
    "mutation($input: UpdateTaskInput!) { updateTask(input: $input) {"
    " task { " + OCCURRENCE + " series { id rrule startDate until upcoming(first: 4) } }"
    " errors { field code message } } }"
)
DELETE = (
    "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
    " deletedIds errors { field code message } } }"
)
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    " task { id status } errors { message } } }"
)
POSTPONE = (
    "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
    " task { id dueDate } errors { field message } } }"
)
REASSIGN = (
    "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
    " task { id responsible { id } } errors { message } } }"
)
LIST = (
    "query($filter: TaskFilter) { tasks(filter: $filter, first: 200) {"
    " totalCount edges { node { id name dueDate status kind series { id } } } } }"
)


# ---------------------------------------------------------------- helpers (shared with others)


def local(day: date, hour: int = 10, minute: int = 0, zone: str = "Australia/Sydney") -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


async def at(env: Env, moment: datetime, *people: Person) -> None:
    """Moves the clock and signs the people in again (tokens last 12 hours of clock time)."""
    env.clock.set(moment)
    for person in people:
        person.token = await env.world.login(person.email)


async def run_scheduler(env: Env) -> int:
    return await materialize_due(env.app.state.services)


async def repeating(
    env: Env, by: Person, recurrence: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """Creates a repeating task; its first occurrence (with the series)."""
    result = await try_repeating(env, by, recurrence, **fields)
    assert result["errors"] == [], result["errors"]
    return result["task"]  # type: ignore[no-any-return]


async def try_repeating(
    env: Env, by: Person, recurrence: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    fields.setdefault("name", "Weekly check-in")
    fields.setdefault("dueDate", MONDAY.isoformat())
    fields.setdefault("responsibleIds", [by.id])
    fields["recurrence"] = recurrence
    return await env.api.mutate("createTask", CREATE, {"input": fields}, by.token)


async def series(env: Env, series_id: str, by: Person, upcoming: int = 5) -> dict[str, Any]:
    data = await env.api.data(SERIES, {"id": series_id, "upcoming": upcoming}, by.token)
    assert data["node"] is not None
    return data["node"]  # type: ignore[no-any-return]


def occurrences(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in found["occurrences"]["edges"]]


def due_dates(found: dict[str, Any]) -> list[str]:
    return [node["dueDate"] for node in occurrences(found)]


def by_due(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = occurrences(found)
    table = {node["dueDate"]: node for node in nodes}
    assert len(table) == len(nodes), "two occurrences due the same day"
    return table


def days(*values: str) -> list[str]:
    return list(values)


async def task_list(env: Env, by: Person, **task_filter: Any) -> list[dict[str, Any]]:
    data = await env.api.data(LIST, {"filter": task_filter}, by.token)
    return [edge["node"] for edge in data["tasks"]["edges"]]


async def update(env: Env, by: Person, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("updateTask", UPDATE, {"input": fields}, by.token)


async def updated(env: Env, by: Person, **fields: Any) -> dict[str, Any]:
    result = await update(env, by, **fields)
    assert result["errors"] == [], result["errors"]
    return result["task"]  # type: ignore[no-any-return]


async def delete(env: Env, by: Person, task_id: str, scope: str = "THIS") -> list[str]:
    result = await env.api.mutate(
        "deleteTask", DELETE, {"input": {"id": task_id, "scope": scope}}, by.token
    )
    assert result["errors"] == [], result["errors"]
    return result["deletedIds"]  # type: ignore[no-any-return]


async def complete(env: Env, by: Person, task_id: str) -> None:
    result = await env.api.mutate("completeTask", COMPLETE, {"input": {"id": task_id}}, by.token)
    assert result["errors"] == [], result["errors"]


async def team(env: Env, timezone: str = "Australia/Sydney") -> tuple[Provider, Person, Person]:
    provider = await env.world.provider(timezone=timezone)
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    return provider, ana, ben


def rrule_dates(found: dict[str, Any], through: date) -> list[str]:
    """What dateutil's rrule yields for the stored RRULE text, up to `through`."""
    start = datetime.combine(date.fromisoformat(found["startDate"]), time())
    rule = rrulestr(found["rrule"], dtstart=start)
    return [
        m.date().isoformat() for m in rule.between(start, datetime.combine(through, time()), True)
    ]


WEEKLY = {"frequency": "WEEKLY"}


# ---------------------------------------------------------------- the bar


async def test_a_contract_client_creates_a_weekly_series_today_and_deletes_it(env: Env) -> None:
    """Contract fields only: one occurrence today, the right upcoming dates; deleting the
    series keeps the completed occurrence and leaves no upcoming dates."""
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    created = await env.api.mutate(
        "createTask",
        "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
        " task { id kind dueDate series { id rrule startDate upcoming(first: 4) } }"
        " errors { field code message } } }",
        {
            "input": {
                "name": "Weekly check-in",
                "dueDate": "2027-03-01",
                "responsibleIds": [ana.id],
                "recurrence": {"frequency": "WEEKLY", "interval": 1},
            }
        },
        ana.token,
    )
    assert created["errors"] == []
    task = created["task"]
    assert (task["kind"], task["dueDate"]) == ("REPEATING", "2027-03-01")
    assert task["series"]["rrule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"
    assert task["series"]["startDate"] == "2027-03-01"
    assert task["series"]["upcoming"] == days(
        "2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22"
    )

    listed = await task_list(env, ana, kind="REPEATING")
    assert [(t["id"], t["dueDate"]) for t in listed] == [(task["id"], "2027-03-01")]
    assert await run_scheduler(env) == 0  # nothing more is due today
    assert len(await task_list(env, ana)) == 1

    await complete(env, ana, task["id"])
    assert await delete(env, ana, task["id"], "THIS_AND_FOLLOWING") == []
    kept = await series(env, task["series"]["id"], ana)
    assert kept["upcoming"] == []
    [only] = occurrences(kept)
    assert (only["id"], only["status"]) == (task["id"], "COMPLETED")
    assert [e["kind"] for e in only["history"]] == ["CREATED", "COMPLETED"]

    await at(env, local(date(2027, 4, 5)), ana)
    assert await run_scheduler(env) == 0
    assert (await series(env, task["series"]["id"], ana))["occurrences"]["totalCount"] == 1


async def test_deleting_the_series_from_a_later_occurrence_keeps_earlier_and_completed_ones(
    env: Env,
) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    await at(env, local(date(2027, 3, 22)), ana)
    assert await run_scheduler(env) == 3
    made = by_due(await series(env, series_id, ana))
    assert list(made) == days("2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22")
    await complete(env, ana, made["2027-03-08"]["id"])
    await complete(env, ana, made["2027-03-22"]["id"])

    deleted = await delete(env, ana, made["2027-03-15"]["id"], "THIS_AND_FOLLOWING")
    assert deleted == [made["2027-03-15"]["id"]]
    after = await series(env, series_id, ana)
    assert after["upcoming"] == []
    kept = by_due(after)
    assert list(kept) == days("2027-03-01", "2027-03-08", "2027-03-22")
    assert [kept[d]["status"] for d in kept] == ["OPEN", "COMPLETED", "COMPLETED"]
    assert [e["kind"] for e in kept["2027-03-08"]["history"]] == ["CREATED", "COMPLETED"]

    # No further occurrences, ever: not by the scheduler, not after weeks.
    for week in range(1, 6):
        await at(env, local(date(2027, 3, 22) + timedelta(weeks=week)))
        assert await run_scheduler(env) == 0
    ana.token = await env.world.login(ana.email)
    assert list(by_due(await series(env, series_id, ana))) == list(kept)
    assert {t["dueDate"] for t in await task_list(env, ana, includeCompleted=True)} == set(kept)


# ---------------------------------------------------------------- rules and user errors


async def test_invalid_rules_are_user_errors_naming_the_field_and_nothing_is_saved(
    env: Env,
) -> None:
    _provider, ana, _ben = await team(env)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"frequency": "DAILY", "interval": 0}, ["input", "recurrence", "interval"]),
        ({"frequency": "WEEKLY", "interval": -3}, ["input", "recurrence", "interval"]),
        ({"frequency": "DAILY", "until": "2027-02-28"}, ["input", "recurrence", "until"]),
        ({"frequency": "MONTHLY", "byWeekday": ["MO"]}, ["input", "recurrence", "byWeekday"]),
        ({"frequency": "DAILY", "count": 0}, ["input", "recurrence", "count"]),
    ]
    for recurrence, field in cases:
        result = await try_repeating(env, ana, recurrence)
        assert result["task"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "INVALID")], (
            recurrence
        )
    both = await try_repeating(env, ana, {"frequency": "DAILY", "until": "2027-04-01", "count": 3})
    assert both["task"] is None
    [problem] = both["errors"]
    assert problem["field"][:2] == ["input", "recurrence"] and problem["code"] == "INVALID"

    everything = await try_repeating(
        env,
        ana,
        {"frequency": "YEARLY", "interval": 0, "byWeekday": ["TU"], "until": "2026-01-01"},
        name="",
    )
    assert sorted(tuple(e["field"]) for e in everything["errors"]) == sorted(
        [
            ("input", "name"),
            ("input", "recurrence", "interval"),
            ("input", "recurrence", "until"),
            ("input", "recurrence", "byWeekday"),
        ]
    )
    assert await task_list(env, ana, includeCompleted=True) == []
    assert await run_scheduler(env) == 0


async def test_weekdays_interval_and_until_make_the_rrule_and_the_dates(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await repeating(
        env,
        ana,
        {"frequency": "WEEKLY", "interval": 2, "byWeekday": ["FR", "MO"], "until": "2027-04-02"},
    )
    found = task["series"]
    assert found["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;UNTIL=20270402"
    assert (found["until"], found["count"]) == ("2027-04-02", None)
    assert found["upcoming"] == days(
        "2027-03-01", "2027-03-05", "2027-03-15", "2027-03-19", "2027-03-29", "2027-04-02"
    )
    await at(env, local(date(2027, 5, 1)), ana)
    assert await run_scheduler(env) == 5
    done = await series(env, found["id"], ana)
    assert due_dates(done) == found["upcoming"] == rrule_dates(done, date(2027, 5, 1))
    assert done["upcoming"] == []


async def test_a_counted_series_stops_after_its_count(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await repeating(env, ana, {"frequency": "DAILY", "interval": 3, "count": 4})
    assert task["series"]["rrule"] == "FREQ=DAILY;INTERVAL=3;COUNT=4"
    assert task["series"]["count"] == 4
    await at(env, local(date(2027, 3, 5)), ana)
    await run_scheduler(env)
    mid = await series(env, task["series"]["id"], ana)
    assert due_dates(mid) == days("2027-03-01", "2027-03-04")
    assert mid["upcoming"] == days("2027-03-07", "2027-03-10")
    await at(env, local(date(2027, 6, 1)), ana)
    await run_scheduler(env)
    end = await series(env, task["series"]["id"], ana)
    assert due_dates(end) == days("2027-03-01", "2027-03-04", "2027-03-07", "2027-03-10")
    assert end["upcoming"] == []


async def test_a_series_started_in_the_past_makes_the_due_occurrences_at_once(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    task = await repeating(env, ana, {"frequency": "DAILY"}, dueDate="2027-02-26")
    assert task["dueDate"] == "2027-02-26"
    found = await series(env, task["series"]["id"], ana)
    assert due_dates(found) == days("2027-02-26", "2027-02-27", "2027-02-28", "2027-03-01")
    assert found["upcoming"][:2] == days("2027-03-01", "2027-03-02")
    assert await run_scheduler(env) == 0


async def test_a_series_starting_later_shows_its_first_occurrence_and_nothing_more(
    env: Env,
) -> None:
    _provider, ana, _ben = await team(env)
    task = await repeating(env, ana, {"frequency": "DAILY"}, dueDate="2027-03-10")
    await at(env, local(date(2027, 3, 9)), ana)
    assert await run_scheduler(env) == 0
    found = await series(env, task["series"]["id"], ana, upcoming=3)
    assert due_dates(found) == days("2027-03-10")
    assert found["upcoming"] == days("2027-03-10", "2027-03-11", "2027-03-12")
    await at(env, local(date(2027, 3, 11)), ana)
    assert await run_scheduler(env) == 1
    assert due_dates(await series(env, task["series"]["id"], ana)) == days(
        "2027-03-10", "2027-03-11"
    )


# ---------------------------------------------------------------- on their scheduled date


async def test_an_occurrence_enters_the_task_list_at_midnight_of_its_date_in_the_providers_zone(
    env: Env,
) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY, details="Ask about housing")
    await at(env, local(date(2027, 3, 7), 23, 59), ana)
    assert await run_scheduler(env) == 0
    assert [t["dueDate"] for t in await task_list(env, ana)] == ["2027-03-01"]

    await at(env, local(date(2027, 3, 8), 0, 0), ana)
    assert await run_scheduler(env) == 1
    listed = await task_list(env, ana, kind="REPEATING")
    assert [t["dueDate"] for t in listed] == ["2027-03-01", "2027-03-08"]
    new = by_due(await series(env, first["series"]["id"], ana))["2027-03-08"]
    assert (new["name"], new["details"], new["kind"]) == (
        "Weekly check-in",
        "Ask about housing",
        "REPEATING",
    )
    assert [p["id"] for p in new["responsible"]] == [ana.id]
    assert new["overdue"] is False
    assert new["history"][0]["kind"] == "CREATED"
    assert "schedule" in new["history"][0]["summary"]
    assert by_due(await series(env, first["series"]["id"], ana))["2027-03-01"]["overdue"] is True


async def test_lead_days_bring_occurrences_in_early_and_never_further(env: Env) -> None:
    env.app.state.services.series_lead_days = 3
    _provider, ana, _ben = await team(env)
    daily = await repeating(env, ana, {"frequency": "DAILY"}, name="Daily")
    weekly = await repeating(env, ana, WEEKLY, name="Weekly")
    # createTask itself makes what is inside the lead window.
    assert due_dates(await series(env, daily["series"]["id"], ana)) == days(
        "2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04"
    )
    await at(env, local(date(2027, 3, 4), 23, 59), ana)
    await run_scheduler(env)
    assert due_dates(await series(env, weekly["series"]["id"], ana)) == days("2027-03-01")
    await at(env, local(date(2027, 3, 5), 0, 0), ana)
    await run_scheduler(env)
    assert due_dates(await series(env, weekly["series"]["id"], ana)) == days(
        "2027-03-01", "2027-03-08"
    )
    found = await series(env, daily["series"]["id"], ana)
    assert due_dates(found)[-1] == "2027-03-08"
    assert len(due_dates(found)) == 8


# ---------------------------------------------------------------- each occurrence on its own


async def test_each_occurrence_is_completed_postponed_reassigned_and_edited_on_its_own(
    env: Env,
) -> None:
    _provider, ana, ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    await at(env, local(date(2027, 3, 22)), ana)
    await run_scheduler(env)
    made = by_due(await series(env, series_id, ana))
    assert list(made) == days("2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22")

    await complete(env, ana, made["2027-03-01"]["id"])
    postponed = await env.api.mutate(
        "postponeTask",
        POSTPONE,
        {"input": {"id": made["2027-03-08"]["id"], "by": "ONE_WEEK"}},
        ana.token,
    )
    assert postponed["task"]["dueDate"] == "2027-03-15"
    reassigned = await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"input": {"id": made["2027-03-15"]["id"], "responsibleIds": [ben.id]}},
        ana.token,
    )
    assert reassigned["errors"] == []
    edited = await updated(env, ana, id=made["2027-03-22"]["id"], name="Check-in with interpreter")
    assert edited["series"]["id"] == series_id  # THIS stays in the series

    await at(env, local(date(2027, 3, 29)), ana)
    assert await run_scheduler(env) == 1
    nodes = {n["id"]: n for n in occurrences(await series(env, series_id, ana))}
    state = {
        i: (n["dueDate"], n["status"], n["name"], [p["id"] for p in n["responsible"]])
        for i, n in nodes.items()
    }
    assert state[made["2027-03-01"]["id"]] == (
        "2027-03-01",
        "COMPLETED",
        "Weekly check-in",
        [ana.id],
    )
    assert state[made["2027-03-08"]["id"]] == ("2027-03-15", "OPEN", "Weekly check-in", [ana.id])
    assert state[made["2027-03-15"]["id"]] == ("2027-03-15", "OPEN", "Weekly check-in", [ben.id])
    assert state[made["2027-03-22"]["id"]] == (
        "2027-03-22",
        "OPEN",
        "Check-in with interpreter",
        [ana.id],
    )
    [newest] = [n for i, n in state.items() if i not in {m["id"] for m in made.values()}]
    assert newest == ("2027-03-29", "OPEN", "Weekly check-in", [ana.id])


async def test_postponing_one_occurrence_does_not_shift_the_others(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    postponed = await env.api.mutate(
        "postponeTask",
        POSTPONE,
        {"input": {"id": first["id"], "by": "CUSTOM", "customDate": "2027-03-10"}},
        ana.token,
    )
    assert postponed["task"]["dueDate"] == "2027-03-10"
    found = await series(env, first["series"]["id"], ana, upcoming=3)
    assert found["upcoming"] == days("2027-03-01", "2027-03-08", "2027-03-15")
    await at(env, local(date(2027, 3, 8)), ana)
    assert await run_scheduler(env) == 1
    found = await series(env, first["series"]["id"], ana, upcoming=3)
    assert due_dates(found) == days("2027-03-08", "2027-03-10")
    assert found["upcoming"] == days("2027-03-08", "2027-03-15", "2027-03-22")


async def test_deleting_one_occurrence_skips_it_for_good(env: Env) -> None:
    env.app.state.services.series_lead_days = 7
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    made = by_due(await series(env, series_id, ana))
    assert list(made) == days("2027-03-01", "2027-03-08")
    # Skip next week's (already in the list through the lead window) and today's.
    assert await delete(env, ana, made["2027-03-08"]["id"]) == [made["2027-03-08"]["id"]]
    assert await delete(env, ana, first["id"], "THIS") == [first["id"]]
    found = await series(env, series_id, ana, upcoming=3)
    assert found["upcoming"] == days("2027-03-15", "2027-03-22", "2027-03-29")
    assert occurrences(found) == []
    for day in (8, 9, 15):
        await at(env, local(date(2027, 3, day)), ana)
        await run_scheduler(env)
    assert due_dates(await series(env, series_id, ana)) == days("2027-03-15", "2027-03-22")


# ---------------------------------------------------------------- this and following


async def test_this_and_following_changes_name_details_and_responsible_from_that_occurrence(
    env: Env,
) -> None:
    _provider, ana, ben = await team(env)
    first = await repeating(env, ana, WEEKLY, details="Old notes")
    old_id = first["series"]["id"]
    await at(env, local(date(2027, 3, 15)), ana, ben)
    await run_scheduler(env)
    made = by_due(await series(env, old_id, ana))
    await complete(env, ana, made["2027-03-01"]["id"])

    task = await updated(
        env,
        ana,
        id=made["2027-03-08"]["id"],
        scope="THIS_AND_FOLLOWING",
        name="Fortnightly budget",
        details="New notes",
        responsibleIds=[ben.id],
    )
    assert (task["name"], task["details"], task["dueDate"]) == (
        "Fortnightly budget",
        "New notes",
        "2027-03-08",
    )
    assert [p["id"] for p in task["responsible"]] == [ben.id]
    assert task["history"][-1]["kind"] == "EDITED"
    new_id = task["series"]["id"]

    earlier = await series(env, old_id, ana)
    assert earlier["upcoming"] == []
    assert [(n["dueDate"], n["status"], n["name"], n["details"]) for n in occurrences(earlier)] == [
        ("2027-03-01", "COMPLETED", "Weekly check-in", "Old notes")
    ]
    later = await series(env, new_id, ana)
    assert (later["name"], later["details"]) == ("Fortnightly budget", "New notes")
    assert later["upcoming"][:3] == days("2027-03-15", "2027-03-22", "2027-03-29")
    assert [
        (n["dueDate"], n["name"], [p["id"] for p in n["responsible"]]) for n in occurrences(later)
    ] == [
        ("2027-03-08", "Fortnightly budget", [ben.id]),
        ("2027-03-15", "Fortnightly budget", [ben.id]),
    ]
    await at(env, local(date(2027, 3, 22)), ana)
    assert await run_scheduler(env) == 1
    newest = by_due(await series(env, new_id, ana))["2027-03-22"]
    assert (newest["name"], newest["details"]) == ("Fortnightly budget", "New notes")
    assert [p["id"] for p in newest["responsible"]] == [ben.id]
    # Every scheduled date has exactly one open-or-done occurrence across both parts.
    listed = await task_list(env, ana, includeCompleted=True)
    assert sorted(t["dueDate"] for t in listed) == days(
        "2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22"
    )


async def test_a_new_responsible_from_this_occurrence_on_is_told_and_nobody_means_an_alert(
    env: Env,
) -> None:
    _provider, ana, ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    await updated(env, ana, id=first["id"], scope="THIS_AND_FOLLOWING", responsibleIds=[ben.id])
    notes = "{ notifications { edges { node { kind task { id } } } } }"
    told = (await env.api.data(notes, token=ben.token))["notifications"]["edges"]
    assert [(n["node"]["kind"], n["node"]["task"]["id"]) for n in told] == [
        ("TASK_ASSIGNED", first["id"])
    ]
    task = await updated(env, ben, id=first["id"], scope="THIS_AND_FOLLOWING", responsibleIds=[])
    assert task["responsible"] == []
    alerts = (await env.api.data(notes, token=ana.token))["notifications"]["edges"]
    assert [(n["node"]["kind"], n["node"]["task"]["id"]) for n in alerts] == [
        ("UNASSIGNED_TASK", first["id"])
    ]


async def test_this_and_following_with_a_new_rule_splits_the_series(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    old_id = first["series"]["id"]
    await at(env, local(date(2027, 3, 15)), ana)
    await run_scheduler(env)
    made = by_due(await series(env, old_id, ana))

    # The occurrence must land on one of the new weekdays.
    refused = await update(
        env,
        ana,
        id=made["2027-03-15"]["id"],
        scope="THIS_AND_FOLLOWING",
        recurrence={"frequency": "WEEKLY", "byWeekday": ["WE"]},
    )
    assert refused["task"] is None
    assert [e["field"] for e in refused["errors"]] == [["input", "recurrence", "byWeekday"]]
    # A new rule needs THIS_AND_FOLLOWING.
    this_only = await update(
        env, ana, id=made["2027-03-15"]["id"], recurrence={"frequency": "DAILY"}
    )
    assert [e["field"] for e in this_only["errors"]] == [["input", "scope"]]

    task = await updated(
        env,
        ana,
        id=made["2027-03-15"]["id"],
        scope="THIS_AND_FOLLOWING",
        dueDate="2027-03-17",
        recurrence={"frequency": "WEEKLY", "byWeekday": ["WE"]},
    )
    assert task["dueDate"] == "2027-03-17"
    assert task["series"]["id"] != old_id
    assert task["series"]["rrule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=WE"
    assert task["series"]["startDate"] == "2027-03-17"
    assert task["series"]["upcoming"] == days(
        "2027-03-17", "2027-03-24", "2027-03-31", "2027-04-07"
    )

    earlier = await series(env, old_id, ana)
    assert earlier["until"] == "2027-03-14"
    assert earlier["rrule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=20270314"
    assert due_dates(earlier) == days("2027-03-01", "2027-03-08")
    assert earlier["upcoming"] == []

    await at(env, local(date(2027, 3, 31)), ana)
    assert await run_scheduler(env) == 2
    later = await series(env, task["series"]["id"], ana)
    assert due_dates(later) == days("2027-03-17", "2027-03-24", "2027-03-31")
    assert due_dates(later) == rrule_dates(later, date(2027, 3, 31))
    assert all(t["dueDate"] != "2027-03-22" for t in await task_list(env, ana))


async def test_a_completed_later_occurrence_stays_as_it_was_and_is_not_made_again(
    env: Env,
) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    await at(env, local(date(2027, 3, 15)), ana)
    await run_scheduler(env)
    made = by_due(await series(env, first["series"]["id"], ana))
    await complete(env, ana, made["2027-03-15"]["id"])  # done ahead of the overdue one

    await updated(env, ana, id=made["2027-03-08"]["id"], scope="THIS_AND_FOLLOWING", name="Renamed")
    await run_scheduler(env)
    everything = await task_list(env, ana, includeCompleted=True)
    states = sorted((t["dueDate"], t["status"], t["name"]) for t in everything)
    assert states == [
        ("2027-03-01", "OPEN", "Weekly check-in"),
        ("2027-03-08", "OPEN", "Renamed"),
        ("2027-03-15", "COMPLETED", "Weekly check-in"),
    ]
    await at(env, local(date(2027, 3, 22)), ana)
    await run_scheduler(env)
    names = sorted(
        (t["dueDate"], t["name"]) for t in await task_list(env, ana, includeCompleted=True)
    )
    assert names[-1] == ("2027-03-22", "Renamed")
    assert len(names) == 4


async def test_moving_the_rest_of_a_series_onto_a_completed_occurrences_date(env: Env) -> None:
    """The first occurrence moved, with the following ones, onto next week's date, which a
    completed occurrence already holds: both stay, and nothing is made twice."""
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    await at(env, local(date(2027, 3, 8)), ana)
    await run_scheduler(env)
    made = by_due(await series(env, first["series"]["id"], ana))
    await complete(env, ana, made["2027-03-08"]["id"])

    task = await updated(env, ana, id=first["id"], scope="THIS_AND_FOLLOWING", dueDate="2027-03-08")
    assert task["dueDate"] == "2027-03-08"
    assert task["series"]["upcoming"][:2] == days("2027-03-08", "2027-03-15")
    await at(env, local(date(2027, 3, 15)), ana)
    await run_scheduler(env)
    states = sorted(
        (t["dueDate"], t["status"]) for t in await task_list(env, ana, includeCompleted=True)
    )
    assert states == [
        ("2027-03-08", "COMPLETED"),
        ("2027-03-08", "OPEN"),
        ("2027-03-15", "OPEN"),
    ]


async def test_this_and_following_on_the_first_occurrence_changes_the_whole_series(
    env: Env,
) -> None:
    _provider, ana, ben = await team(env)
    first = await repeating(env, ana, {"frequency": "DAILY", "count": 5})
    task = await updated(
        env,
        ana,
        id=first["id"],
        scope="THIS_AND_FOLLOWING",
        name="Morning call",
        responsibleIds=[ben.id],
        recurrence={"frequency": "DAILY", "interval": 2, "count": 3},
    )
    assert task["series"]["id"] == first["series"]["id"]
    assert task["series"]["rrule"] == "FREQ=DAILY;INTERVAL=2;COUNT=3"
    assert task["series"]["upcoming"] == days("2027-03-01", "2027-03-03", "2027-03-05")
    await at(env, local(date(2027, 3, 10)), ana)
    await run_scheduler(env)
    found = await series(env, first["series"]["id"], ana)
    assert found["name"] == "Morning call"
    assert [
        (n["dueDate"], n["name"], [p["id"] for p in n["responsible"]]) for n in occurrences(found)
    ] == [(d, "Morning call", [ben.id]) for d in days("2027-03-01", "2027-03-03", "2027-03-05")]


async def test_this_and_following_keeps_the_remaining_count(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, {"frequency": "WEEKLY", "count": 4})
    await at(env, local(date(2027, 3, 8)), ana)
    await run_scheduler(env)
    second = by_due(await series(env, first["series"]["id"], ana))["2027-03-08"]
    task = await updated(env, ana, id=second["id"], scope="THIS_AND_FOLLOWING", name="Later")
    assert task["series"]["upcoming"] == days("2027-03-08", "2027-03-15", "2027-03-22")
    await at(env, local(date(2027, 4, 30)), ana)
    await run_scheduler(env)
    assert sorted(t["dueDate"] for t in await task_list(env, ana)) == days(
        "2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22"
    )


# ---------------------------------------------------------------- who may see a series


async def test_another_providers_staff_cannot_see_or_change_a_series(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    other = await env.world.provider()
    codes = await env.api.error_codes(
        SERIES, {"id": first["series"]["id"], "upcoming": 2}, other.admin.token
    )
    assert codes == ["NOT_FOUND"]
    codes = await env.api.error_codes(
        DELETE, {"input": {"id": first["id"], "scope": "THIS_AND_FOLLOWING"}}, other.admin.token
    )
    assert codes == ["NOT_FOUND"]
    assert (await series(env, first["series"]["id"], ana))["upcoming"][0] == "2027-03-01"


async def test_occurrences_can_leave_out_completed_ones(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, {"frequency": "DAILY"})
    await at(env, local(date(2027, 3, 3)), ana)
    await run_scheduler(env)
    await complete(env, ana, first["id"])
    data = await env.api.data(
        "query($id: ID!) { node(id: $id) { ... on TaskSeries {"
        " open: occurrences(includeCompleted: false) { totalCount edges { node { dueDate } } }"
        " all: occurrences { totalCount } } } }",
        {"id": first["series"]["id"]},
        ana.token,
    )
    assert data["node"]["all"]["totalCount"] == 3
    assert data["node"]["open"]["totalCount"] == 2
    assert [e["node"]["dueDate"] for e in data["node"]["open"]["edges"]] == days(
        "2027-03-02", "2027-03-03"
    )


# ---------------------------------------------------------------- time: zones, DST, month ends


async def test_sydney_daylight_saving_ends_and_midnight_moves_an_hour(env: Env) -> None:
    """DST ends in Sydney at 03:00 on Sunday 4 April 2027: midnight is 13:00 UTC before it
    and 14:00 UTC after it."""
    _provider, ana, _ben = await team(env)
    await at(env, local(date(2027, 4, 2)), ana)
    first = await repeating(env, ana, {"frequency": "DAILY"}, dueDate="2027-04-02")
    series_id = first["series"]["id"]
    utc = ZoneInfo("UTC")
    checks = [
        (datetime(2027, 4, 2, 12, 59, tzinfo=utc), "2027-04-02"),
        (datetime(2027, 4, 2, 13, 0, tzinfo=utc), "2027-04-03"),  # 00:00 AEDT
        (datetime(2027, 4, 3, 12, 59, tzinfo=utc), "2027-04-03"),
        (datetime(2027, 4, 3, 13, 0, tzinfo=utc), "2027-04-04"),  # 00:00 AEDT, the DST day
        (datetime(2027, 4, 4, 13, 30, tzinfo=utc), "2027-04-04"),  # 23:30 AEST, not yet
        (datetime(2027, 4, 4, 13, 59, tzinfo=utc), "2027-04-04"),
        (datetime(2027, 4, 4, 14, 0, tzinfo=utc), "2027-04-05"),  # 00:00 AEST
    ]
    for moment, last in checks:
        await at(env, moment)
        await run_scheduler(env)
        await run_scheduler(env)
        ana.token = await env.world.login(ana.email)
        found = await series(env, series_id, ana, upcoming=1)
        assert due_dates(found)[-1] == last, moment
        assert found["upcoming"] == [last], moment
    assert due_dates(found) == days("2027-04-02", "2027-04-03", "2027-04-04", "2027-04-05")


async def test_new_york_daylight_saving_starts_and_every_hour_makes_each_day_once(
    env: Env,
) -> None:
    """DST starts in New York at 02:00 on Sunday 14 March 2027 (EST -5 -> EDT -4)."""
    _provider, ana, _ben = await team(env, timezone="America/New_York")
    await at(env, local(date(2027, 3, 12), 9, zone="America/New_York"), ana)
    first = await repeating(env, ana, {"frequency": "DAILY"}, dueDate="2027-03-12")
    zone = ZoneInfo("America/New_York")
    moment = datetime(2027, 3, 12, 14, 0, tzinfo=ZoneInfo("UTC"))
    end = datetime(2027, 3, 16, 6, 0, tzinfo=ZoneInfo("UTC"))
    made = 0
    while moment <= end:
        env.clock.set(moment)
        made += await run_scheduler(env)
        today = moment.astimezone(zone).date()
        assert made == (today - date(2027, 3, 12)).days, moment
        moment += timedelta(minutes=30)
    ana.token = await env.world.login(ana.email)
    found = await series(env, first["series"]["id"], ana)
    assert due_dates(found) == days(
        "2027-03-12", "2027-03-13", "2027-03-14", "2027-03-15", "2027-03-16"
    )
    # The 15th began at 04:00 UTC (EDT), not 05:00 as it would have in winter.
    assert datetime(2027, 3, 15, 4, 0, tzinfo=ZoneInfo("UTC")).astimezone(zone).date() == date(
        2027, 3, 15
    )


async def test_month_ends_and_a_leap_year(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    await at(env, local(date(2028, 1, 31)), ana)
    monthly = await repeating(env, ana, {"frequency": "MONTHLY"}, dueDate="2028-01-31")
    daily = await repeating(
        env, ana, {"frequency": "DAILY", "until": "2028-03-02"}, dueDate="2028-02-27"
    )
    yearly = await repeating(env, ana, {"frequency": "YEARLY"}, dueDate="2028-02-29")
    assert yearly["series"]["upcoming"][:3] == days("2028-02-29", "2032-02-29", "2036-02-29")

    # Walk across each month end, the scheduler running just after midnight and late evening.
    day = date(2028, 1, 31)
    while day <= date(2028, 8, 1):
        if day.day >= 27 or day.day <= 2:
            for hour in (0, 23):
                await at(env, local(day, hour))
                await run_scheduler(env)
        day += timedelta(days=1)
    ana.token = await env.world.login(ana.email)
    found = await series(env, monthly["series"]["id"], ana, upcoming=2)
    assert (
        due_dates(found)
        == days("2028-01-31", "2028-03-31", "2028-05-31", "2028-07-31")
        == rrule_dates(found, date(2028, 8, 1))
    )
    assert found["upcoming"] == days("2028-08-31", "2028-10-31")
    assert due_dates(await series(env, daily["series"]["id"], ana)) == days(
        "2028-02-27", "2028-02-28", "2028-02-29", "2028-03-01", "2028-03-02"
    )
    assert due_dates(await series(env, yearly["series"]["id"], ana)) == days("2028-02-29")
