"""What a submitted task must satisfy, and taking a task to change it (its row lock, and
NOT_FOUND for anyone who may not)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Staff, Task, TaskEvent
from services import permissions
from services.errors import Problems
from services.rows import visible_row
from services.validation import (
    DETAILS_MAX,
    TASK_NAME_MAX,
    DateInput,
    InvalidDate,
    blank,
    date_problem,
    text_problem,
)
from services.viewer import Viewer


def check_name(problems: Problems, name: str | None) -> None:
    if blank(name):
        problems.required("name", "Task Name must be entered")
    elif len(str(name).strip()) > TASK_NAME_MAX:
        problems.invalid("name", f"Task Name must be at most {TASK_NAME_MAX} characters")
    elif problem := text_problem(name, "Task Name"):
        problems.invalid("name", problem)


def check_due_date(problems: Problems, due: DateInput | None, label: str = "dueDate") -> None:
    if due is None:
        problems.required(label, "Due Date must be entered")
    elif isinstance(due, InvalidDate):
        problems.invalid(label, f"Due Date {due.text!r} is not a calendar date (YYYY-MM-DD)")
    elif problem := date_problem(due, "Due Date"):
        problems.invalid(label, problem)


def check_details(problems: Problems, details: str | None) -> None:
    if details is not None and len(details) > DETAILS_MAX:
        problems.invalid("details", f"Details must be at most {DETAILS_MAX} characters")
    elif problem := text_problem(details, "Details", multiline=True):
        problems.invalid("details", problem)


def check_date_from_today(
    problems: Problems,
    field: str,
    value: DateInput | None,
    today: date,
    *,
    missing: str,
    label: str,
    past: str,
) -> date | None:
    """A date that must be given, real, in range and not before the provider's today."""
    if value is None:
        problems.required(field, missing)
    elif isinstance(value, InvalidDate):
        problems.invalid(field, f"{value.text!r} is not a calendar date (YYYY-MM-DD)")
    elif problem := date_problem(value, label):
        problems.invalid(field, problem)
    elif value < today:
        problems.invalid(field, past)
    else:
        return value
    return None


async def responsible_staff(
    session: AsyncSession, problems: Problems, provider_id: int, staff_ids: Sequence[int]
) -> list[Staff]:
    """The named staff, in the order given, when every one is active staff of the provider."""
    wanted = list(dict.fromkeys(staff_ids))
    if not wanted:
        return []
    found = {
        s.id: s
        for s in await session.scalars(
            select(Staff).where(
                col(Staff.id).in_(wanted),
                col(Staff.provider_id) == provider_id,
                col(Staff.active).is_(True),
            )
        )
    }
    if len(found) != len(wanted):
        problems.invalid(
            "responsibleIds", "Who's Responsible must name active staff of the task's provider"
        )
        return []
    return [found[i] for i in wanted]


async def client_of(
    session: AsyncSession, problems: Problems, provider_id: int, client_id: int
) -> Client | None:
    client = await session.get(Client, client_id)
    if client is None or client.provider_id != provider_id:
        problems.invalid("clientId", "Client not found among the clients of the task's provider")
        return None
    return client


async def check_version(
    session: AsyncSession,
    problems: Problems,
    task: Task,
    expected: int | None,
    explain: bool = True,
) -> None:
    """explain=False for a client: what changed, and who changed it, is the task's history."""
    if expected is None or expected == task.version:
        return
    if not explain:
        problems.conflict(
            "expectedVersion",
            "This task was changed after you opened it. Reload it and try again.",
        )
        return
    rows = await session.execute(
        select(TaskEvent, col(Staff.name))
        .outerjoin(Staff, col(Staff.id) == col(TaskEvent.by_staff_id))
        .where(col(TaskEvent.task_id) == task.id, col(TaskEvent.version) > expected)
        .order_by(col(TaskEvent.version))
    )
    changes = [f"{event.summary} (by {who or 'someone'})" for event, who in rows]
    what = "; ".join(changes) if changes else "it was changed"
    problems.conflict(
        "expectedVersion",
        f"This task was changed after you opened it (your version {expected}, now "
        f"{task.version}): {what}. Reload it and try again.",
    )


async def load_for_change(session: AsyncSession, viewer: Viewer | None, task_id: int) -> Task:
    """The task under its row lock, when the viewer may change it; NOT_FOUND otherwise."""
    staff = permissions.require_tasks(viewer)
    return await visible_row(
        session, Task, task_id, permissions.tasks_changeable_by(staff), lock=True
    )
