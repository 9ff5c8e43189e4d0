"""E-mail digests (contract v2): at sendAtHour each opted-in staff member gets one e-mail (plain
text and HTML) with the tasks due today, overdue and newly assigned; none on a day with nothing
to say; at most one per person per day; a refused message is retried with backoff that day.
A real SMTP server (aiosmtpd) runs in the test process."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from casetasks.scheduler import remind_due, send_digests
from casetasks.settings import Settings
from tests.conftest import Env, settings_for_tests
from tests.factories import Person
from tests.processes import free_port, process_env, run_cli

SYDNEY = ZoneInfo("Australia/Sydney")
PREFERENCES = """mutation($i: UpdateMyPreferencesInput!) { updateMyPreferences(input: $i) {
  preferences { emailDigest } errors { field message } } }"""
REASSIGN = "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { errors { message } } }"


class Mailbox:
    """What the SMTP server received; `refuse` turns it into one that says no."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, broadcast: str, mailbox: tuple[Mailbox, int]) -> Settings:
    return settings_for_tests(
        database_url,
        broadcast,
        smtp_url=f"smtp://127.0.0.1:{mailbox[1]}",
        smtp_from="Tasks <tasks@casetasks.test>",
    )


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), SYDNEY)


async def opt_in(env: Env, person: Person, on: bool = True) -> None:
    payload = await env.api.mutate(
        "updateMyPreferences", PREFERENCES, {"i": {"emailDigest": on}}, person.token
    )
    assert payload == {"preferences": {"emailDigest": on}, "errors": []}


async def morning(env: Env) -> int:
    services = env.app.state.services
    await remind_due(services)
    return await send_digests(services)


def body(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode().replace("\r\n", "\n")
    raise AssertionError(f"no text/{subtype} part")


async def test_one_digest_per_opted_in_person_per_day(
    env: Env, mailbox: tuple[Mailbox, int]
) -> None:
    box, _port = mailbox
    world = env.world
    provider = await world.provider()
    ana = await world.staff(provider, "Ana Caseworker")
    ben = await world.staff(provider, "Ben Caseworker")
    cleo = await world.staff(provider, "Cleo Caseworker")
    client = await world.client(provider, "Dana Client", caseworker=ana)
    await world.task(ana, name="Call Dana", dueDate="2027-03-01", clientId=client)
    await world.task(ana, name="Late report", dueDate="2027-02-20")
    later = await world.task(
        provider.admin, name="Handed to Ana", dueDate="2027-03-09", responsibleIds=[ben.id]
    )
    await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"i": {"id": later["id"], "responsibleIds": [ana.id]}},
        provider.admin.token,
    )
    await world.task(cleo, name="Cleo's task", dueDate="2027-03-01")
    await opt_in(env, ana)
    await opt_in(env, ben)  # nothing due, overdue or new: no e-mail

    assert await morning(env) == 1
    [digest] = box.messages
    assert digest["To"] == ana.email and "Tasks <tasks@casetasks.test>" in digest["From"]
    assert "1 due today, 1 overdue, 1 newly assigned" in digest["Subject"]
    text = body(digest, "plain")
    assert "Due today:\n- Call Dana (Dana Client), due 2027-03-01" in text
    assert "Overdue:\n- Late report, due 2027-02-20" in text
    assert "Newly assigned to you:\n- Handed to Ana, due 2027-03-09" in text
    assert "Cleo's task" not in text
    assert "<li>Call Dana (Dana Client), due 2027-03-01</li>" in body(digest, "html")

    # Later that day, and a second instance's pass: nothing more.
    env.clock.advance(timedelta(hours=3))
    await asyncio.gather(morning(env), remind_due(env.app.state.services, every_day_pass=True))
    assert await send_digests(env.app.state.services) == 0
    assert len(box.messages) == 1

    # The next morning: a new digest; what was new yesterday is not new today.
    env.clock.set(local("2027-03-02", 8, 1))
    assert await morning(env) == 1
    second = box.to(ana.email)[1]
    assert "Newly assigned" not in body(second, "plain")
    assert "Call Dana" in body(second, "plain")  # overdue now
    assert box.to(ben.email) == [] and box.to(cleo.email) == []


async def test_a_refused_digest_is_retried_later_that_day(
    env: Env, mailbox: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    box, _port = mailbox
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Caseworker")
    await env.world.task(
        ana, name="Call back", dueDate="2027-03-01", details="very private details"
    )
    await opt_in(env, ana)
    box.refuse = 2

    assert await morning(env) == 0  # refused
    assert await send_digests(env.app.state.services) == 0  # not yet due again
    env.clock.advance(timedelta(minutes=1))
    assert await send_digests(env.app.state.services) == 0  # refused again; backoff grows
    env.clock.advance(timedelta(minutes=4))
    assert await send_digests(env.app.state.services) == 0  # 5 minutes after the second
    env.clock.advance(timedelta(minutes=1))
    assert await send_digests(env.app.state.services) == 1
    assert len(box.to(ana.email)) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "casetasks.digests")
    assert "not sent" in logged and "Call back" not in logged


async def test_nothing_is_sent_without_an_smtp_url_and_the_preview_prints_it(
    database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    """From outside: `casetasks remind --at` and `casetasks digest --preview` as commands."""
    box, port = mailbox
    env_vars = process_env(database_url)
    created = await run_cli(
        "create-provider",
        "--name",
        "Digest Street",
        "--timezone",
        "Australia/Sydney",
        "--admin-name",
        "Dee Admin",
        "--admin-email",
        "dee@digest.example",
        "--admin-password",
        "a long digest password",
        env=env_vars,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created
    from sqlmodel import select

    from casetasks.db import create_engine, create_session_factory, unit_of_work
    from models import Staff, Task, TaskResponsible

    engine = create_engine(Settings(database_url=database_url, secret_key="x").database_url)
    async with unit_of_work(create_session_factory(engine)) as session:
        admin = await session.scalar(select(Staff).where(Staff.email == "dee@digest.example"))
        assert admin is not None
        admin.email_digest = True
        task = Task(
            provider_id=admin.provider_id,
            origin_provider_id=admin.provider_id,
            name="Ring Sam",
            due_date=date(2027, 3, 1),
            created_at=local("2027-02-27", 9),
            version=1,
        )
        session.add(task)
        await session.flush()
        session.add(TaskResponsible(task_id=task.id or 0, staff_id=admin.id or 0, position=0))
    await engine.dispose()

    preview = await run_cli(
        "digest",
        "--preview",
        "DEE@digest.example",
        "--at",
        "2027-03-01T08:05:00+11:00",
        env=env_vars,
        cwd=tmp_path,
    )
    assert preview.returncode == 0, preview
    assert (
        "To: dee@digest.example" in preview.stdout
        and "- Ring Sam, due 2027-03-01" in preview.stdout
    )

    # No SMTP_URL: reminders go out, digests are not sent.
    plain = await run_cli("remind", "--at", "2027-03-01T08:05:00+11:00", env=env_vars, cwd=tmp_path)
    assert plain.returncode == 0, plain
    assert "sent 1 DUE_SOON" in plain.stdout and "0 e-mail digests" in plain.stdout
    assert box.messages == []
    # With one, the same command sends today's digest, once.
    with_smtp = {**env_vars, "SMTP_URL": f"smtp://127.0.0.1:{port}"}
    for _ in range(2):
        sent = await run_cli(
            "remind", "--at", "2027-03-01T08:06:00+11:00", env=with_smtp, cwd=tmp_path
        )
        assert sent.returncode == 0, sent
    assert len(box.messages) == 1 and "Ring Sam" in body(box.messages[0], "plain")


async def test_a_digest_refused_all_day_is_given_up_not_sent_the_next_day(
    env: Env, mailbox: tuple[Mailbox, int]
) -> None:
    box, _port = mailbox
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Caseworker")
    await env.world.task(ana, name="Call back", dueDate="2027-03-01")
    await opt_in(env, ana)
    box.refuse = 1000
    assert await morning(env) == 0
    for _ in range(20):  # tries through the day, an hour apart at most
        env.clock.advance(timedelta(hours=1))
        await send_digests(env.app.state.services)
    box.refuse = 0
    env.clock.set(local("2027-03-02", 7))  # the next day, before its own digest
    assert await send_digests(env.app.state.services) == 0
    assert box.messages == []
    async with env.engine.connect() as connection:
        status = await connection.scalar(text("SELECT status FROM digest_email"))
    assert status == "FAILED"
