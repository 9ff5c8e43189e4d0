"""Reading tasks: the Tasks screen's filtered, keyset-paginated list, and single lookups."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Task, TaskKind, TaskResponsible, TaskStatus
from services import permissions, rules
from services.clock import Clock, today_in
from services.errors import BadRequest, NotFound
from services.pagination import Page, check_page_size, decode_cursor, encode_cursor
from services.validation import clean, contains_pattern
from services.viewer import Viewer


class TaskOrder(enum.StrEnum):
    DUE_DATE_ASC = "DUE_DATE_ASC"
    DUE_DATE_DESC = "DUE_DATE_DESC"
    CREATED_AT_DESC = "CREATED_AT_DESC"


@dataclass
class TaskFilter:
    client_id: int | None = None
    responsible_id: int | None = None
    unassigned: bool | None = None
    assigned_to_client: bool | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    kind: TaskKind | None = None
    include_completed: bool = False
    search: str | None = None


@dataclass(frozen=True)
class TaskPage:
    page: Page[Task]
    total_count: int


def in_scope(alternative: rules.Alternative) -> Any:
    """A rule's alternative as a SQLAlchemy condition on Task."""
    return and_(
        *(
            getattr(Task, t.attribute) < t.value
            if isinstance(t, rules.Before)
            else getattr(Task, t.attribute).is_(t.value)
            if isinstance(t.value, bool)  # IS, as the partial indexes are written
            else getattr(Task, t.attribute) == t.value
            for t in alternative
        )
    )


def open_tasks_held_by(staff_id: int, provider_id: int, *columns: Any) -> Select[Any]:
    """The open tasks a staff member is responsible for on their provider's Tasks screen, by
    due date (their calendar feed, their digest), with any further columns asked for."""
    return (
        select(Task, *columns)
        .join(TaskResponsible, col(TaskResponsible.task_id) == col(Task.id))
        .where(
            col(TaskResponsible.staff_id) == staff_id,
            col(Task.provider_id) == provider_id,
            col(Task.status) == TaskStatus.OPEN,
        )
        .order_by(col(Task.due_date), col(Task.id))
    )


def _sort_key(order: TaskOrder, task: Task) -> list[Any]:
    if order == TaskOrder.CREATED_AT_DESC:
        return [task.created_at.isoformat(), task.id]
    return [task.due_date.isoformat(), task.id]


def filtered(query: Select[Any], f: TaskFilter, today: date) -> Select[Any]:
    conditions: list[Any] = []
    if not f.include_completed:
        conditions.append(Task.status == TaskStatus.OPEN)
    if f.client_id is not None:
        conditions.append(Task.client_id == f.client_id)
    if f.responsible_id is not None:
        # IN over task_responsible (staff_id, task_id): both databases can start from the
        # person's assignments (SQLite evaluates a correlated EXISTS once per task).
        mine = select(col(TaskResponsible.task_id)).where(
            col(TaskResponsible.staff_id) == f.responsible_id
        )
        conditions.append(col(Task.id).in_(mine))
    if f.unassigned is not None:
        nobody = and_(
            ~exists().where(col(TaskResponsible.task_id) == col(Task.id)),
            col(Task.assigned_to_client).is_(False),
        )
        conditions.append(nobody if f.unassigned else ~nobody)
    if f.assigned_to_client is not None:
        conditions.append(col(Task.assigned_to_client).is_(f.assigned_to_client))
    if f.due_from is not None:
        conditions.append(Task.due_date >= f.due_from)
    if f.due_to is not None:
        conditions.append(Task.due_date <= f.due_to)
    if f.overdue is not None:
        late = in_scope(rules.overdue(today))
        if f.overdue:
            conditions.append(late)
        elif f.include_completed:
            conditions.append(~late)
        else:  # open tasks only already: "not overdue" is a range of the due-date index
            conditions.append(col(Task.due_date) >= today)
    if f.kind is not None:
        conditions.append(Task.kind == f.kind)
    if text := clean(f.search):
        pattern = contains_pattern(text)
        conditions.append(
            or_(
                func.lower(Task.name).like(pattern, escape="\\"),
                # '' inline, not a parameter: the expression of the trigram index (migration 0005).
                func.lower(func.coalesce(Task.details, literal_column("''"))).like(
                    pattern, escape="\\"
                ),
            )
        )
    return query.where(*conditions)


def _ordered_after(query: Select[Any], order: TaskOrder, after: str | None) -> Select[Any]:
    if order == TaskOrder.CREATED_AT_DESC:
        columns: tuple[Any, Any] = (Task.created_at, Task.id)
        query = query.order_by(col(Task.created_at).desc(), col(Task.id).desc())
    else:
        columns = (Task.due_date, Task.id)
        if order == TaskOrder.DUE_DATE_ASC:
            query = query.order_by(col(Task.due_date).asc(), col(Task.id).asc())
        else:
            query = query.order_by(col(Task.due_date).desc(), col(Task.id).desc())
    if after is None:
        return query
    first_value, last_id = decode_cursor(after, order.value, 2)
    try:
        key: Any = (
            _parse_instant(first_value)
            if order == TaskOrder.CREATED_AT_DESC
            else date.fromisoformat(first_value)
        )
    except (TypeError, ValueError):
        raise BadRequest("after is not a cursor returned by this list") from None
    # A forged id (text, null, 1.5, too big) would otherwise reach the database as a type error.
    if type(last_id) is not int or not 0 <= last_id <= 2**31 - 1:
        raise BadRequest("after is not a cursor returned by this list")
    if order == TaskOrder.DUE_DATE_ASC:
        return query.where(tuple_(*columns) > tuple_(key, last_id))
    return query.where(tuple_(*columns) < tuple_(key, last_id))


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def page_statements(
    scope: Any,
    today: date,
    task_filter: TaskFilter,
    order: TaskOrder,
    after: str | None,
    limit: int,
) -> tuple[Select[Any], Select[Any]]:
    """The page (limit + 1 rows, each with the total) and the count alone (for an empty page).

    The total rides along with the page (an uncorrelated subquery, computed once): one
    statement and one round trip instead of two. Only an empty page asks separately."""
    count_query = filtered(select(func.count()).select_from(Task).where(scope), task_filter, today)
    total_column = count_query.correlate(None).scalar_subquery().label("total_count")
    base = filtered(select(Task, total_column).where(scope), task_filter, today)
    return _ordered_after(base, order, after).limit(limit + 1), count_query


async def _page(
    session: AsyncSession,
    scope: Any,
    today: date,
    task_filter: TaskFilter,
    order: TaskOrder,
    first: int | None,
    after: str | None,
) -> TaskPage:
    limit = check_page_size(first)
    statement, count_query = page_statements(scope, today, task_filter, order, after, limit)
    found = (await session.execute(statement)).all()
    rows = [task for task, _total in found]
    total = int(found[0][1]) if found else int(await session.scalar(count_query) or 0)
    page_rows = rows[:limit]
    cursors = [encode_cursor(order.value, _sort_key(order, t)) for t in page_rows]
    return TaskPage(
        page=Page(rows=page_rows, cursors=cursors, has_next_page=len(rows) > limit),
        total_count=total,
    )


async def list_provider_tasks(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    task_filter: TaskFilter,
    order: TaskOrder,
    first: int | None,
    after: str | None,
) -> TaskPage:
    """The Tasks screen of the viewer's provider."""
    staff = permissions.require_tasks(viewer)
    today = today_in(clock, staff.provider_timezone)
    scope = in_scope(permissions.task_list_scope(staff))
    return await _page(session, scope, today, task_filter, order, first, after)


async def list_my_tasks(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    include_completed: bool,
    first: int | None,
    after: str | None,
) -> TaskPage:
    """The client's Task Widget: tasks assigned to this client, soonest due first."""
    client = permissions.require_client(viewer)
    today = today_in(clock, client.provider_timezone)
    scope = in_scope(permissions.task_list_scope(client))
    task_filter = TaskFilter(include_completed=include_completed)
    return await _page(session, scope, today, task_filter, TaskOrder.DUE_DATE_ASC, first, after)


async def list_series_occurrences(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    series_id: int,
    include_completed: bool,
    first: int | None,
    after: str | None,
) -> TaskPage:
    staff = permissions.require_tasks(viewer)
    today = today_in(clock, staff.provider_timezone)
    scope = and_(col(Task.series_id) == series_id, col(Task.provider_id) == staff.provider_id)
    task_filter = TaskFilter(include_completed=include_completed)
    return await _page(session, scope, today, task_filter, TaskOrder.DUE_DATE_ASC, first, after)


async def get_task(session: AsyncSession, viewer: Viewer | None, task_id: int) -> Task:
    """Staff with the Tasks screen: their provider's tasks and those it sent. A client: the
    tasks assigned to them. What each of them sees of it is permissions.task_view's."""
    permissions.require_task_reader(viewer)
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound()
    permissions.require_task_view(viewer, task)
    return task
