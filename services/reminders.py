"""Reminders: DUE_SOON and OVERDUE to the responsible staff at the provider's sendAtHour, and
UNASSIGNED_ESCALATION to its administrators when a task stays Unassigned too long.

Each reminder is claimed in reminder_sent under a key (kind, task, occasion) before its
notifications are written, in the same transaction: however many passes run at once (several
servers, `casetasks remind`), one claims it and the others insert nothing. The occasion is the
due date (postponing re-arms DUE_SOON and OVERDUE) or the start of the Unassigned stint. Only
open tasks are considered, so completing or deleting a task cancels what it has not yet had.

A pass only ever looks at the provider's today: a server that was down at sendAtHour sends the
day's reminders when it comes back that day, never a past day's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    NotificationKind,
    ReminderSent,
    ServiceProvider,
    Staff,
    Task,
    TaskResponsible,
    TaskStatus,
)
from services import notifications, permissions
from services.claims import insert_unless_claimed

DUE_SOON_DAYS_MAX = 30
ESCALATE_HOURS_MAX = 24 * 30


@dataclass
class Sent:
    due_soon: int = 0
    overdue: int = 0
    escalations: int = 0
    digests: int = 0

    def __bool__(self) -> bool:
        return bool(self.due_soon or self.overdue or self.escalations or self.digests)

    def add(self, other: Sent) -> None:
        self.due_soon += other.due_soon
        self.overdue += other.overdue
        self.escalations += other.escalations
        self.digests += other.digests


def local_now(provider: ServiceProvider, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(provider.timezone))


def day_is_due(provider: ServiceProvider, now: datetime, again: bool = False) -> bool:
    """Whether the provider's day pass runs now: its sendAtHour has come today (its own
    timezone) and the day has not been done (`again`: done or not, the claims keep anything
    from going out twice)."""
    local = local_now(provider, now)
    if local.hour < provider.send_at_hour:
        return False
    return again or provider.reminders_done_for != local.date()


def _has_eligible_responsible() -> Any:
    return exists().where(
        col(TaskResponsible.task_id) == col(Task.id),
        col(TaskResponsible.staff_id) == col(Staff.id),
        permissions.uses_tasks_clause(),
    )


async def _claim(
    session: AsyncSession, kind: NotificationKind, occasions: dict[int, str], now: datetime
) -> set[int]:
    """The tasks whose reminder this pass claimed (others had it claimed already)."""
    if not occasions:
        return set()
    rows = [
        {"kind": kind.value, "task_id": task_id, "occasion": occasion, "sent_at": now}
        for task_id, occasion in occasions.items()
    ]
    statement = (
        insert_unless_claimed(session, ReminderSent)
        .values(rows)
        .returning(col(ReminderSent.task_id))
    )
    return set((await session.scalars(statement)).all())


async def _responsible(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(col(TaskResponsible.task_id), col(Staff.id))
        .join(Staff, col(Staff.id) == col(TaskResponsible.staff_id))
        .where(col(TaskResponsible.task_id).in_(task_ids), permissions.uses_tasks_clause())
    )
    found: dict[int, list[int]] = {}
    for task_id, staff_id in rows:
        if staff_id is not None:
            found.setdefault(task_id, []).append(staff_id)
    return found


def _when(due: date, today: date) -> str:
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days ({due.isoformat()})"


async def _day_reminders(
    session: AsyncSession,
    provider: ServiceProvider,
    kind: NotificationKind,
    condition: ColumnElement[bool],
    message: Callable[[Task], str],
    now: datetime,
) -> int:
    tasks = list(
        await session.scalars(
            select(Task).where(
                col(Task.provider_id) == provider.id,
                col(Task.status) == TaskStatus.OPEN,
                condition,
                _has_eligible_responsible(),
            )
        )
    )
    claimed = await _claim(
        session, kind, {t.id: t.due_date.isoformat() for t in tasks if t.id}, now
    )
    chosen = [t for t in tasks if t.id in claimed]
    recipients = await _responsible(session, [t.id for t in chosen if t.id])
    for task in chosen:
        await notifications.notify(
            session, recipients.get(task.id or 0, []), kind, message(task), now, task.id
        )
    return len(chosen)


async def day_pass(session: AsyncSession, provider: ServiceProvider, now: datetime) -> Sent:
    """The day's DUE_SOON and OVERDUE of one provider (call once its sendAtHour has come)."""
    today = local_now(provider, now).date()
    sent = Sent()
    if provider.due_soon_days is not None:
        last = today + timedelta(days=provider.due_soon_days)
        sent.due_soon = await _day_reminders(
            session,
            provider,
            NotificationKind.DUE_SOON,
            col(Task.due_date).between(today, last),
            lambda task: f"Due {_when(task.due_date, today)}: {task.name}",
            now,
        )
    if provider.overdue_reminders:
        yesterday = today - timedelta(days=1)
        sent.overdue = await _day_reminders(
            session,
            provider,
            NotificationKind.OVERDUE,
            col(Task.due_date) == yesterday,
            lambda task: f"Overdue: {task.name} (was due {task.due_date.isoformat()})",
            now,
        )
    provider.reminders_done_for = today
    return sent


async def escalations(session: AsyncSession, provider: ServiceProvider, now: datetime) -> int:
    """UNASSIGNED_ESCALATION for tasks Unassigned longer than the provider allows, once per
    stint (checked on every scheduler tick)."""
    hours = provider.escalate_unassigned_after_hours
    if hours is None:
        return 0
    tasks = list(
        await session.scalars(
            select(Task).where(
                col(Task.provider_id) == provider.id,
                col(Task.status) == TaskStatus.OPEN,
                col(Task.assigned_to_client).is_(False),
                col(Task.unassigned_since) <= now - timedelta(hours=hours),
                ~exists().where(col(TaskResponsible.task_id) == col(Task.id)),
                # A stint escalated already is not read again: without this, every tick of
                # every instance loaded and claimed again each task left Unassigned for good
                # (26,000 at the bench's L size). The claim's key still decides; this only
                # keeps from asking (a claim made after the stint began is this stint's).
                ~exists().where(
                    col(ReminderSent.kind) == NotificationKind.UNASSIGNED_ESCALATION.value,
                    col(ReminderSent.task_id) == col(Task.id),
                    col(ReminderSent.sent_at) > col(Task.unassigned_since),
                ),
            )
        )
    )
    occasions = {t.id: t.unassigned_since.isoformat() for t in tasks if t.id and t.unassigned_since}
    claimed = await _claim(session, NotificationKind.UNASSIGNED_ESCALATION, occasions, now)
    if not claimed:
        return 0
    administrators = list(
        await session.scalars(
            select(col(Staff.id)).where(
                col(Staff.provider_id) == provider.id,
                col(Staff.active).is_(True),
                col(Staff.is_administrator).is_(True),
            )
        )
    )
    for task in tasks:
        if task.id in claimed:
            await notifications.notify(
                session,
                [i for i in administrators if i is not None],
                NotificationKind.UNASSIGNED_ESCALATION,
                f"Unassigned for more than {_hours(hours)}: {task.name} "
                f"(due {task.due_date.isoformat()})",
                now,
                task.id,
            )
    return len(claimed)


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"
