"""Repeating tasks: a series, its occurrences on their scheduled dates, and series edits.

An occurrence exists as a Task of kind REPEATING from its scheduled date on (less the lead
days). Occurrences are made only for scheduled dates after the series' `materialized_until`,
under the series' row lock, so each is made once however many schedulers run, and a deleted
occurrence is never made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    ServiceProvider,
    Staff,
    Task,
    TaskEventKind,
    TaskKind,
    TaskSeries,
    TaskSeriesResponsible,
    TaskStatus,
)
from models.types import pk
from services import assignment, permissions, recurrence
from services.clock import Clock, today_in
from services.errors import Problems
from services.history import Changes, record_event, responsible_of
from services.recurrence import Recurrence
from services.rows import visible_row
from services.task_forms import TaskEdit
from services.validation import KEEP
from services.viewer import StaffViewer, Viewer


@dataclass(frozen=True)
class Template:
    """What every occurrence of a series starts from."""

    name: str
    details: str | None
    client_id: int | None
    assigned_to_client: bool
    responsible: Sequence[Staff]


async def start_series(
    session: AsyncSession,
    staff: StaffViewer,
    provider_id: int,
    rule: recurrence.Rule,
    template: Template,
    now: datetime,
) -> TaskSeries:
    series = TaskSeries(
        provider_id=provider_id,
        name=template.name,
        details=template.details,
        rrule=rule.text,
        start_date=rule.start,
        until=rule.until,
        count=rule.count,
        client_id=template.client_id,
        assigned_to_client=template.assigned_to_client,
        created_by_id=staff.staff_id,
        created_at=now,
        # The first occurrence is made by createTask itself, due on its due date.
        materialized_until=rule.start,
    )
    session.add(series)
    await session.flush()
    for position, member in enumerate(template.responsible):
        session.add(
            TaskSeriesResponsible(series_id=pk(series), staff_id=pk(member), position=position)
        )
    await session.flush()
    return series


async def _series_responsible(session: AsyncSession, series_id: int) -> list[int]:
    rows = await session.scalars(
        select(col(TaskSeriesResponsible.staff_id))
        .join(Staff, col(Staff.id) == col(TaskSeriesResponsible.staff_id))
        .where(col(TaskSeriesResponsible.series_id) == series_id, col(Staff.active).is_(True))
        .order_by(col(TaskSeriesResponsible.position))
    )
    return list(rows)


async def make_occurrence(
    session: AsyncSession, series: TaskSeries, scheduled: date, now: datetime
) -> Task:
    """A scheduled occurrence, made by the schedule rather than by a person."""
    responsible = await _series_responsible(session, series.id or 0)
    task = Task(
        provider_id=series.provider_id,
        origin_provider_id=series.provider_id,
        name=series.name,
        details=series.details,
        due_date=scheduled,
        kind=TaskKind.REPEATING,
        client_id=series.client_id,
        assigned_to_client=series.assigned_to_client,
        created_by_id=series.created_by_id,
        created_at=now,
        series_id=series.id,
        scheduled_date=scheduled,
        version=0,
    )
    session.add(task)
    await session.flush()
    assignment.add_responsible(session, task, responsible)
    record_event(
        session,
        task,
        TaskEventKind.CREATED,
        None,
        now,
        f"Created by the schedule of a repeating task, due {scheduled.isoformat()}",
    )
    await session.flush()
    await assignment.announce_new(session, task, responsible, None, now)
    return task


async def materialize(
    session: AsyncSession, series: TaskSeries, through: date, now: datetime
) -> list[Task]:
    """Makes the occurrences scheduled up to `through`; the caller holds the series' lock."""
    if series.ended or through <= series.materialized_until:
        return []
    due = recurrence.dates_between(
        series.rrule, series.start_date, series.materialized_until, through
    )
    # A completed occurrence kept through a series edit may already hold one of these dates.
    taken = set(
        await session.scalars(
            select(col(Task.scheduled_date)).where(
                col(Task.series_id) == series.id,
                col(Task.scheduled_date) > series.materialized_until,
            )
        )
    )
    made = [
        await make_occurrence(session, series, scheduled, now)
        for scheduled in due
        if scheduled not in taken
    ]
    series.materialized_until = through
    await session.flush()
    return made


async def horizon(session: AsyncSession, series: TaskSeries, clock: Clock, lead_days: int) -> date:
    """The last scheduled date whose occurrence should exist now: the provider's today + lead."""
    provider = await session.get(ServiceProvider, series.provider_id)
    assert provider is not None
    return today_in(clock, provider.timezone) + timedelta(days=lead_days)


async def materialize_due(
    session: AsyncSession, series: TaskSeries, clock: Clock, lead_days: int
) -> list[Task]:
    """Makes what is due now (through the provider's today + lead days)."""
    through = await horizon(session, series, clock, lead_days)
    return await materialize(session, series, through, clock.now())


async def materialize_one(
    session: AsyncSession, series_id: int, clock: Clock, lead_days: int
) -> list[Task]:
    """For the scheduler: lock one series and make what is due."""
    series = await session.get(TaskSeries, series_id, with_for_update=True)
    if series is None or series.ended:
        return []
    await session.refresh(series)  # another instance may have moved materialized_until
    return await materialize_due(session, series, clock, lead_days)


async def due_series_ids(
    session: AsyncSession, today_floor: date, clock: Clock, lead_days: int
) -> list[int]:
    """Series with an occurrence to make now: materialized short of their provider's today
    (+ lead days). Bounded first by the earliest timezone's today in SQL, then per provider,
    so a pass that has nothing to make opens no transaction per series."""
    rows = await session.execute(
        select(
            col(TaskSeries.id), col(TaskSeries.materialized_until), col(ServiceProvider.timezone)
        )
        .join(ServiceProvider, col(ServiceProvider.id) == col(TaskSeries.provider_id))
        .where(
            col(TaskSeries.ended).is_(False),
            col(TaskSeries.materialized_until) < today_floor,
        )
    )
    horizons: dict[str, date] = {}
    due: list[int] = []
    for series_id, materialized_until, timezone in rows:
        if timezone not in horizons:
            horizons[timezone] = today_in(clock, timezone) + timedelta(days=lead_days)
        if series_id is not None and materialized_until < horizons[timezone]:
            due.append(series_id)
    return due


# ---------------------------------------------------------------- reading


async def get_series(
    session: AsyncSession, viewer: Viewer | None, series_id: int, lock: bool = False
) -> TaskSeries:
    """The series, when the viewer may change it (NOT_FOUND otherwise); `lock`: under its row
    lock, as the scheduler takes it before making occurrences."""
    staff = permissions.require_tasks(viewer)
    return await visible_row(
        session, TaskSeries, series_id, permissions.tasks_changeable_by(staff), lock=lock
    )


async def upcoming(
    session: AsyncSession, series: TaskSeries, clock: Clock, first: int
) -> list[date]:
    """The next scheduled dates from today on, made already or not, less deleted ones."""
    if series.ended or first <= 0:
        return []
    provider = await session.get(ServiceProvider, series.provider_id)
    assert provider is not None
    today = today_in(clock, provider.timezone)
    existing = set(
        await session.scalars(
            select(col(Task.scheduled_date)).where(
                col(Task.series_id) == series.id,
                col(Task.scheduled_date) >= today,
            )
        )
    )
    found: list[date] = []
    for scheduled in recurrence.dates(series.rrule, series.start_date):
        if scheduled < today:
            continue
        if scheduled <= series.materialized_until and scheduled not in existing:
            continue  # that occurrence was deleted
        found.append(scheduled)
        if len(found) == first:
            break
    return found


# ---------------------------------------------------------------- this and following


async def end_from(session: AsyncSession, series: TaskSeries, day: date) -> list[int]:
    """Deletes the open occurrences from `day` on; the series makes no more, ever."""
    doomed = list(
        await session.scalars(
            select(col(Task.id)).where(
                col(Task.series_id) == series.id,
                col(Task.scheduled_date) >= day,
                col(Task.status) == TaskStatus.OPEN,
            )
        )
    )
    if doomed:
        await session.execute(delete(Task).where(col(Task.id).in_(doomed)))
    series.ended = True
    if day > series.start_date:
        series.rrule = recurrence.until_before(series.rrule, day)
        series.until = day - timedelta(days=1)
        series.count = None
    await session.flush()
    return [i for i in doomed if i is not None]


async def split_at(
    session: AsyncSession,
    series: TaskSeries,
    occurrence: Task,
    rule: recurrence.Rule,
    template: Template,
    staff: StaffViewer,
    now: datetime,
) -> TaskSeries:
    """The series from this occurrence on becomes a new series with the new rule and template;
    earlier and completed occurrences stay as they were. Completed later occurrences go with
    the new series, so that their dates are not made a second time."""
    day = occurrence.scheduled_date or occurrence.due_date
    later_open = list(
        await session.scalars(
            select(col(Task.id)).where(
                col(Task.series_id) == series.id,
                col(Task.scheduled_date) > day,
                col(Task.status) == TaskStatus.OPEN,
            )
        )
    )
    if later_open:
        await session.execute(delete(Task).where(col(Task.id).in_(later_open)))
    if day > series.start_date:
        series.rrule = recurrence.until_before(series.rrule, day)
        series.until = day - timedelta(days=1)
        series.count = None
        series.materialized_until = max(series.materialized_until, series.until)
        series.ended = True
        successor = await start_series(session, staff, series.provider_id, rule, template, now)
        await session.execute(
            update(Task)
            .where(
                col(Task.series_id) == series.id,
                col(Task.scheduled_date) > day,
                col(Task.status) == TaskStatus.COMPLETED,
            )
            .values(series_id=successor.id)
        )
    else:  # the first occurrence: the series itself changes
        successor = series
        series.rrule, series.start_date = rule.text, rule.start
        series.until, series.count = rule.until, rule.count
        series.name, series.details = template.name, template.details
        series.materialized_until = rule.start
        await session.execute(
            delete(TaskSeriesResponsible).where(col(TaskSeriesResponsible.series_id) == series.id)
        )
        for position, member in enumerate(template.responsible):
            session.add(
                TaskSeriesResponsible(series_id=pk(series), staff_id=pk(member), position=position)
            )
    occurrence.series_id = successor.id
    # A completed occurrence may already hold the new date; this one then keeps its own key.
    holder = await session.scalar(
        select(col(Task.id)).where(
            col(Task.series_id) == successor.id,
            col(Task.scheduled_date) == rule.start,
            col(Task.id) != occurrence.id,
        )
    )
    if holder is None:
        occurrence.scheduled_date = rule.start
    await session.flush()
    return successor


# ---------------------------------------------------------------- editing from an occurrence


def following_rule(
    problems: Problems, series: TaskSeries, task: Task, edit: TaskEdit
) -> recurrence.Rule | None:
    day = task.scheduled_date or task.due_date
    new_start = edit.due_date if isinstance(edit.due_date, date) else day
    if isinstance(edit.recurrence, Recurrence):
        checked = recurrence.check(problems, edit.recurrence, new_start)
        return recurrence.keep_skipped(series.rrule, checked) if checked else None
    weekdays = recurrence.weekdays_of(series.rrule)
    if weekdays and recurrence.WEEKDAYS[new_start.weekday()] not in weekdays:
        problems.invalid("dueDate", "The new due date must fall on one of the series' weekdays")
        return None
    rule = recurrence.reanchor(series.rrule, series.start_date, day, new_start)
    if rule.until is not None and new_start > rule.until:
        problems.invalid("dueDate", "The new due date is after the repeating task's end date")
        return None
    return recurrence.keep_skipped(series.rrule, rule)


async def change_following(
    session: AsyncSession,
    staff: StaffViewer,
    series: TaskSeries,
    task: Task,
    rule: recurrence.Rule,
    edit: TaskEdit,
    responsible: list[Staff] | None,
    changes: Changes,
    now: datetime,
) -> None:
    if responsible is None:
        responsible = list(
            await session.scalars(
                select(Staff)
                .join(TaskSeriesResponsible, col(TaskSeriesResponsible.staff_id) == col(Staff.id))
                .where(col(TaskSeriesResponsible.series_id) == series.id)
                .order_by(col(TaskSeriesResponsible.position))
            )
        )
    else:
        current = await responsible_of(session, pk(task))
        await assignment.replace_responsible(session, task, current, responsible, changes)
        before_ids = [staff_id for staff_id, _name in current]
        wanted_ids = [pk(member) for member in responsible]
        await assignment.announce_change(
            session, task, before_ids, task.assigned_to_client, wanted_ids, staff, now
        )
    template = Template(
        name=task.name if edit.name is not KEEP else series.name,
        details=task.details if edit.details is not KEEP else series.details,
        client_id=task.client_id if edit.client_id is not KEEP else series.client_id,
        assigned_to_client=series.assigned_to_client,
        responsible=responsible,
    )
    if recurrence.rule_of(rule.text) != recurrence.rule_of(series.rrule):
        changes.add(f"Repeats {recurrence.rule_of(rule.text)}")
    await split_at(session, series, task, rule, template, staff, now)
    changes.add("for this and the following occurrences")
