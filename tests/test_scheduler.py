"""The scheduler that makes due occurrences: idempotent, catching up, safe with two instances.

It runs inside the server on a timer and as `casetasks materialize`; here it also runs as
two concurrent passes on two apps sharing one database, and as two real processes at once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
from dateutil import rrule as du
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from casetasks.app import create_app
from casetasks.scheduler import materialize_due
from casetasks.settings import Settings
from models import Task, TaskKind
from services.clock import SystemClock, today_in
from tests.conftest import START, Env
from tests.factories import Person, Provider
from tests.group_setup import group_of_two
from tests.processes import process_env, run_cli
from tests.test_series import (
    WEEKLY,
    at,
    by_due,
    delete,
    due_dates,
    local,
    repeating,
    rrule_dates,
    run_scheduler,
    series,
    team,
)

DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
FREQUENCIES = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
ZONES = ["Australia/Sydney", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


async def occurrence_dates(env: Env) -> Counter[tuple[int, date]]:
    """(series, scheduled date) of every occurrence row, straight from the database."""
    async with env.app.state.services.session_factory() as session:
        rows = await session.execute(
            select(Task.series_id, Task.scheduled_date).where(Task.kind == TaskKind.REPEATING)
        )
        return Counter((int(s), d) for s, d in rows.all())


async def occurrence_count(env: Env) -> int:
    async with env.app.state.services.session_factory() as session:
        found = await session.scalar(
            select(func.count()).select_from(Task).where(Task.kind == TaskKind.REPEATING)
        )
        return int(found or 0)


async def create_series_for(env: Env, by: Person, count: int) -> list[dict[str, Any]]:
    """A mix of daily and weekly series, all starting today (1 March 2027)."""
    made = []
    for n in range(count):
        rule = (
            {"frequency": "DAILY"}
            if n % 2 == 0
            else {"frequency": "WEEKLY", "byWeekday": ["MO", "TH"]}
        )
        made.append(await repeating(env, by, rule, name=f"Series {n}"))
    return made


# ---------------------------------------------------------------- idempotent and catching up


async def test_a_pass_is_idempotent_and_counts_what_it_made(env: Env) -> None:
    _provider, ana, _ben = await team(env)
    await create_series_for(env, ana, 4)
    assert await run_scheduler(env) == 0
    await at(env, local(date(2027, 3, 8)))
    # Daily: 7 new each; weekly MO,TH: 4 and 8 March.
    assert await run_scheduler(env) == 2 * 7 + 2 * 2
    assert await run_scheduler(env) == 0
    assert await run_scheduler(env) == 0
    counted = await occurrence_dates(env)
    assert set(counted.values()) == {1}
    assert await occurrence_count(env) == 2 * 8 + 2 * 3


async def test_a_server_down_for_a_week_catches_up_once_then_keeps_up_on_its_timer(
    env: Env, settings: Settings
) -> None:
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, {"frequency": "DAILY"})
    weekly = await repeating(env, ana, WEEKLY)
    # The server is down: a week passes with no scheduler.
    env.clock.set(local(date(2027, 3, 8), 9))
    ana.token = await env.world.login(ana.email)

    quick = settings.model_copy(
        update={"materialize_interval_seconds": 0.05, "scheduler_enabled": True}
    )
    restarted = create_app(quick, clock=env.clock)
    transport = httpx.ASGITransport(app=restarted)
    async with (
        restarted.router.lifespan_context(restarted),
        httpx.AsyncClient(transport=transport, base_url="http://restarted.test"),
    ):
        await wait_for(env, 8 + 2)
        assert due_dates(await series(env, first["series"]["id"], ana)) == [
            (date(2027, 3, 1) + timedelta(days=n)).isoformat() for n in range(8)
        ]
        assert due_dates(await series(env, weekly["series"]["id"], ana)) == [
            "2027-03-01",
            "2027-03-08",
        ]
        # Running on: nothing more until the next day begins, and then without being asked.
        await asyncio.sleep(0.3)
        assert await occurrence_count(env) == 10
        env.clock.set(local(date(2027, 3, 9), 0, 1))
        await wait_for(env, 11)
        await asyncio.sleep(0.3)
        assert await occurrence_count(env) == 11
    assert await run_scheduler(env) == 0
    assert set((await occurrence_dates(env)).values()) == {1}


async def wait_for(env: Env, rows: int, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while await occurrence_count(env) < rows:  # noqa: ASYNC110 - another app's timer
            await asyncio.sleep(0.05)
    assert await occurrence_count(env) == rows


async def test_a_series_with_no_end_never_makes_rows_beyond_the_lead_window(env: Env) -> None:
    env.app.state.services.series_lead_days = 2
    _provider, ana, _ben = await team(env)
    first = await repeating(env, ana, {"frequency": "DAILY"})
    for elapsed in range(0, 21):
        today = date(2027, 3, 1) + timedelta(days=elapsed)
        for hour in (0, 12, 23):
            await at(env, local(today, hour))
            await run_scheduler(env)
            async with env.app.state.services.session_factory() as session:
                latest = await session.scalar(select(func.max(Task.scheduled_date)))
            assert latest == today + timedelta(days=2)
            assert await occurrence_count(env) == elapsed + 3
    ana.token = await env.world.login(ana.email)
    found = await series(env, first["series"]["id"], ana, upcoming=3)
    assert found["upcoming"] == ["2027-03-21", "2027-03-22", "2027-03-23"]
    assert found["occurrences"]["totalCount"] == 23


async def test_the_scheduler_keeps_to_each_providers_own_today(env: Env) -> None:
    """At 10:30 UTC on 10 March it is already the 11th on Kiritimati (UTC+14) and still the
    9th in Pago Pago (UTC-11)."""
    east = await env.world.provider(timezone="Pacific/Kiritimati")
    west = await env.world.provider(timezone="Pacific/Pago_Pago")
    early = await repeating(env, east.admin, {"frequency": "DAILY"}, dueDate="2027-03-01")
    late = await repeating(env, west.admin, {"frequency": "DAILY"}, dueDate="2027-02-28")
    env.clock.set(datetime(2027, 3, 10, 10, 30, tzinfo=UTC))
    await run_scheduler(env)
    env.clock.set(datetime(2027, 3, 10, 10, 59, tzinfo=UTC))
    await run_scheduler(env)
    await relogin(env, east, west)
    east_dates = due_dates(await series(env, early["series"]["id"], east.admin))
    west_dates = due_dates(await series(env, late["series"]["id"], west.admin))
    assert (east_dates[-1], len(east_dates)) == ("2027-03-11", 11)
    assert (west_dates[-1], len(west_dates)) == ("2027-03-09", 10)
    env.clock.set(datetime(2027, 3, 10, 11, 0, tzinfo=UTC))  # midnight in Pago Pago
    assert await run_scheduler(env) == 1
    await relogin(env, west)
    assert due_dates(await series(env, late["series"]["id"], west.admin))[-1] == "2027-03-10"


async def relogin(env: Env, *providers: Provider) -> None:
    for provider in providers:
        provider.admin.token = await env.world.login(provider.admin.email)


async def test_an_unassigned_occurrence_alerts_the_receiving_provider(env: Env) -> None:
    group = await group_of_two(env.world)
    sent = await repeating(
        env,
        group.caseworker,
        {"frequency": "WEEKLY"},
        name="Weekly visit",
        responsibleIds=[],
        serviceProviderId=group.receiver.id,
    )
    assert sent["responsible"] == []
    await at(env, local(date(2027, 3, 15)), group.receiving_staff)
    assert await run_scheduler(env) == 2
    data = await env.api.data(
        "{ notifications { unreadCount edges { node { kind task { id dueDate } } } } }",
        token=group.receiving_staff.token,
    )
    alerts = [e["node"] for e in data["notifications"]["edges"]]
    assert all(a["kind"] == "UNASSIGNED_TASK" for a in alerts)
    assert sorted(a["task"]["dueDate"] for a in alerts) == [
        "2027-03-01",
        "2027-03-08",
        "2027-03-15",
    ]


# ---------------------------------------------------------------- several instances


async def test_two_instances_running_at_once_make_each_occurrence_once(
    env: Env, settings: Settings
) -> None:
    _provider, ana, _ben = await team(env)
    other = await env.world.provider(timezone="America/New_York")
    made = await create_series_for(env, ana, 6)
    made += await create_series_for(env, other.admin, 2)
    second = create_app(settings, clock=env.clock)  # another instance on the same database
    second.state.services.hub = None
    total = 0
    try:
        for week in range(1, 4):
            env.clock.set(START + timedelta(weeks=week, hours=week))
            counts = await asyncio.gather(
                materialize_due(env.app.state.services),
                materialize_due(second.state.services),
                materialize_due(second.state.services),
            )
            total += sum(counts)
            counted = await occurrence_dates(env)
            assert set(counted.values()) == {1}
            assert sum(counted.values()) == len(made) + total
        assert await materialize_due(second.state.services) == 0
    finally:
        await second.state.engine.dispose()
    ana.token = await env.world.login(ana.email)
    for task in made[:6]:
        found = await series(env, task["series"]["id"], ana)
        assert due_dates(found) == rrule_dates(found, today_in(env.clock, "Australia/Sydney"))


async def test_two_materialize_commands_at_once_make_each_occurrence_once(
    env: Env, tmp_path: Path
) -> None:
    """The installed `casetasks materialize`, twice at the same moment, on the real clock."""
    real_now = datetime.now(UTC)
    env.clock.set(real_now - timedelta(days=10))
    _provider, ana, _ben = await team(env)
    zone = "Australia/Sydney"
    first_day = today_in(env.clock, zone)
    daily = await repeating(env, ana, {"frequency": "DAILY"}, dueDate=first_day.isoformat())
    weekly = await repeating(env, ana, {"frequency": "WEEKLY"}, dueDate=first_day.isoformat())
    before = await occurrence_count(env)
    assert before == 2

    process = process_env(env.database_url)
    results = await asyncio.gather(
        run_cli("materialize", env=process, cwd=tmp_path),
        run_cli("materialize", env=process, cwd=tmp_path),
    )
    for result in results:
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(r"made \d+ occurrences\n", result.stdout), result.stdout
    made = sum(int(result.stdout.split()[1]) for result in results)

    today = today_in(SystemClock(), zone)
    env.clock.set(datetime.now(UTC))
    ana.token = await env.world.login(ana.email)
    expected = 0
    for task in (daily, weekly):
        found = await series(env, task["series"]["id"], ana)
        assert due_dates(found) == rrule_dates(found, today)
        expected += len(due_dates(found)) - 1
    assert made == expected >= 10
    assert set((await occurrence_dates(env)).values()) == {1}
    again = await run_cli("materialize", env=process, cwd=tmp_path)
    assert again.stdout == "made 0 occurrences\n"


# ---------------------------------------------------------------- the walk, as a property


@st.composite
def rules(draw: st.DrawFn, first: date) -> dict[str, Any]:
    frequency = draw(st.sampled_from(list(FREQUENCIES)))
    rule: dict[str, Any] = {"frequency": frequency, "interval": draw(st.integers(1, 3))}
    if frequency == "WEEKLY" and draw(st.booleans()):
        chosen = draw(st.sets(st.sampled_from(DAY_CODES), max_size=4))
        rule["byWeekday"] = sorted({*chosen, DAY_CODES[first.weekday()]})
    end = draw(st.sampled_from(["none", "none", "until", "count"]))
    if end == "until":
        rule["until"] = (first + timedelta(days=draw(st.integers(0, 120)))).isoformat()
    elif end == "count":
        rule["count"] = draw(st.integers(1, 12))
    return rule


def expected_from_input(rule: dict[str, Any], first: date, through: date) -> list[str]:
    """dateutil's rrule from the input as given, independently of the stored text."""
    weekdays = rule.get("byWeekday")
    if rule["frequency"] == "WEEKLY" and not weekdays:
        weekdays = [DAY_CODES[first.weekday()]]
    start = datetime.combine(first, time())
    built = du.rrule(
        FREQUENCIES[rule["frequency"]],
        dtstart=start,
        interval=rule["interval"],
        byweekday=[DAY_CODES.index(d) for d in weekdays] if weekdays else None,
        until=datetime.combine(date.fromisoformat(rule["until"]), time())
        if "until" in rule
        else None,
        count=rule.get("count"),
    )
    return [
        m.date().isoformat() for m in built.between(start, datetime.combine(through, time()), True)
    ]


_people: dict[tuple[str, str], Person] = {}


async def staff_in(env: Env, zone: str) -> Person:
    """One provider per timezone and database, made on first use (examples share the env)."""
    key = (env.database_url, zone)
    if key not in _people:
        provider = await env.world.provider(timezone=zone)
        _people[key] = provider.admin
    return _people[key]


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_occurrences_of_any_walk_are_exactly_the_rrule_dates(
    env: Env, data: st.DataObject
) -> None:
    """Walk the clock in random steps (hours to weeks, across DST changes, month ends and
    29 February 2028), run the scheduler (sometimes twice), skip a random occurrence now and
    then: the occurrences are exactly the rrule's dates up to today, less the skipped ones,
    none twice and none ahead of today."""
    zone = data.draw(st.sampled_from(ZONES), "zone")
    moment = data.draw(
        st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2028, 12, 1)), "start"
    ).replace(tzinfo=UTC)
    env.clock.set(moment)
    person = await staff_in(env, zone)
    person.token = await env.world.login(person.email)
    first = today_in(env.clock, zone) + timedelta(days=data.draw(st.integers(-3, 10), "first"))
    rule = data.draw(rules(first), "rule")
    created = await repeating(env, person, rule, name="Walk", dueDate=first.isoformat())
    try:
        await walk(env, data, person, created, rule, first, zone)
    finally:
        # End the series, so that later examples (they share the database) do not carry it.
        person.token = await env.world.login(person.email)
        await delete(env, person, created["id"], "THIS_AND_FOLLOWING")


async def walk(
    env: Env,
    data: st.DataObject,
    person: Person,
    created: dict[str, Any],
    rule: dict[str, Any],
    first: date,
    zone: str,
) -> None:
    series_id = created["series"]["id"]
    skipped: set[str] = set()
    steps = data.draw(
        st.lists(st.integers(min_value=1, max_value=24 * 12), min_size=1, max_size=10), "hours"
    )
    for hours in steps:
        env.clock.advance(timedelta(hours=hours))
        await run_scheduler(env)
        if data.draw(st.booleans(), "twice"):
            assert await run_scheduler(env) == 0
        if data.draw(st.integers(0, 4), "skip?") == 0:
            person.token = await env.world.login(person.email)
            made = by_due(await series(env, series_id, person))
            later = sorted(d for d in made if d != first.isoformat())
            if later:
                day = data.draw(st.sampled_from(later), "skip")
                await delete(env, person, made[day]["id"])
                skipped.add(day)

    today = today_in(env.clock, zone)
    through = max(today, first)  # the first occurrence exists from the start
    person.token = await env.world.login(person.email)
    found = await series(env, series_id, person)
    made_dates = due_dates(found)
    assert len(made_dates) == len(set(made_dates)), "an occurrence was made twice"
    by_rule = expected_from_input(rule, first, through)
    assert rrule_dates(found, through) == by_rule
    assert sorted(made_dates) == [d for d in by_rule if d not in skipped]
    # Parse the stored text once more, as a client would, for the next dates.
    start = datetime.combine(date.fromisoformat(found["startDate"]), time())
    after_today = du.rrulestr(found["rrule"], dtstart=start).xafter(
        datetime.combine(today + timedelta(days=1), time()), count=5, inc=True
    )
    upcoming = [d.date().isoformat() for d in after_today]
    assert (
        found["upcoming"]
        == sorted({d for d in made_dates if d >= today.isoformat()} | set(upcoming))[:5]
    )
