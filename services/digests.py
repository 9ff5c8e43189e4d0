"""Daily e-mail digests: at the provider's sendAtHour each opted-in staff member gets one e-mail
with the tasks due today, overdue, and newly assigned since the last digest; none on a day with
nothing to say.

A digest is recorded in digest_email before it is sent, under a unique (person, local day): at
most one per person per day however many instances run. Sending claims a row for a few minutes
(next_attempt_at), so two senders do not both send it; an SMTP failure is retried with backoff
until the day it was for ends, and logged without the message body.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Client,
    DigestEmail,
    DigestStatus,
    Notification,
    NotificationKind,
    ServiceProvider,
    Staff,
    Task,
)
from services import permissions
from services.claims import insert_unless_claimed
from services.task_queries import open_tasks_held_by
from services.viewer import acting_as

log = logging.getLogger("casetasks.digests")

CLAIM = timedelta(minutes=5)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
SEND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Mailer:
    """SMTP_URL taken apart: smtp:// (STARTTLS when the server offers it) or smtps://."""

    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str, sender: str) -> Mailer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://…")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 25),
            use_tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )

    async def send(self, message: EmailMessage) -> None:
        message["From"] = self.sender
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            use_tls=self.use_tls,
            username=self.username,
            password=self.password,
            timeout=SEND_TIMEOUT_SECONDS,
        )


@dataclass(frozen=True)
class Line:
    name: str
    due: date
    client: str | None


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


async def _last_digest(session: AsyncSession, staff_id: int, day: date) -> datetime | None:
    return await session.scalar(
        select(col(DigestEmail.created_at))
        .where(col(DigestEmail.staff_id) == staff_id, col(DigestEmail.day) < day)
        .order_by(col(DigestEmail.day).desc())
        .limit(1)
    )


async def compose(
    session: AsyncSession, staff: Staff, provider: ServiceProvider, now: datetime
) -> Digest | None:
    """This person's digest for their provider's today; None with nothing to say."""
    today = now.astimezone(ZoneInfo(provider.timezone)).date()
    viewer = acting_as(staff, provider)
    held = open_tasks_held_by(staff.id or 0, staff.provider_id, col(Client.name))
    rows = list(
        await session.execute(held.outerjoin(Client, col(Client.id) == col(Task.client_id)))
    )
    since = await _last_digest(session, staff.id or 0, today) or now - timedelta(days=1)
    assigned = set(
        await session.scalars(
            select(col(Notification.task_id)).where(
                col(Notification.recipient_id) == staff.id,
                col(Notification.kind).in_(
                    [NotificationKind.TASK_ASSIGNED, NotificationKind.CASELOAD_RECEIVED]
                ),
                col(Notification.created_at) > since,
                col(Notification.task_id).is_not(None),
            )
        )
    )

    def line(task: Task, client_name: str | None) -> Line:
        view = permissions.task_view(viewer, task)
        shown = client_name if permissions.task_shows(view, permissions.TaskPart.CLIENT) else None
        return Line(task.name, task.due_date, shown)

    due_today = [line(t, c) for t, c in rows if t.due_date == today]
    overdue = [line(t, c) for t, c in rows if t.due_date < today]
    new = [line(t, c) for t, c in rows if t.id in assigned and t.due_date > today]
    if not (due_today or overdue or new):
        return None
    sections = [
        ("Due today", due_today),
        ("Overdue", overdue),
        ("Newly assigned to you", new),
    ]
    subject = (
        f"Your tasks for {today.strftime('%A %-d %B')}: {len(due_today)} due today, "
        f"{len(overdue)} overdue, {len(new)} newly assigned"
    )
    return Digest(subject, _text(staff.name, sections), _html(staff.name, sections))


def _describe(item: Line) -> str:
    client = f" ({item.client})" if item.client else ""
    return f"{item.name}{client}, due {item.due.isoformat()}"


def _text(name: str, sections: list[tuple[str, list[Line]]]) -> str:
    lines = [f"Hello {name},", ""]
    for title, items in sections:
        if items:
            lines.append(f"{title}:")
            lines.extend(f"- {_describe(item)}" for item in items)
            lines.append("")
    lines.append("You get this e-mail because the daily digest is on in your preferences.")
    return "\n".join(lines) + "\n"


def _html(name: str, sections: list[tuple[str, list[Line]]]) -> str:
    parts = [f"<p>Hello {html.escape(name)},</p>"]
    for title, items in sections:
        if items:
            parts.append(f"<h2>{html.escape(title)}</h2><ul>")
            parts.extend(f"<li>{html.escape(_describe(item))}</li>" for item in items)
            parts.append("</ul>")
    parts.append("<p>You get this e-mail because the daily digest is on in your preferences.</p>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


async def queue(session: AsyncSession, provider: ServiceProvider, now: datetime) -> int:
    """Records today's digests of the provider's opted-in staff (once per person per day)."""
    local = now.astimezone(ZoneInfo(provider.timezone))
    day_ends = datetime.combine(local.date() + timedelta(days=1), time(), local.tzinfo)
    people = list(
        await session.scalars(
            select(Staff).where(
                col(Staff.provider_id) == provider.id,
                col(Staff.active).is_(True),
                col(Staff.email_digest).is_(True),
            )
        )
    )
    queued = 0
    for person in people:
        digest = await compose(session, person, provider, now)
        if digest is None:
            continue
        statement = (
            insert_unless_claimed(session, DigestEmail)
            .values(
                staff_id=person.id,
                day=local.date(),
                recipient=person.email,
                subject=digest.subject,
                text_body=digest.text,
                html_body=digest.html,
                status=DigestStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                give_up_at=day_ends,
                created_at=now,
            )
            .returning(col(DigestEmail.id))
        )
        if await session.scalar(statement) is not None:
            queued += 1
    return queued


def message_of(row: DigestEmail) -> EmailMessage:
    message = EmailMessage()
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


async def due_ids(session: AsyncSession, now: datetime) -> list[int]:
    rows = await session.scalars(
        select(col(DigestEmail.id)).where(
            col(DigestEmail.status) == DigestStatus.PENDING.value,
            col(DigestEmail.next_attempt_at) <= now,
        )
    )
    return [i for i in rows if i is not None]


async def claim(session: AsyncSession, digest_id: int, now: datetime) -> DigestEmail | None:
    """The digest, when this sender got it: no other sender takes it for CLAIM."""
    result = await session.execute(
        update(DigestEmail)
        .where(
            col(DigestEmail.id) == digest_id,
            col(DigestEmail.status) == DigestStatus.PENDING.value,
            col(DigestEmail.next_attempt_at) <= now,
        )
        .values(next_attempt_at=now + CLAIM, attempts=col(DigestEmail.attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = await session.get(DigestEmail, digest_id, populate_existing=True)
    if row is not None and now >= row.give_up_at:
        row.status = DigestStatus.FAILED.value
        row.last_error = "the day it was for has ended"
        return None
    return row


def after_failure(row: DigestEmail, error: Exception, now: datetime) -> None:
    """Backoff, or giving up when the next try would fall after the day it was for."""
    retry_at = now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
    row.last_error = (
        f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
    )
    if retry_at >= row.give_up_at:
        row.status = DigestStatus.FAILED.value
    else:
        row.next_attempt_at = retry_at
    log.warning(
        "digest %s to staff %s not sent (attempt %s): %s; %s",
        row.id,
        row.staff_id,
        row.attempts,
        type(error).__name__,
        "giving up" if row.status == DigestStatus.FAILED.value else f"retry at {retry_at}",
    )
