"""Reminders (contract v2): DUE_SOON and OVERDUE at the provider's sendAtHour in its own
timezone, once per task per due date; UNASSIGNED_ESCALATION once per Unassigned stint, checked
on every tick; the settings administrators change. A controlled clock walks the days and each
pass is the scheduler's (what the server runs on a timer and `casetasks remind` runs once).

The clock starts at 10:00 on Monday 1 March 2027 in Sydney (UTC+11 until 4 April)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from casetasks.app import create_app
from casetasks.scheduler import remind_due
from casetasks.settings import Settings
from services.reminders import Sent
from tests.conftest import Env, Live
from tests.factories import Person, Provider
from tests.processes import process_env, run_cli
from tests.ws_client import GraphQLWebSocket

SYDNEY = "Australia/Sydney"
NOTES = "{ notifications(first: 200) { edges { node { kind message task { id name } } } } }"
SETTINGS = """{ me { ... on Staff { provider { reminderSettings {
  dueSoonDays overdue escalateUnassignedAfterHours sendAtHour } } } } }"""
UPDATE = """mutation($i: UpdateReminderSettingsInput!) { updateReminderSettings(input: $i) {
  reminderSettings { dueSoonDays overdue escalateUnassignedAfterHours sendAtHour }
  errors { field code message } } }"""
REASSIGN = """mutation($i: ReassignTaskInput!) { reassignTask(input: $i) {
  errors { message } } }"""
POSTPONE = """mutation($i: PostponeTaskInput!) { postponeTask(input: $i) {
  task { dueDate } errors { message } } }"""
COMPLETE = """mutation($i: CompleteTaskInput!) { completeTask(input: $i) {
  errors { message } } }"""
DELETE = "mutation($i: DeleteTaskInput!) { deleteTask(input: $i) { errors { message } } }"


def local(day: str, hour: int, minute: int = 0, zone: str = SYDNEY) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), ZoneInfo(zone))


async def at(env: Env, moment: datetime, *people: Person) -> None:
    env.clock.set(moment)
    for person in people:
        person.token = await env.world.login(person.email)


async def remind(env: Env, every_day_pass: bool = False) -> Sent:
    return await remind_due(env.app.state.services, every_day_pass)


async def received(env: Env, person: Person) -> list[tuple[str, str]]:
    edges = (await env.api.data(NOTES, token=person.token))["notifications"]["edges"]
    return sorted(
        (e["node"]["kind"], (e["node"]["task"] or {}).get("name", ""))
        for e in edges
        if e["node"]["kind"] in ("DUE_SOON", "OVERDUE", "UNASSIGNED_ESCALATION")
    )


async def team(env: Env, timezone: str = SYDNEY) -> tuple[Provider, Person, Person]:
    provider = await env.world.provider(timezone=timezone)
    ana = await env.world.staff(provider, "Ana Caseworker")
    ben = await env.world.staff(provider, "Ben Caseworker")
    return provider, ana, ben


async def test_a_week_of_reminders_each_exactly_once(env: Env) -> None:
    provider, ana, ben = await team(env)
    admin = provider.admin
    world = env.world
    first = await world.task(ana, name="Due Tuesday", dueDate="2027-03-02")
    friday = await world.task(ana, name="Due Friday", dueDate="2027-03-05")
    saturday = await world.task(ana, name="Due Saturday", dueDate="2027-03-06")
    shared = await world.task(
        ana, name="Both Wednesday", dueDate="2027-03-03", responsibleIds=[ana.id, ben.id]
    )
    loose = await world.task(ana, name="Nobody's", dueDate="2027-03-20")
    await env.api.mutate(
        "reassignTask", REASSIGN, {"i": {"id": loose["id"], "responsibleIds": []}}, ana.token
    )

    # Monday 10:00, after sendAtHour 8: due within a day (today or tomorrow).
    sent = await remind(env)
    assert (sent.due_soon, sent.overdue, sent.escalations) == (1, 0, 0)
    assert await received(env, ana) == [("DUE_SOON", "Due Tuesday")]
    assert await remind(env) == Sent()  # the day is done
    assert await remind(env, every_day_pass=True) == Sent()  # and claimed

    # Tuesday 07:00: before sendAtHour, only escalations are looked at (21 hours: none yet).
    await at(env, local("2027-03-02", 7), admin, ana, ben)
    assert await remind(env) == Sent()
    # 10:30: the Wednesday task for both; Tuesday's was told already; 24.5 hours Unassigned.
    await at(env, local("2027-03-02", 10, 30), admin, ana, ben)
    sent = await remind(env)
    assert (sent.due_soon, sent.overdue, sent.escalations) == (1, 0, 1)
    assert await received(env, ben) == [("DUE_SOON", "Both Wednesday")]
    assert await received(env, admin) == [("UNASSIGNED_ESCALATION", "Nobody's")]

    # Wednesday: Tuesday's task is overdue since today; the Friday task is not yet due soon.
    await at(env, local("2027-03-03", 8), admin, ana, ben)
    sent = await remind(env)
    assert (sent.due_soon, sent.overdue, sent.escalations) == (0, 1, 0)
    # Completing Saturday's task and deleting nothing else: it is never reminded.
    await env.api.mutate("completeTask", COMPLETE, {"i": {"id": saturday["id"]}}, ana.token)

    # Thursday: Friday's task is due soon; then it is postponed a week, which re-arms it.
    await at(env, local("2027-03-04", 9), admin, ana, ben)
    assert (await remind(env)).due_soon == 1
    await env.api.mutate(
        "postponeTask", POSTPONE, {"i": {"id": friday["id"], "by": "ONE_WEEK"}}, ana.token
    )
    for day in ("2027-03-05", "2027-03-06", "2027-03-07", "2027-03-08", "2027-03-09", "2027-03-10"):
        await at(env, local(day, 8, 5))
        await remind(env)
    await at(env, local("2027-03-11", 8, 5), admin, ana, ben)
    assert (await remind(env)).due_soon == 1
    assert await received(env, ana) == [
        ("DUE_SOON", "Both Wednesday"),
        ("DUE_SOON", "Due Friday"),
        ("DUE_SOON", "Due Friday"),
        ("DUE_SOON", "Due Tuesday"),
        ("OVERDUE", "Both Wednesday"),
        ("OVERDUE", "Due Tuesday"),
    ]
    assert await received(env, ben) == [
        ("DUE_SOON", "Both Wednesday"),
        ("OVERDUE", "Both Wednesday"),
    ]
    # One escalation for the whole stint; a new stint (assigned, then Unassigned again)
    # escalates again after its own 24 hours.
    assert await received(env, admin) == [("UNASSIGNED_ESCALATION", "Nobody's")]
    await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"i": {"id": loose["id"], "responsibleIds": [ben.id]}},
        admin.token,
    )
    await env.api.mutate(
        "reassignTask", REASSIGN, {"i": {"id": loose["id"], "responsibleIds": []}}, admin.token
    )
    assert (await remind(env)).escalations == 0
    await at(env, local("2027-03-12", 9), admin)
    assert (await remind(env)).escalations == 1
    assert first["id"] and shared["id"]


async def test_an_escalated_stint_is_not_claimed_again_on_later_ticks(env: Env) -> None:
    """Every tick looks for escalations: one already sent must cost no claim again, or a
    provider with many long-Unassigned tasks pays for all of them on every tick."""
    provider, ana, _ben = await team(env)
    for n in range(3):
        task = await env.world.task(ana, name=f"Nobody's {n}", dueDate="2027-03-20")
        await env.api.mutate(
            "reassignTask", REASSIGN, {"i": {"id": task["id"], "responsibleIds": []}}, ana.token
        )
    await at(env, local("2027-03-02", 11), provider.admin)  # 25 hours Unassigned
    assert (await remind(env)).escalations == 3
    env.sql.reset()
    for hour in (12, 13, 14):  # the day's pass is done: only escalations are looked at
        await at(env, local("2027-03-02", hour))
        assert await remind(env) == Sent()
    claims = [s for s in env.sql.statements if "INSERT INTO REMINDER_SENT" in s.upper()]
    assert claims == [], claims
    assert await received(env, provider.admin) == [
        ("UNASSIGNED_ESCALATION", "Nobody's 0"),
        ("UNASSIGNED_ESCALATION", "Nobody's 1"),
        ("UNASSIGNED_ESCALATION", "Nobody's 2"),
    ]


async def test_two_passes_at_once_send_everything_once(env: Env) -> None:
    provider, ana, _ben = await team(env)
    for n in range(5):
        await env.world.task(ana, name=f"Soon {n}", dueDate="2027-03-02")
    results = await asyncio.gather(remind(env), remind(env, every_day_pass=True), remind(env))
    assert sum(r.due_soon for r in results) == 5
    assert len(await received(env, ana)) == 5
    assert provider


async def test_each_provider_at_its_own_hour_across_a_dst_change(env: Env) -> None:
    """New York moves to daylight time on Sunday 14 March 2027: 12:30 UTC is 07:30 there on
    the Saturday and 08:30 on the Sunday."""
    sydney, ana, _ = await team(env)
    new_york, nina, _ = await team(env, "America/New_York")
    await env.world.task(ana, name="Sydney Monday", dueDate="2027-03-15")
    await env.world.task(nina, name="New York Sunday", dueDate="2027-03-14")
    await env.world.task(nina, name="New York Monday", dueDate="2027-03-15")

    await at(env, datetime(2027, 3, 13, 12, 30, tzinfo=ZoneInfo("UTC")), ana, nina)
    sent = await remind(env)  # Sydney: 23:30 on the 13th; New York: 07:30, before 8
    assert await received(env, nina) == []
    assert sent.due_soon == 0
    await at(env, datetime(2027, 3, 14, 12, 30, tzinfo=ZoneInfo("UTC")), ana, nina)
    await remind(env)  # Sydney: 23:30 on the 14th (Monday's task due tomorrow); New York 08:30
    assert await received(env, nina) == [
        ("DUE_SOON", "New York Monday"),
        ("DUE_SOON", "New York Sunday"),
    ]
    assert await received(env, ana) == [("DUE_SOON", "Sydney Monday")]
    assert new_york and sydney


async def test_a_server_down_at_send_hour_sends_that_days_reminders_never_yesterdays(
    env: Env,
) -> None:
    _provider, ana, _ = await team(env)
    await env.world.task(ana, name="Due Wednesday", dueDate="2027-03-03")
    await env.world.task(ana, name="Due Thursday", dueDate="2027-03-04")
    await env.world.task(ana, name="Due Friday", dueDate="2027-03-05")
    # Down from Monday morning until Thursday 15:00: Thursday's pass runs late, as Thursday's.
    await at(env, local("2027-03-04", 15), ana)
    sent = await remind(env)
    assert (sent.due_soon, sent.overdue) == (2, 1)
    assert await received(env, ana) == [
        ("DUE_SOON", "Due Friday"),
        ("DUE_SOON", "Due Thursday"),
        ("OVERDUE", "Due Wednesday"),
    ]


async def test_settings_defaults_changes_and_who_may(env: Env) -> None:
    provider = await env.world.provider(group="Reminder group")
    ana = await env.world.staff(provider, "Ana Caseworker")
    admin = provider.admin
    settings = (await env.api.data(SETTINGS, token=ana.token))["me"]["provider"]["reminderSettings"]
    assert settings == {
        "dueSoonDays": 1,
        "overdue": True,
        "escalateUnassignedAfterHours": 24,
        "sendAtHour": 8,
    }

    bad = await env.api.mutate(
        "updateReminderSettings",
        UPDATE,
        {
            "i": {
                "dueSoonDays": 31,
                "escalateUnassignedAfterHours": 0,
                "sendAtHour": 24,
                "overdue": None,
            }
        },
        admin.token,
    )
    assert sorted(e["field"][-1] for e in bad["errors"]) == [
        "dueSoonDays",
        "escalateUnassignedAfterHours",
        "overdue",
        "sendAtHour",
    ]
    assert bad["reminderSettings"] is None
    changed = await env.api.mutate(
        "updateReminderSettings",
        UPDATE,
        {"i": {"dueSoonDays": None, "sendAtHour": 11}},
        admin.token,
    )
    assert changed["reminderSettings"] == {
        "dueSoonDays": None,
        "overdue": True,
        "escalateUnassignedAfterHours": 24,
        "sendAtHour": 11,
    }
    assert await env.api.error_codes(UPDATE, {"i": {"sendAtHour": 9}}, ana.token) == ["FORBIDDEN"]
    assert await env.api.error_codes(UPDATE, {"i": {"sendAtHour": 9}}) == ["UNAUTHENTICATED"]

    other = await env.world.provider(group="Reminder group")  # sees the provider, not its rules
    foreign = await env.api.post(
        "query($id: ID!) { node(id: $id) { ... on ServiceProvider {"
        " reminderSettings { sendAtHour } } } }",
        {"id": provider.id},
        other.admin.token,
    )
    assert [e["extensions"]["code"] for e in foreign["errors"]] == ["FORBIDDEN"]
    assert "11" not in str(foreign)

    # dueSoonDays null: no DUE_SOON; sendAtHour 11: nothing at 10:00.
    await env.world.task(ana, name="Due today", dueDate="2027-03-01")
    assert await remind(env) == Sent()
    await at(env, local("2027-03-01", 11), ana)
    assert await remind(env) == Sent()
    assert await received(env, ana) == []


LIVE = "subscription { notificationAdded { kind message task { name } } }"


async def test_a_dashboard_sees_each_reminder_arrive_live_exactly_once(live: Live) -> None:
    env = live.env
    provider = await env.world.provider()
    admin = provider.admin
    changed = await env.api.mutate(
        "updateReminderSettings", UPDATE, {"i": {"escalateUnassignedAfterHours": 1}}, admin.token
    )
    assert changed["errors"] == []
    await env.world.task(admin, name="Due today", dueDate="2027-03-01")
    await env.world.task(admin, name="Due yesterday", dueDate="2027-02-28")
    loose = await env.world.task(admin, name="Nobody's", dueDate="2027-03-10")
    await env.api.mutate(
        "reassignTask", REASSIGN, {"i": {"id": loose["id"], "responsibleIds": []}}, admin.token
    )
    dashboard = await GraphQLWebSocket.connect(live.ws_url, admin.token)
    feed = await dashboard.subscribe(LIVE)
    await feed.nothing(0.2)

    await remind(env)
    arrived = [(await feed.next())["notificationAdded"] for _ in range(2)]
    env.clock.advance(timedelta(hours=1, minutes=1))
    for _ in range(3):
        await remind(env)
    arrived.append((await feed.next())["notificationAdded"])
    await feed.nothing(0.5)
    assert sorted((n["kind"], n["task"]["name"]) for n in arrived) == [
        ("DUE_SOON", "Due today"),
        ("OVERDUE", "Due yesterday"),
        ("UNASSIGNED_ESCALATION", "Nobody's"),
    ]
    await dashboard.close()


async def test_two_servers_and_the_command_at_once_send_each_reminder_once(
    env: Env, settings: Settings, tmp_path: Path
) -> None:
    _provider, ana, ben = await team(env)
    for n in range(4):
        await env.world.task(
            ana, name=f"Soon {n}", dueDate="2027-03-02", responsibleIds=[ana.id, ben.id]
        )
    second = create_app(settings, clock=env.clock)
    async with second.router.lifespan_context(second):
        command = run_cli(
            "remind",
            "--at",
            env.clock.now().isoformat(),
            env=process_env(settings.database_url),
            cwd=tmp_path,
        )
        *_passes, finished = await asyncio.gather(
            remind(env, every_day_pass=True),
            remind_due(second.state.services, every_day_pass=True),
            command,
        )
    assert finished.returncode == 0, finished
    assert await received(env, ana) == [("DUE_SOON", f"Soon {n}") for n in range(4)]
    assert await received(env, ben) == [("DUE_SOON", f"Soon {n}") for n in range(4)]
