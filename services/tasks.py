"""What can happen to a task: add, edit, postpone, reassign, complete, reopen, delete.

Every change takes the task's row lock, bumps its version and writes one history event in the
same transaction, so history and version never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    ServiceProvider,
    Staff,
    Task,
    TaskEventKind,
    TaskKind,
    TaskSeries,
    TaskStatus,
)
from models.types import pk
from services import assignment, notifications, permissions, recurrence
from services import series as series_service
from services.clock import Clock, today_in
from services.errors import Problems
from services.history import (
    Changes,
    client_name,
    people_text,
    record_event,
    short,
)
from services.lookups import provider_name
from services.rows import visible_row
from services.task_checks import (
    check_date_from_today,
    check_details,
    check_due_date,
    check_name,
    check_version,
    client_of,
    load_for_change,
    responsible_staff,
)
from services.task_forms import (
    POSTPONE_DAYS,
    ChangeScope,
    NewTask,
    PostponeBy,
    TaskEdit,
)
from services.validation import (
    KEEP,
    DateInput,
    clean,
    date_problem,
)
from services.viewer import ClientViewer, StaffViewer, Viewer


async def _receiving_provider(
    session: AsyncSession, problems: Problems, staff: StaffViewer, provider_id: int
) -> ServiceProvider | None:
    """A provider of the sender's group, when the sender holds the group Tasks permission."""
    if not permissions.may_send_to_group(staff):
        problems.invalid(
            "serviceProviderId",
            "You need the group Tasks permission to send tasks to another provider",
        )
        return None
    provider = await session.get(ServiceProvider, provider_id)
    if provider is None or provider.group_id != staff.group_id:
        problems.invalid("serviceProviderId", "You can only send tasks to providers of your group")
        return None
    return provider


async def create_task(
    session: AsyncSession, viewer: Viewer | None, clock: Clock, new: NewTask, lead_days: int = 0
) -> Task:
    """A task; with a recurrence, a repeating task: its series and its first occurrence."""
    staff = permissions.require_tasks(viewer)
    problems = Problems()
    check_name(problems, new.name)
    check_due_date(problems, new.due_date)
    check_details(problems, new.details)
    provider_id = staff.provider_id
    sending = new.service_provider_id not in (None, staff.provider_id)
    if sending:
        receiving = await _receiving_provider(
            session, problems, staff, new.service_provider_id or 0
        )
        provider_id = receiving.id if receiving and receiving.id else 0
    responsible: list[Staff] = []
    if new.responsible_ids:
        if provider_id:
            responsible = await responsible_staff(
                session, problems, provider_id, new.responsible_ids
            )
    elif not sending and not new.assigned_to_client:
        problems.required("responsibleIds", "Who's Responsible must be entered")
    if new.assigned_to_client and new.client_id is None:
        problems.required("clientId", "Choose the client the task is assigned to")
    if new.client_id is not None and provider_id:
        await client_of(session, problems, provider_id, new.client_id)
    rule = recurrence.check(problems, new.recurrence, new.due_date) if new.recurrence else None
    problems.raise_any()
    assert isinstance(new.due_date, date)

    now = clock.now()
    series = None
    if rule is not None:
        template = series_service.Template(
            name=str(new.name).strip(),
            details=clean(new.details),
            client_id=new.client_id,
            assigned_to_client=new.assigned_to_client,
            responsible=responsible,
        )
        series = await series_service.start_series(session, staff, provider_id, rule, template, now)
    task = Task(
        provider_id=provider_id,
        origin_provider_id=staff.provider_id,
        name=str(new.name).strip(),
        details=clean(new.details),
        due_date=new.due_date,
        client_id=new.client_id,
        assigned_to_client=new.assigned_to_client,
        created_by_id=staff.staff_id,
        created_at=now,
        kind=TaskKind.REPEATING if series else TaskKind.STANDARD,
        series_id=series.id if series else None,
        scheduled_date=new.due_date if series else None,
        version=0,
    )
    session.add(task)
    await session.flush()
    responsible_ids = [pk(member) for member in responsible]
    assignment.add_responsible(session, task, responsible_ids)
    summary = f"Created, due {new.due_date.isoformat()}, responsible: " + people_text(
        [m.name for m in responsible]
    )
    if new.assigned_to_client:
        summary += ", assigned to the client"
    if sending:
        summary += f" (sent by {await provider_name(session, staff.provider_id)})"
    record_event(session, task, TaskEventKind.CREATED, staff, now, summary)
    await session.flush()
    await assignment.announce_new(session, task, responsible_ids, staff, now)
    if series is not None:  # occurrences already due (a series started in the past)
        await series_service.materialize_due(session, series, clock, lead_days)
    return task


async def update_task(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_id: int,
    edit: TaskEdit,
    expected_version: int | None,
    scope: ChangeScope = ChangeScope.THIS,
    lead_days: int = 0,
) -> Task:
    """THIS changes one task (one occurrence). THIS_AND_FOLLOWING on an occurrence changes the
    series from it on, leaving earlier and completed occurrences as they were."""
    task = await load_for_change(session, viewer, task_id)
    staff = permissions.require_tasks(viewer)
    following = scope == ChangeScope.THIS_AND_FOLLOWING and task.series_id is not None
    problems = Problems()
    if edit.name is not KEEP:
        check_name(problems, edit.name)
    if edit.due_date is not KEEP:
        check_due_date(problems, edit.due_date)
    if edit.details is not KEEP:
        check_details(problems, edit.details)
    if edit.client_id is not KEEP and edit.client_id is not None:
        await client_of(session, problems, task.provider_id, edit.client_id)
    if edit.client_id is None and task.assigned_to_client:
        # Otherwise the task would be no one's: in no Task Widget and never Unassigned.
        problems.required(
            "clientId", "A task assigned to the client needs the client; reassign it first"
        )
    if not following and (edit.recurrence is not KEEP or edit.responsible_ids is not KEEP):
        problems.invalid(
            "scope", "A new rule or Who's Responsible needs THIS_AND_FOLLOWING on a repeating task"
        )
    responsible: list[Staff] | None = None
    if following and edit.responsible_ids is not KEEP:
        responsible = await responsible_staff(
            session, problems, task.provider_id, edit.responsible_ids
        )
    series: TaskSeries | None = None
    rule: recurrence.Rule | None = None
    if following:
        series = await session.get(TaskSeries, task.series_id, with_for_update=True)
        assert series is not None
        rule = series_service.following_rule(problems, series, task, edit)
    await check_version(session, problems, task, expected_version)
    problems.raise_any()

    changes = Changes()
    if edit.name is not KEEP and str(edit.name).strip() != task.name:
        changes.add(f"Name {task.name!r} -> {str(edit.name).strip()!r}")
        task.name = str(edit.name).strip()
    if edit.details is not KEEP and clean(edit.details) != task.details:
        changes.add(f"Details {short(task.details)!r} -> {short(clean(edit.details))!r}")
        task.details = clean(edit.details)
    if edit.due_date is not KEEP and edit.due_date != task.due_date:
        assert isinstance(edit.due_date, date)
        changes.add(f"Due date {task.due_date.isoformat()} -> {edit.due_date.isoformat()}")
        task.due_date = edit.due_date
    if edit.client_id is not KEEP and edit.client_id != task.client_id:
        before = await client_name(session, task.client_id)
        after = await client_name(session, edit.client_id)
        changes.add(f"Client: {before} -> {after}")
        task.client_id = edit.client_id
    now = clock.now()
    if series is not None and rule is not None:
        await series_service.change_following(
            session, staff, series, task, rule, edit, responsible, changes, now
        )
    if changes:
        record_event(session, task, TaskEventKind.EDITED, staff, now, changes.text())
        await session.flush()
    if series is not None and task.series_id is not None:
        successor = await session.get(TaskSeries, task.series_id)
        assert successor is not None
        await series_service.materialize_due(session, successor, clock, lead_days)
    return task


def check_postpone(
    problems: Problems, by: PostponeBy, custom_date: DateInput | None, today: date
) -> None:
    """What the postpone form itself must satisfy, whatever the task."""
    if by == PostponeBy.CUSTOM:
        check_date_from_today(
            problems,
            "customDate",
            custom_date,
            today,
            missing="Choose the date to postpone the task to",
            label="The new due date",
            past="The new due date cannot be in the past",
        )
    elif custom_date is not None:
        problems.invalid("customDate", "A custom date goes with the CUSTOM option only")


def postponed_due(
    problems: Problems, task: Task, by: PostponeBy, custom_date: DateInput | None, form_ok: bool
) -> date | None:
    """The task's new due date; None with a problem noted, or when the form itself is wrong
    (check_postpone names that)."""
    if task.status == TaskStatus.COMPLETED:
        problems.invalid(None, "A completed task cannot be postponed; reopen it first")
        return None
    if not form_ok:
        return None
    if by == PostponeBy.CUSTOM:
        assert isinstance(custom_date, date)
        if custom_date <= task.due_date:
            problems.invalid(
                "customDate",
                f"The new due date must be after the current one ({task.due_date.isoformat()})",
            )
            return None
        return custom_date
    new_due = task.due_date + timedelta(days=POSTPONE_DAYS[by])
    if problem := date_problem(new_due, "The new due date"):
        problems.invalid("by", problem)
        return None
    return new_due


def apply_postpone(
    session: AsyncSession, staff: StaffViewer, task: Task, new_due: date, now: datetime
) -> None:
    summary = f"Due date {task.due_date.isoformat()} -> {new_due.isoformat()}"
    task.due_date = new_due
    record_event(session, task, TaskEventKind.POSTPONED, staff, now, summary)


async def postpone_task(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_id: int,
    by: PostponeBy,
    custom_date: DateInput | None,
    expected_version: int | None,
) -> Task:
    task = await load_for_change(session, viewer, task_id)
    staff = permissions.require_tasks(viewer)
    form = Problems()
    check_postpone(form, by, custom_date, today_in(clock, staff.provider_timezone))
    problems = Problems()
    new_due = postponed_due(problems, task, by, custom_date, form_ok=not form.items)
    problems.items += form.items
    await check_version(session, problems, task, expected_version)
    problems.raise_any()
    assert new_due is not None
    apply_postpone(session, staff, task, new_due, clock.now())
    await session.flush()
    return task


async def reassign_task(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_id: int,
    responsible_ids: Sequence[int],
    expected_version: int | None,
    assigned_to_client: bool | None = None,
) -> Task:
    task = await load_for_change(session, viewer, task_id)
    staff = permissions.require_tasks(viewer)
    problems = Problems()
    responsible = await responsible_staff(session, problems, task.provider_id, responsible_ids)
    if assigned_to_client and task.client_id is None:
        problems.invalid("assignedToClient", "Only a task about a client can be assigned to them")
    await check_version(session, problems, task, expected_version)
    problems.raise_any()
    await assignment.apply_reassign(
        session, staff, task, responsible, clock.now(), assigned_to_client
    )
    return task


async def _load_for_client(session: AsyncSession, viewer: ClientViewer, task_id: int) -> Task:
    """A client changes only tasks assigned to them."""
    return await visible_row(
        session,
        Task,
        task_id,
        lambda found: found.client_id == viewer.client_id and found.assigned_to_client,
        lock=True,
    )


async def complete_task(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_id: int,
    expected_version: int | None,
) -> Task:
    """Staff with the Tasks permission, or the client the task is assigned to."""
    if isinstance(viewer, ClientViewer):
        task = await _load_for_client(session, viewer, task_id)
        done_by: Viewer = viewer
    else:
        task = await load_for_change(session, viewer, task_id)
        done_by = permissions.require_tasks(viewer)
    problems = Problems()
    completion_problem(problems, task)
    await check_version(
        session, problems, task, expected_version, explain=isinstance(done_by, StaffViewer)
    )
    problems.raise_any()

    await apply_complete(session, task, done_by, clock.now())
    return task


def completion_problem(problems: Problems, task: Task) -> None:
    if task.status == TaskStatus.COMPLETED:
        problems.invalid(None, "This task is already completed")


async def apply_complete(session: AsyncSession, task: Task, done_by: Viewer, now: datetime) -> None:
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.completed_by_staff_id = done_by.staff_id if isinstance(done_by, StaffViewer) else None
    task.completed_by_client_id = done_by.client_id if isinstance(done_by, ClientViewer) else None
    record_event(
        session, task, TaskEventKind.COMPLETED, done_by, now, f"Completed by {done_by.name}"
    )
    await session.flush()
    if isinstance(done_by, ClientViewer):
        await notifications.tell_client_completed(session, task, done_by.name, now)


async def reopen_task(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_id: int,
    expected_version: int | None,
) -> Task:
    task = await load_for_change(session, viewer, task_id)
    staff = permissions.require_tasks(viewer)
    problems = Problems()
    if task.status != TaskStatus.COMPLETED:
        problems.invalid(None, "Only a completed task can be reopened")
    await check_version(session, problems, task, expected_version)
    problems.raise_any()

    task.status = TaskStatus.OPEN
    task.completed_at = None
    task.completed_by_staff_id = None
    task.completed_by_client_id = None
    record_event(
        session, task, TaskEventKind.REOPENED, staff, clock.now(), f"Reopened by {staff.name}"
    )
    await session.flush()
    return task


async def delete_task(
    session: AsyncSession,
    viewer: Viewer | None,
    task_id: int,
    scope: ChangeScope = ChangeScope.THIS,
) -> list[int]:
    """THIS deletes one task (an occurrence is skipped). THIS_AND_FOLLOWING on an occurrence
    deletes the repeating task: this and every later open occurrence, and no more are made.
    A POST_EMPLOYMENT_OUTREACH task is always deleted alone."""
    task = await load_for_change(session, viewer, task_id)
    if (
        scope == ChangeScope.THIS_AND_FOLLOWING
        and task.series_id is not None
        and task.kind == TaskKind.REPEATING
    ):
        series = await session.get(TaskSeries, task.series_id, with_for_update=True)
        assert series is not None
        return await series_service.end_from(session, series, task.scheduled_date or task.due_date)
    await session.execute(delete(Task).where(col(Task.id) == task.id))
    return [task_id]
