"""Tasks and their history, resolved from ORM rows; relations go through the DataLoaders."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Task as TaskRow
from models import TaskEvent as TaskEventRow
from models import TaskStatus as Status
from resolvers.context import Context
from schema.enums import TaskEventKind, TaskKind, TaskStatus
from schema.node import GraphQLInfo, Node, row_type_check

if TYPE_CHECKING:
    from schema.series import TaskSeries
from schema.people import Client, ServiceProvider, Staff, Viewer
from services.errors import Forbidden
from services.viewer import ClientViewer


def _viewer_row(ctx: Context, staff_id: int | None, client_id: int | None) -> Viewer | None:
    """Sync when already loaded; otherwise an awaitable, which GraphQL execution awaits."""
    if staff_id is not None:
        return ctx.loaders.staff.get(staff_id)  # type: ignore[return-value]
    if client_id is not None:
        return ctx.loaders.client.get(client_id)  # type: ignore[return-value]
    return None


async def _is_overdue(ctx: Context, task: TaskRow) -> bool:
    provider = await ctx.loaders.provider.load(task.provider_id)
    assert provider is not None
    ctx.timezones[task.provider_id] = provider.timezone
    return task.status == Status.OPEN and task.due_date < ctx.today(provider.timezone)


@strawberry.type
class TaskEvent:
    kind: TaskEventKind
    at: datetime
    summary: str = strawberry.field(
        description="Human-readable, e.g. 'Due date 2027-03-01 -> 2027-03-15'."
    )

    @strawberry.field
    def by(self, root: strawberry.Parent[TaskEventRow], info: GraphQLInfo) -> Viewer | None:
        return _viewer_row(info.context, root.by_staff_id, root.by_client_id)


@strawberry.type
class Task(Node):
    is_type_of = row_type_check(TaskRow)
    name: str
    details: str | None
    due_date: date
    status: TaskStatus
    kind: TaskKind
    assigned_to_client: bool = strawberry.field(
        description="The task is the client's to do: it shows in the client's Task Widget and "
        "the client may complete it."
    )
    created_at: datetime
    completed_at: datetime | None
    milestone_month: int | None = strawberry.field(
        description="1, 3, 6 or 12 for POST_EMPLOYMENT_OUTREACH tasks."
    )
    version: int = strawberry.field(
        description="Increases on every change; pass it back as expectedVersion to refuse "
        "overwriting someone else's change."
    )

    @strawberry.field(description="Open and due before today.")
    def overdue(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> bool:
        # Sync on the hot path: the provider's timezone is almost always already known.
        ctx = info.context
        timezone = ctx.timezones.get(root.provider_id)
        if timezone is None:
            return _is_overdue(ctx, root)  # type: ignore[return-value]
        return root.status == Status.OPEN and root.due_date < ctx.today(timezone)

    @strawberry.field
    def client(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> Client | None:
        if root.client_id is None:
            return None
        return info.context.loaders.client.get(root.client_id)  # type: ignore[return-value]

    @strawberry.field(
        description="The provider whose Tasks screen holds the task (the receiving provider for "
        "a task sent across providers)."
    )
    def service_provider(
        self, root: strawberry.Parent[TaskRow], info: GraphQLInfo
    ) -> ServiceProvider:
        return info.context.loaders.provider.get(root.provider_id)  # type: ignore[return-value]

    @strawberry.field(
        description="The provider whose staff created it; differs from serviceProvider for a "
        "task sent across providers."
    )
    def origin_provider(
        self, root: strawberry.Parent[TaskRow], info: GraphQLInfo
    ) -> ServiceProvider:
        return info.context.loaders.provider.get(root.origin_provider_id)  # type: ignore[return-value]

    @strawberry.field(description="Who's Responsible. Empty means Unassigned.")
    def responsible(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> list[Staff]:
        return info.context.loaders.responsible.get(root.id or 0)  # type: ignore[return-value]

    @strawberry.field
    def created_by(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> Staff | None:
        if root.created_by_id is None:
            return None
        return info.context.loaders.staff.get(root.created_by_id)  # type: ignore[return-value]

    @strawberry.field
    def completed_by(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> Viewer | None:
        return _viewer_row(info.context, root.completed_by_staff_id, root.completed_by_client_id)

    @strawberry.field(description="Set for occurrences of a repeating task.")
    def series(
        self, root: strawberry.Parent[TaskRow], info: GraphQLInfo
    ) -> Annotated[TaskSeries, strawberry.lazy("schema.series")] | None:
        if root.series_id is None or isinstance(info.context.viewer, ClientViewer):
            return None
        return info.context.loaders.series.get(root.series_id)  # type: ignore[return-value]

    @strawberry.field(
        description="What happened to the task, oldest first: created, edited, postponed, "
        "reassigned, completed, reopened."
    )
    def history(self, root: strawberry.Parent[TaskRow], info: GraphQLInfo) -> list[TaskEvent]:
        if isinstance(info.context.viewer, ClientViewer):
            raise Forbidden("A task's history is for staff")
        return info.context.loaders.history.get(root.id or 0)  # type: ignore[return-value]
