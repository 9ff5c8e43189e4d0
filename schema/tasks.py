"""Tasks and their history, resolved from ORM rows; relations go through the DataLoaders.

The derived fields are registered with `computed` and declared as plain fields: see
schema.node.computed for why.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models import Task as TaskRow
from models import TaskEvent as TaskEventRow
from resolvers.context import Context
from schema.enums import TaskEventKind, TaskKind, TaskStatus
from schema.node import Node, computed, row_type_check
from schema.people import Client, ServiceProvider, Staff, Viewer
from services import permissions, rules
from services.permissions import TaskPart, TaskView

if TYPE_CHECKING:
    from schema.series import TaskSeries


def _viewer_row(ctx: Context, staff_id: int | None, client_id: int | None) -> Any:
    if staff_id is not None:
        return ctx.loaders.staff.get(staff_id)
    if client_id is not None:
        return ctx.loaders.client.get(client_id)
    return None


def visible_task(ctx: Context, task_id: int) -> TaskRow | Awaitable[TaskRow | None] | None:
    """A task reached from a notification, or None when the viewer
    may not see it at all; synchronous when the loader (or a subscription's shared read)
    holds it already."""
    if task_id in ctx.seen_tasks:
        return _visible(ctx, ctx.seen_tasks[task_id])
    loaded = ctx.loaders.task.get(task_id)
    if isinstance(loaded, Awaitable):
        return _visible_later(ctx, loaded)
    return _visible(ctx, loaded)


def _visible(ctx: Context, task: TaskRow | None) -> TaskRow | None:
    if task is None or permissions.task_view(ctx.viewer, task) is TaskView.NONE:
        return None
    return task


async def _visible_later(ctx: Context, loading: Awaitable[TaskRow | None]) -> TaskRow | None:
    return _visible(ctx, await loading)


@computed(TaskEventRow, "by")
def _event_by(event: TaskEventRow, ctx: Context) -> Any:
    return _viewer_row(ctx, event.by_staff_id, event.by_client_id)


@computed(TaskRow, "overdue")
def _overdue(task: TaskRow, ctx: Context) -> bool | Awaitable[bool]:
    timezone = ctx.timezones.get(task.provider_id)
    if timezone is None:
        return _overdue_later(task, ctx)
    return _is_overdue(task, ctx.today(timezone))


def _is_overdue(task: TaskRow, today: date) -> bool:
    return rules.holds([rules.overdue(today)], {"status": task.status, "due_date": task.due_date})


async def _overdue_later(task: TaskRow, ctx: Context) -> bool:
    provider = await ctx.loaders.provider.load(task.provider_id)
    assert provider is not None
    ctx.timezones[task.provider_id] = provider.timezone
    return _is_overdue(task, ctx.today(provider.timezone))


def _shows(task: TaskRow, ctx: Context, part: TaskPart) -> bool:
    """What a task shows depends on who looks: permissions.task_view decides, for every field."""
    return permissions.task_shows(permissions.task_view(ctx.viewer, task), part)


@computed(TaskRow, "details")
def _details(task: TaskRow, ctx: Context) -> str | None:
    return task.details if _shows(task, ctx, TaskPart.DETAILS) else None


@computed(TaskRow, "client")
def _client(task: TaskRow, ctx: Context) -> Any:
    if task.client_id is None or not _shows(task, ctx, TaskPart.CLIENT):
        return None
    return ctx.loaders.client.get(task.client_id)


@computed(TaskRow, "service_provider")
def _service_provider(task: TaskRow, ctx: Context) -> Any:
    return ctx.loaders.provider.get(task.provider_id)


@computed(TaskRow, "origin_provider")
def _origin_provider(task: TaskRow, ctx: Context) -> Any:
    return ctx.loaders.provider.get(task.origin_provider_id)


@computed(TaskRow, "responsible")
def _responsible(task: TaskRow, ctx: Context) -> Any:
    if not _shows(task, ctx, TaskPart.RESPONSIBLE):
        return []
    return ctx.loaders.responsible.get(task.id or 0)


@computed(TaskRow, "created_by")
def _created_by(task: TaskRow, ctx: Context) -> Any:
    if task.created_by_id is None or not _shows(task, ctx, TaskPart.CREATED_BY):
        return None
    return ctx.loaders.staff.get(task.created_by_id)


@computed(TaskRow, "completed_by")
def _completed_by(task: TaskRow, ctx: Context) -> Any:
    if not _shows(task, ctx, TaskPart.COMPLETED_BY):
        return None
    return _viewer_row(ctx, task.completed_by_staff_id, task.completed_by_client_id)


@computed(TaskRow, "series")
def _series(task: TaskRow, ctx: Context) -> Any:
    if task.series_id is None or not _shows(task, ctx, TaskPart.SERIES):
        return None
    return ctx.loaders.series.get(task.series_id)


@computed(TaskRow, "milestone_month")
def _milestone_month(task: TaskRow, ctx: Context) -> int | None:
    return task.milestone_month if _shows(task, ctx, TaskPart.MILESTONE) else None


@computed(TaskRow, "history")
def _history(task: TaskRow, ctx: Context) -> Any:
    if not _shows(task, ctx, TaskPart.HISTORY):
        return []
    return ctx.loaders.history.get(task.id or 0)


@strawberry.type
class TaskEvent:
    kind: TaskEventKind
    at: datetime
    by: Viewer | None
    summary: str = strawberry.field(
        description="Human-readable, e.g. 'Due date 2027-03-01 -> 2027-03-15'."
    )


@strawberry.type
class Task(Node):
    is_type_of = row_type_check(TaskRow)
    name: str
    details: str | None = strawberry.field(
        description="Null for staff of the provider that sent the task to another provider."
    )
    due_date: date
    status: TaskStatus
    overdue: bool = strawberry.field(description="Open and due before today.")
    kind: TaskKind
    client: Client | None = strawberry.field(
        description="Null for staff of the provider that sent the task to another provider: "
        "the client is the receiving provider's."
    )
    service_provider: ServiceProvider = strawberry.field(
        description="The provider whose Tasks screen holds the task (the receiving provider for "
        "a task sent across providers)."
    )
    origin_provider: ServiceProvider = strawberry.field(
        description="The provider whose staff created it; differs from serviceProvider for a "
        "task sent across providers."
    )
    responsible: list[Staff] = strawberry.field(
        description="Who's Responsible. Empty means Unassigned. Staff of another provider show "
        "their name only."
    )
    assigned_to_client: bool = strawberry.field(
        description="The task is the client's to do: it shows in the client's Task Widget and "
        "the client may complete it."
    )
    created_by: Staff | None
    created_at: datetime
    completed_at: datetime | None
    completed_by: Viewer | None = strawberry.field(
        description="Null for staff of the provider that sent the task to another provider."
    )
    series: Annotated[TaskSeries, strawberry.lazy("schema.series")] | None = strawberry.field(
        description="Set for occurrences of a repeating task. Null for a client and for the "
        "provider that sent the task to another provider."
    )
    milestone_month: int | None = strawberry.field(
        description="1, 3, 6 or 12 for POST_EMPLOYMENT_OUTREACH tasks."
    )
    version: int = strawberry.field(
        description="Increases on every change; pass it back as expectedVersion to refuse "
        "overwriting someone else's change."
    )
    history: list[TaskEvent] = strawberry.field(
        description="What happened to the task, oldest first: created, edited, postponed, "
        "reassigned, completed, reopened. Staff only (FORBIDDEN for a client); empty for the "
        "provider that sent the task to another provider."
    )
