"""The Dashboard Notifications Widget: who is told what, and reading it back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Notification, NotificationKind, Staff, Task, TaskResponsible
from services import permissions
from services.errors import BadRequest
from services.outbox import outbox
from services.pagination import Page, check_page_size, decode_cursor, encode_cursor
from services.rows import visible_row
from services.viewer import Viewer

CURSOR = "NOTIFICATION"


def notification_cursor(notification_id: int) -> str:
    return encode_cursor(CURSOR, [notification_id])


def notification_id_of(cursor: str) -> int:
    (notification_id,) = decode_cursor(cursor, CURSOR, 1)
    # Only an id this list handed out: anything else must not reach the query (INTERNAL).
    if type(notification_id) is not int or not 0 <= notification_id < 2**31:
        raise BadRequest("after is not a cursor returned by this list")
    return notification_id


async def _commit_ordered(session: AsyncSession) -> None:
    """Serialise notification writers so ids are handed out in commit order.

    Subscribers replay "everything after id N"; a lower id committing after a higher one
    would be skipped. On SQLite writers are serialised already (BEGIN IMMEDIATE).
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(727001)"))


async def notify(
    session: AsyncSession,
    recipients: Iterable[int],
    kind: NotificationKind,
    message: str,
    now: datetime,
    task_id: int | None = None,
    client_id: int | None = None,
) -> list[Notification]:
    people = sorted(set(recipients))
    if not people:
        return []
    await _commit_ordered(session)
    rows = [
        Notification(
            recipient_id=person,
            kind=kind,
            task_id=task_id,
            client_id=client_id,
            message=message,
            created_at=now,
        )
        for person in people
    ]
    session.add_all(rows)
    await session.flush()
    outbox(session).notifications.extend((row.recipient_id, row.id or 0) for row in rows)
    return rows


async def task_staff_of(session: AsyncSession, provider_id: int) -> list[int]:
    """Active staff who use the Tasks screen of a provider."""
    rows = await session.scalars(
        select(col(Staff.id)).where(
            col(Staff.provider_id) == provider_id, permissions.uses_tasks_clause()
        )
    )
    return [i for i in rows if i is not None]


async def alert_unassigned(
    session: AsyncSession, task: Task, origin_name: str, now: datetime
) -> None:
    task.unassigned_since = now  # its Unassigned stint starts (UNASSIGNED_ESCALATION)
    recipients = await task_staff_of(session, task.provider_id)
    message = f"Unassigned task from {origin_name}: {task.name} (due {task.due_date.isoformat()})"
    await notify(session, recipients, NotificationKind.UNASSIGNED_TASK, message, now, task.id)


async def resolve_unassigned(
    session: AsyncSession, task: Task, now: datetime, was_unassigned: bool
) -> None:
    """Someone is responsible now (or it is the client's to do): the Unassigned stint is over
    (written with the task's next flush) and its alert read for everyone.

    Only a task that was Unassigned can have an unread alert: alert_unassigned starts a stint
    and sends it, and every change that ends one comes here (migration 0008 started the stints
    of the tasks Unassigned then). A task that had someone already writes nothing more."""
    if task.unassigned_since is None and not was_unassigned:
        return
    task.unassigned_since = None
    await session.execute(
        update(Notification)
        .where(
            col(Notification.task_id) == task.id,
            col(Notification.kind) == NotificationKind.UNASSIGNED_TASK,
            col(Notification.read_at).is_(None),
        )
        .values(read_at=now)
    )


async def tell_assigned(
    session: AsyncSession,
    task: Task,
    newly_responsible: Sequence[int],
    by_staff_id: int,
    by_name: str,
    now: datetime,
) -> None:
    """TASK_ASSIGNED, to those made responsible by someone else."""
    recipients = [s for s in newly_responsible if s != by_staff_id]
    message = f"{by_name} made you responsible for: {task.name} (due {task.due_date.isoformat()})"
    await notify(session, recipients, NotificationKind.TASK_ASSIGNED, message, now, task.id)


async def tell_client_completed(
    session: AsyncSession, task: Task, client_name: str, now: datetime
) -> None:
    """CLIENT_TASK_COMPLETED, to the client's caseworker and the task's responsible staff."""
    caseworker = await session.scalar(
        select(col(Client.caseworker_id)).where(col(Client.id) == task.client_id)
    )
    responsible = await session.scalars(
        select(col(TaskResponsible.staff_id)).where(col(TaskResponsible.task_id) == task.id)
    )
    wanted = {*responsible, *([caseworker] if caseworker else [])}
    active = await session.scalars(
        select(col(Staff.id)).where(
            col(Staff.id).in_(wanted),
            col(Staff.provider_id) == task.provider_id,
            col(Staff.active).is_(True),
        )
    )
    message = f"{client_name} completed: {task.name}"
    await notify(
        session,
        [i for i in active if i is not None],
        NotificationKind.CLIENT_TASK_COMPLETED,
        message,
        now,
        task.id,
        task.client_id,
    )


def _mine(staff_id: int) -> Any:
    return Notification.recipient_id == staff_id


async def list_notifications(
    session: AsyncSession,
    viewer: Viewer | None,
    unread_only: bool,
    first: int | None,
    after: str | None,
) -> tuple[Page[Notification], int]:
    """Newest first; `after` pages towards older entries. Returns the page and unread count."""
    staff = permissions.require_staff(viewer)
    limit = check_page_size(first)
    query = select(Notification).where(_mine(staff.staff_id))
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    if after is not None:
        query = query.where(col(Notification.id) < notification_id_of(after))
    rows = list(
        (await session.scalars(query.order_by(col(Notification.id).desc()).limit(limit + 1))).all()
    )
    page_rows = rows[:limit]
    page = Page(
        rows=page_rows,
        cursors=[notification_cursor(n.id or 0) for n in page_rows],
        has_next_page=len(rows) > limit,
    )
    return page, await unread_count(session, staff.staff_id)


async def unread_count(session: AsyncSession, staff_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Notification)
        .where(
            _mine(staff_id),
            col(Notification.read_at).is_(None),
        )
    )
    return int(await session.scalar(query) or 0)


async def mark_read(
    session: AsyncSession, viewer: Viewer | None, ids: Sequence[int] | None, now: datetime
) -> int:
    """Marks some (or, with None, all) of the viewer's own notifications read."""
    staff = permissions.require_staff(viewer)
    statement = update(Notification).where(
        _mine(staff.staff_id),
        col(Notification.read_at).is_(None),
    )
    if ids is not None:
        statement = statement.where(col(Notification.id).in_(list(ids)))
    await session.execute(statement.values(read_at=now))
    return await unread_count(session, staff.staff_id)


async def notifications_after(
    session: AsyncSession,
    staff_id: int,
    after_id: int,
    kinds: Sequence[NotificationKind] | None = None,
    client_id: int | None = None,
    limit: int = 500,
) -> list[Notification]:
    """For subscription replay: the person's notifications after an id, oldest first."""
    query = select(Notification).where(_mine(staff_id), col(Notification.id) > after_id)
    if kinds:
        query = query.where(col(Notification.kind).in_(list(kinds)))
    if client_id is not None:
        query = query.where(col(Notification.client_id) == client_id)
    return list((await session.scalars(query.order_by(col(Notification.id)).limit(limit))).all())


async def latest_id(session: AsyncSession, staff_id: int) -> int:
    return int(await session.scalar(select(func.max(Notification.id)).where(_mine(staff_id))) or 0)


async def get_notification(
    session: AsyncSession, viewer: Viewer | None, notification_id: int
) -> Notification:
    staff = permissions.require_staff(viewer)
    return await visible_row(
        session, Notification, notification_id, lambda found: found.recipient_id == staff.staff_id
    )
