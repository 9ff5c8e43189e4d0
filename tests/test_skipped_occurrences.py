"""skipOccurrence / unskipOccurrence (contract v2): a skipped date of a repeating task never
becomes a task (whichever scheduler runs), upcoming leaves it out, skippedDates lists it, and
the stored rule gains the matching EXDATE, so it stays RFC 5545 for dateutil's rruleset.

The clock starts at 10:00 on Monday 1 March 2027 in Sydney."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import Any

from dateutil.rrule import rruleset, rrulestr
from sqlalchemy import text

from tests.conftest import Env
from tests.factories import Person
from tests.test_series import (
    MONDAY,
    WEEKLY,
    at,
    due_dates,
    local,
    repeating,
    run_scheduler,
    series,
    team,
    updated,
)

FIELDS = "series { id rrule skippedDates upcoming(first: 4) } errors { field code message }"
SKIP = f"mutation($i: SkipOccurrenceInput!) {{ skipOccurrence(input: $i) {{ {FIELDS} }} }}"
UNSKIP = f"mutation($i: SkipOccurrenceInput!) {{ unskipOccurrence(input: $i) {{ {FIELDS} }} }}"
SKIPPED = "query($id: ID!) { node(id: $id) { ... on TaskSeries { rrule skippedDates } } }"


async def skip(
    env: Env, by: Person, series_id: str, day: str, name: str = "skipOccurrence"
) -> dict[str, Any]:
    query = SKIP if name == "skipOccurrence" else UNSKIP
    return await env.api.mutate(name, query, {"i": {"seriesId": series_id, "date": day}}, by.token)


async def stored_rule(env: Env, series_id: str) -> str:
    from schema.ids import from_global_id

    decoded = from_global_id(series_id)
    assert decoded is not None
    async with env.engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT rrule FROM task_series WHERE id = :id"), {"id": decoded[1]}
        )
    return str(found)


def rfc5545_dates(stored: str, start: date, through: date) -> list[str]:
    rules = rrulestr(stored, dtstart=datetime.combine(start, time()), forceset=True)
    assert isinstance(rules, rruleset)
    high = datetime.combine(through, time())
    return [
        m.date().isoformat() for m in rules.between(datetime.combine(start, time()), high, True)
    ]


async def test_a_skipped_date_never_becomes_a_task(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]

    payload = await skip(env, ana, series_id, "2027-03-15")
    assert payload["errors"] == []
    assert payload["series"]["skippedDates"] == ["2027-03-15"]
    assert payload["series"]["upcoming"] == ["2027-03-01", "2027-03-08", "2027-03-22", "2027-03-29"]
    assert payload["series"]["rrule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"
    stored = await stored_rule(env, series_id)
    assert stored == "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO\nEXDATE;VALUE=DATE:20270315"
    assert rfc5545_dates(stored, MONDAY, date(2027, 3, 29)) == [
        "2027-03-01",
        "2027-03-08",
        "2027-03-22",
        "2027-03-29",
    ]
    # The planned read and the field-by-field one agree (node is planned; skippedDates is not).
    data = await env.api.data(SKIPPED, {"id": series_id}, ana.token)
    assert data["node"] == {
        "rrule": "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO",
        "skippedDates": ["2027-03-15"],
    }
    planned = "query($id: ID!) { node(id: $id) { ... on TaskSeries { rrule } } }"
    data = await env.api.data(planned, {"id": series_id}, ana.token)
    assert data["node"] == {"rrule": "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"}

    # Four weeks on, two schedulers at once: the 15th is never made.
    await at(env, local(date(2027, 3, 29)), ana)
    made = await asyncio.gather(run_scheduler(env), run_scheduler(env))
    assert sum(made) == 3
    found = await series(env, series_id, ana)
    assert due_dates(found) == ["2027-03-01", "2027-03-08", "2027-03-22", "2027-03-29"]
    assert await run_scheduler(env) == 0


async def test_unskipping_restores_the_date_and_makes_a_passed_occurrence_now(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    assert (await skip(env, ana, series_id, "2027-03-08"))["errors"] == []
    assert (await skip(env, ana, series_id, "2027-03-22"))["errors"] == []

    await at(env, local(date(2027, 3, 8)), ana)
    assert await run_scheduler(env) == 0  # the 8th is skipped
    # Changed minds on the day: the occurrence is made at once, not next week.
    payload = await skip(env, ana, series_id, "2027-03-08", "unskipOccurrence")
    assert payload["errors"] == []
    assert payload["series"]["skippedDates"] == ["2027-03-22"]
    assert due_dates(await series(env, series_id, ana)) == ["2027-03-01", "2027-03-08"]
    assert await stored_rule(env, series_id) == (
        "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO\nEXDATE;VALUE=DATE:20270322"
    )
    payload = await skip(env, ana, series_id, "2027-03-22", "unskipOccurrence")
    assert payload["series"]["skippedDates"] == []
    assert await stored_rule(env, series_id) == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"


async def test_dates_that_cannot_be_skipped_are_input_errors(env: Env) -> None:
    provider, ana, _ben = await team(env)
    desk = await env.world.staff(provider, tasks=False)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    cases = {
        "2027-03-16": "not a scheduled date",  # a Tuesday
        "2027-03-01": "in the task list already",  # the first occurrence
        "2027-02-22": "has passed",
    }
    for day, words in cases.items():
        payload = await skip(env, ana, series_id, day)
        [error] = payload["errors"]
        assert error["field"] == ["input", "date"] and words in error["message"], (day, error)
        assert payload["series"] is None
    assert (await skip(env, ana, series_id, "2027-03-15"))["errors"] == []
    again = await skip(env, ana, series_id, "2027-03-15")
    assert "skipped already" in again["errors"][0]["message"]
    never = await skip(env, ana, series_id, "2027-03-22", "unskipOccurrence")
    assert "not a skipped date" in never["errors"][0]["message"]
    await at(env, local(date(2027, 3, 16)), ana)
    passed = await skip(env, ana, series_id, "2027-03-15", "unskipOccurrence")
    assert "has passed" in passed["errors"][0]["message"]

    other = await env.world.provider()
    variables = {"i": {"seriesId": series_id, "date": "2027-03-29"}}
    assert await env.api.error_codes(SKIP, variables, other.admin.token) == ["NOT_FOUND"]
    desk.token = await env.world.login(desk.email)
    assert await env.api.error_codes(SKIP, variables, desk.token) == ["FORBIDDEN"]
    assert (await env.api.data(SKIPPED, {"id": series_id}, ana.token))["node"]["skippedDates"] == [
        "2027-03-15"
    ]


async def test_an_edit_from_an_occurrence_keeps_the_skips_still_on_the_new_rule(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, WEEKLY)
    series_id = first["series"]["id"]
    for day in ("2027-03-15", "2027-03-22", "2027-04-05"):
        assert (await skip(env, ana, series_id, day))["errors"] == []
    await at(env, local(date(2027, 3, 8)), ana)
    assert await run_scheduler(env) == 1
    occurrence = next(
        e["node"]
        for e in (await series(env, series_id, ana))["occurrences"]["edges"]
        if e["node"]["dueDate"] == "2027-03-08"
    )
    # Every other Monday from the 8th: the 22nd and 5 April still fall on it, the 15th no more.
    task = await updated(
        env,
        ana,
        id=occurrence["id"],
        scope="THIS_AND_FOLLOWING",
        recurrence={"frequency": "WEEKLY", "interval": 2},
    )
    successor = task["series"]["id"]
    data = await env.api.data(SKIPPED, {"id": successor}, ana.token)
    assert data["node"]["skippedDates"] == ["2027-03-22", "2027-04-05"]
    assert data["node"]["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    assert task["series"]["upcoming"][:3] == ["2027-03-08", "2027-04-19", "2027-05-03"]
