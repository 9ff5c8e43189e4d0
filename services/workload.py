"""The provider's workload at a glance: who has how much open, overdue and soon-due work.

Counted by the Tasks screen's own rules (services/task_queries.py: the provider's task list,
overdue in the provider's timezone, "Unassigned"), so every figure equals the totalCount of the
matching task list: open = tasks(filter: {responsibleId}), overdue = the same with overdue: true,
dueSoon = the same with dueFrom: today, dueTo: today + dueWithinDays, unassigned =
tasks(filter: {unassigned: true}).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Staff, Task, TaskResponsible, TaskStatus
from services import permissions, rules
from services.clock import Clock, today_in
from services.errors import BadRequest
from services.task_queries import TaskFilter, filtered, in_scope
from services.viewer import Viewer

MAX_DUE_WITHIN_DAYS = 366
COMPLETED_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class StaffLoad:
    staff_id: int
    open: int
    overdue: int
    due_soon: int
    completed_last_30_days: int


@dataclass(frozen=True)
class Workload:
    staff: list[StaffLoad]
    unassigned: int


async def workload(
    session: AsyncSession, viewer: Viewer | None, clock: Clock, due_within_days: int
) -> Workload:
    """Administrators: every active staff member who may use the Tasks screen, most overdue
    first. Other staff with the Tasks permission: their own row. One statement."""
    staff = permissions.require_tasks(viewer)
    if not 0 <= due_within_days <= MAX_DUE_WITHIN_DAYS:
        raise BadRequest(
            f"dueWithinDays must be between 0 and {MAX_DUE_WITHIN_DAYS}, got {due_within_days}"
        )
    today = today_in(clock, staff.provider_timezone)
    listed = in_scope(permissions.task_list_scope(staff))
    open_listed = and_(listed, col(Task.status) == TaskStatus.OPEN)

    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)

    completed = (
        select(func.count())
        .where(
            col(Task.completed_by_staff_id) == col(Staff.id),
            col(Task.completed_at) >= clock.now() - COMPLETED_WINDOW,
            listed,
        )
        .scalar_subquery()
    )
    # Staff LEFT JOIN their open listed tasks, one GROUP BY for every figure of a row.
    assignments = (
        select(
            col(TaskResponsible.staff_id),
            col(Task.due_date),
            in_scope(rules.overdue(today)).label("overdue"),
        )
        .join(Task, col(Task.id) == col(TaskResponsible.task_id))
        .where(open_listed)
        .subquery()
    )
    rows_query = (
        select(
            col(Staff.id),
            func.count(assignments.c.staff_id),
            counted(assignments.c.overdue),
            counted(
                and_(
                    assignments.c.due_date >= today,
                    assignments.c.due_date <= today + timedelta(days=due_within_days),
                )
            ),
            completed,
            # The same for every row: the provider's Unassigned tasks, as the list filters them.
            filtered(
                select(func.count()).select_from(Task).where(listed),
                TaskFilter(unassigned=True),
                today,
            ).scalar_subquery(),
        )
        .outerjoin(assignments, assignments.c.staff_id == col(Staff.id))
        .where(col(Staff.provider_id) == staff.provider_id, col(Staff.active).is_(True))
        .group_by(col(Staff.id))
    )
    if staff.is_administrator:
        rows_query = rows_query.where(permissions.uses_tasks_clause())
    else:
        rows_query = rows_query.where(col(Staff.id) == staff.staff_id)
    rows = (await session.execute(rows_query)).all()
    # The viewer's own row is always there (an administrator is listed too).
    unassigned = int(rows[0][-1]) if rows else 0
    loads = [StaffLoad(*row[:-1]) for row in rows]
    loads.sort(key=lambda load: (-load.overdue, -load.open, load.staff_id))
    return Workload(loads, unassigned)
