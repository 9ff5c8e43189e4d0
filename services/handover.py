"""Handing a departing caseworker's caseload to a colleague, in one transaction.

Set-based: a caseload of thousands of tasks is a handful of statements, not a loop of
single-task changes. Each moved task still gets its REASSIGNED history event and a new version,
so an open form holding the old version is told what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, delete, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Client,
    NotificationKind,
    Staff,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskResponsible,
    TaskSeries,
    TaskSeriesResponsible,
    TaskStatus,
)
from models.types import UTCDateTime
from services import notifications, permissions
from services.clock import Clock
from services.errors import Problems
from services.rows import visible_row
from services.viewer import StaffViewer, Viewer


@dataclass(frozen=True)
class HandOver:
    tasks: int
    series: int
    clients: int


async def _staff_of(session: AsyncSession, admin: StaffViewer, staff_id: int) -> Staff:
    return await visible_row(session, Staff, staff_id, permissions.own_provider_of(admin))


async def hand_over_caseload(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    from_staff_id: int,
    to_staff_id: int,
    include_clients: bool,
) -> HandOver:
    admin = permissions.require_administrator(
        viewer, "Only administrators can hand a caseload over"
    )
    giver = await _staff_of(session, admin, from_staff_id)
    receiver = await _staff_of(session, admin, to_staff_id)
    problems = Problems()
    if giver.id == receiver.id:
        problems.invalid("toStaffId", "Choose someone other than the person handing over")
    elif not receiver.active:
        problems.invalid("toStaffId", f"{receiver.name} is deactivated")
    elif not permissions.uses_tasks(receiver):
        problems.invalid("toStaffId", f"{receiver.name} does not have the Tasks permission")
    problems.raise_any()

    now = clock.now()
    moved = await _move_tasks(session, admin, giver, receiver, now)
    series = await _move_series(session, admin, giver, receiver)
    clients = 0
    if include_clients:
        result = await session.execute(
            update(Client)
            .where(
                col(Client.provider_id) == admin.provider_id,
                col(Client.caseworker_id) == giver.id,
            )
            .values(caseworker_id=receiver.id)
        )
        clients = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.flush()
    if moved or series or clients:
        await notifications.notify(
            session,
            [receiver.id or 0],
            NotificationKind.CASELOAD_RECEIVED,
            f"{admin.name} handed {giver.name}'s caseload over to you: {_count(moved, 'task')}, "
            f"{_count(series, 'repeating task')}, {_count(clients, 'client')}",
            now,
        )
    return HandOver(tasks=moved, series=series, clients=clients)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


async def _move_tasks(
    session: AsyncSession, admin: StaffViewer, giver: Staff, receiver: Staff, now: datetime
) -> int:
    caseload = (
        select(col(TaskResponsible.task_id))
        .join(Task, col(Task.id) == col(TaskResponsible.task_id))
        .where(
            col(TaskResponsible.staff_id) == giver.id,
            col(Task.provider_id) == admin.provider_id,
            col(Task.status) == TaskStatus.OPEN,
        )
    )
    # Lock the caseload first, as single-task changes do: each later statement (a new snapshot
    # on PostgreSQL) then sees the caseload as it is under the locks, not as it was before a
    # concurrent change committed; that change, if it comes second, sees the new version.
    await session.execute(
        select(col(Task.id)).where(col(Task.id).in_(caseload.scalar_subquery())).with_for_update()
    )
    bumped = await session.execute(
        update(Task)
        .where(col(Task.id).in_(caseload.scalar_subquery()))
        .values(version=col(Task.version) + 1)
        .execution_options(synchronize_session=False)
    )
    moved = int(bumped.rowcount or 0)  # type: ignore[attr-defined]
    if not moved:
        return 0
    summary = f"Caseload handed over by {admin.name}: {giver.name} -> {receiver.name}"
    await session.execute(
        insert(TaskEvent).from_select(
            ["task_id", "kind", "at", "by_staff_id", "summary", "version"],
            select(
                col(Task.id),
                literal(TaskEventKind.REASSIGNED.value, String()),
                literal(now, UTCDateTime()),
                literal(admin.staff_id, Integer()),
                literal(summary, String()),
                col(Task.version),
            ).where(col(Task.id).in_(caseload.scalar_subquery())),
        )
    )
    await _swap(session, _TASK_LINKS, "task_id", caseload.scalar_subquery(), giver, receiver)
    return moved


async def _move_series(
    session: AsyncSession, admin: StaffViewer, giver: Staff, receiver: Staff
) -> int:
    """Future occurrences of the giver's repeating tasks go to the receiver."""
    theirs = (
        select(col(TaskSeriesResponsible.series_id))
        .join(TaskSeries, col(TaskSeries.id) == col(TaskSeriesResponsible.series_id))
        .where(
            col(TaskSeriesResponsible.staff_id) == giver.id,
            col(TaskSeries.provider_id) == admin.provider_id,
            col(TaskSeries.ended).is_(False),
        )
    )
    series_ids = list(await session.scalars(theirs))
    if not series_ids:
        return 0
    await _swap(session, _SERIES_LINKS, "series_id", series_ids, giver, receiver)
    return len(series_ids)


async def _swap(
    session: AsyncSession,
    table: Table,
    owner: str,
    owners: Any,
    giver: Staff,
    receiver: Staff,
) -> None:
    """In a table of who is responsible for what: the receiver takes the giver's place (and
    position); where the receiver is responsible already, the giver just steps off."""
    holder = table.alias("holder")
    receiver_holds = exists().where(
        holder.c[owner] == table.c[owner], holder.c.staff_id == receiver.id
    )
    mine = (table.c[owner].in_(owners), table.c.staff_id == giver.id)
    await session.execute(delete(table).where(*mine, receiver_holds))
    await session.execute(update(table).where(*mine).values(staff_id=receiver.id))


_TASK_LINKS: Table = TaskResponsible.__table__  # type: ignore[attr-defined]
_SERIES_LINKS: Table = TaskSeriesResponsible.__table__  # type: ignore[attr-defined]
