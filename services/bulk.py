"""Changing many tasks at once from the Tasks screen: all or nothing.

Every task is checked with the single-task rules before anything is written; a task that fails
is named by its index in the input (["input", "ids", "<i>"]), so the person can untick it and
try again. The tasks are locked in id order, so two bulk changes never deadlock each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Task
from models.types import pk
from services import assignment, permissions, tasks
from services.clock import Clock, today_in
from services.errors import InvalidInput, Problem, ProblemCode, Problems
from services.task_checks import check_version, responsible_staff
from services.task_forms import PostponeBy
from services.validation import DateInput
from services.viewer import StaffViewer, Viewer

MAX_TASKS = 100
NOT_FOUND = "Not found (NOT_FOUND): no such task among your provider's tasks"


@dataclass(frozen=True)
class Selection:
    """The ticked tasks: task keys (0 for an id that names no task) and, optionally, the
    version each was read at."""

    ids: Sequence[int]
    expected_versions: Sequence[int | None] | None = None


def _check_selection(selection: Selection) -> None:
    problems = Problems()
    count = len(selection.ids)
    if count == 0:
        problems.required("ids", "Choose at least one task")
    elif count > MAX_TASKS:
        problems.invalid("ids", f"At most {MAX_TASKS} tasks can be changed at once ({count} given)")
    else:
        first_at: dict[int, int] = {}
        for index, key in enumerate(selection.ids):
            if key and key in first_at:
                problems.invalid_at(
                    ("ids", str(index)), f"The same task is already at index {first_at[key]}"
                )
            first_at.setdefault(key, index)
    versions = selection.expected_versions
    if versions is not None and len(versions) != count:
        problems.invalid(
            "expectedVersions", "Give one expected version per id, in the same order, or none"
        )
    problems.raise_any()


async def _locked(session: AsyncSession, staff: StaffViewer, ids: Sequence[int]) -> dict[int, Task]:
    """The tasks the viewer may change, under their row locks, taken in id order."""
    wanted = sorted({key for key in ids if key})
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Task).where(col(Task.id).in_(wanted)).order_by(col(Task.id)).with_for_update()
    )
    return {
        task.id: task
        for task in rows
        if task.id is not None and permissions.can_change_task(staff, task.provider_id)
    }


TaskCheck = Callable[[Problems, Task], None]


async def _checked(
    session: AsyncSession,
    staff: StaffViewer,
    selection: Selection,
    check: TaskCheck,
    shared: Problems | None = None,
) -> list[Task]:
    """The selected tasks in input order, when every one passes `check`; otherwise every
    failing task's problems, at its index, with the form's own problems (`shared`)."""
    _check_selection(selection)
    found = await _locked(session, staff, selection.ids)
    failures: list[Problem] = list(shared.items) if shared else []
    chosen: list[Task] = []
    for index, key in enumerate(selection.ids):
        at = ("input", "ids", str(index))
        task = found.get(key)
        if task is None:
            failures.append(Problem(at, ProblemCode.INVALID, NOT_FOUND))
            continue
        problems = Problems()
        check(problems, task)
        if selection.expected_versions is not None:
            await check_version(session, problems, task, selection.expected_versions[index])
        failures.extend(Problem(at, p.code, p.message) for p in problems.items)
        chosen.append(task)
    if failures:
        raise InvalidInput(failures)
    return chosen


def _no_check(_problems: Problems, _task: Task) -> None:
    return None


async def reassign_tasks(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    selection: Selection,
    responsible_ids: Sequence[int],
) -> list[Task]:
    staff = permissions.require_tasks(viewer)
    form = Problems()
    responsible = await responsible_staff(session, form, staff.provider_id, responsible_ids)
    chosen = await _checked(session, staff, selection, _no_check, form)
    now = clock.now()
    for task in chosen:
        await assignment.apply_reassign(session, staff, task, responsible, now)
    await session.flush()
    return chosen


async def postpone_tasks(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    selection: Selection,
    by: PostponeBy,
    custom_date: DateInput | None,
) -> list[Task]:
    staff = permissions.require_tasks(viewer)
    form = Problems()
    tasks.check_postpone(form, by, custom_date, today_in(clock, staff.provider_timezone))
    new_due: dict[int, date | None] = {}

    def check(problems: Problems, task: Task) -> None:
        new_due[pk(task)] = tasks.postponed_due(
            problems, task, by, custom_date, form_ok=not form.items
        )

    chosen = await _checked(session, staff, selection, check, form)
    now = clock.now()
    for task in chosen:
        due = new_due[pk(task)]
        assert due is not None
        tasks.apply_postpone(session, staff, task, due, now)
    await session.flush()
    return chosen


async def complete_tasks(
    session: AsyncSession, viewer: Viewer | None, clock: Clock, selection: Selection
) -> list[Task]:
    staff = permissions.require_tasks(viewer)
    chosen = await _checked(session, staff, selection, tasks.completion_problem)
    now = clock.now()
    for task in chosen:
        await tasks.apply_complete(session, task, staff, now)
    return chosen
