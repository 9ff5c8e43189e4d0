"""Who's Responsible for a task: writing it, and who hears of it.

One rule for every way a task gets or loses its people (adding it, reassigning it, a repeating
task's schedule, an outreach milestone, a change to the following occurrences): those made
responsible by someone else are told (TASK_ASSIGNED); a task left with no one, and not the
client's to do, is Unassigned and alerts the Tasks staff of its provider (UNASSIGNED_TASK); a
task that has someone again ends its Unassigned stint and that alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Staff, Task, TaskEventKind, TaskResponsible
from models.types import pk
from services import notifications
from services.history import Changes, people_text, record_event, responsible_of
from services.lookups import provider_name
from services.viewer import StaffViewer


def add_responsible(session: AsyncSession, task: Task, staff_ids: Sequence[int]) -> None:
    """The task's Who's Responsible rows, in the order given (the task has none yet)."""
    for position, staff_id in enumerate(staff_ids):
        session.add(TaskResponsible(task_id=pk(task), staff_id=staff_id, position=position))


async def replace_responsible(
    session: AsyncSession,
    task: Task,
    current: Sequence[tuple[int, str]],
    responsible: Sequence[Staff],
    changes: Changes,
) -> None:
    """Who's Responsible, `current` as responsible_of read it, replaced by `responsible`; the
    history's words for it ("Responsible: Ana Silva -> Ben Okafor") added to `changes`."""
    before = people_text([name for _staff_id, name in current])
    changes.add(f"Responsible: {before} -> {people_text([m.name for m in responsible])}")
    await session.execute(delete(TaskResponsible).where(col(TaskResponsible.task_id) == task.id))
    add_responsible(session, task, [pk(member) for member in responsible])


async def announce_new(
    session: AsyncSession,
    task: Task,
    responsible_ids: Sequence[int],
    made_by: StaffViewer | None,
    now: datetime,
) -> None:
    """A task just made and flushed: its responsible are told by whoever made it (no one is
    told of what the schedule makes); with no one, and not the client's, it is Unassigned and
    alerts its provider, naming the provider it came from."""
    if responsible_ids:
        if made_by is not None:
            await notifications.tell_assigned(
                session, task, responsible_ids, made_by.staff_id, made_by.name, now
            )
    elif not task.assigned_to_client:
        origin = await provider_name(session, task.origin_provider_id)
        await notifications.alert_unassigned(session, task, origin, now)


async def announce_change(
    session: AsyncSession,
    task: Task,
    before_ids: Sequence[int],
    was_for_client: bool,
    responsible_ids: Sequence[int],
    changed_by: StaffViewer,
    now: datetime,
) -> None:
    """After Who's Responsible (or whether it is the client's) changed, its rows written: the
    change is flushed, the newly responsible told; a task that has someone now ends its
    Unassigned stint (with the task's own UPDATE), one left with no one is alerted."""
    if responsible_ids or task.assigned_to_client:
        was_unassigned = not before_ids and not was_for_client
        await notifications.resolve_unassigned(session, task, now, was_unassigned)
    await session.flush()
    if responsible_ids:
        newly = [staff_id for staff_id in responsible_ids if staff_id not in before_ids]
        await notifications.tell_assigned(
            session, task, newly, changed_by.staff_id, changed_by.name, now
        )
    elif not task.assigned_to_client and (before_ids or was_for_client):
        origin = await provider_name(session, task.origin_provider_id)
        await notifications.alert_unassigned(session, task, origin, now)


async def apply_reassign(
    session: AsyncSession,
    staff: StaffViewer,
    task: Task,
    responsible: Sequence[Staff],
    now: datetime,
    assigned_to_client: bool | None = None,
) -> None:
    """Who's Responsible replaced (checked already), with its history event and notifications."""
    current = await responsible_of(session, pk(task))
    current_ids = [staff_id for staff_id, _name in current]
    wanted_ids = [pk(member) for member in responsible]
    changes = Changes()
    if current_ids != wanted_ids:
        await replace_responsible(session, task, current, responsible, changes)
    was_for_client = task.assigned_to_client
    if assigned_to_client is not None and assigned_to_client != was_for_client:
        changes.add(f"Assigned to the client: {_yes(was_for_client)} -> {_yes(assigned_to_client)}")
        task.assigned_to_client = assigned_to_client
    if not changes:
        return
    record_event(session, task, TaskEventKind.REASSIGNED, staff, now, changes.text())
    await announce_change(session, task, current_ids, was_for_client, wanted_ids, staff, now)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
