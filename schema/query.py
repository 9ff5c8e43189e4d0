"""The Query root."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import notifications as resolve_notifications
from resolvers import people as resolve_people
from resolvers import tasks as resolve_tasks
from schema.enums import TaskOrder
from schema.ids import from_global_id, key_of
from schema.inputs import TaskFilter
from schema.node import GraphQLInfo, Node
from schema.notifications import NotificationConnection
from schema.pages import ClientConnection, TaskConnection
from schema.people import Client, Viewer
from schema.prefetch import node_fields, prefetch_tasks
from schema.tasks import Task
from schema.workload import Workload
from services import task_queries
from services.errors import BadRequest, NotFound
from services.validation import InvalidDate, date_problem


def _domain_filter(given: TaskFilter | None) -> task_queries.TaskFilter:
    if given is None:
        return task_queries.TaskFilter()
    for label, value in (("dueFrom", given.due_from), ("dueTo", given.due_to)):
        if isinstance(value, InvalidDate):
            raise BadRequest(f"filter.{label}: {value.text!r} is not a calendar date")
        if value is not None and (problem := date_problem(value, f"filter.{label}")):
            raise BadRequest(problem)
    return task_queries.TaskFilter(
        client_id=key_of(given.client_id, "Client") if given.client_id is not None else None,
        responsible_id=(
            key_of(given.responsible_id, "Staff") if given.responsible_id is not None else None
        ),
        unassigned=given.unassigned,
        assigned_to_client=given.assigned_to_client,
        due_from=given.due_from,
        due_to=given.due_to,
        overdue=given.overdue,
        kind=given.kind,
        include_completed=bool(given.include_completed),
        search=given.search,
    )


async def resolve_node(info: GraphQLInfo, global_id: str) -> Node:
    decoded = from_global_id(global_id)
    if decoded is None:
        raise NotFound()
    type_name, key = decoded
    ctx = info.context
    if type_name == "Task":
        return await resolve_tasks.task(ctx, key)  # type: ignore[return-value]
    if type_name == "Staff":
        return await resolve_people.staff(ctx, key)  # type: ignore[return-value]
    if type_name == "Client":
        return await resolve_people.client(ctx, key)  # type: ignore[return-value]
    if type_name == "ServiceProvider":
        return await resolve_people.provider(ctx, key)  # type: ignore[return-value]
    if type_name == "ServiceProviderGroup":
        return await resolve_people.group(ctx, key)  # type: ignore[return-value]
    if type_name == "TaskSeries":
        return await resolve_tasks.series(ctx, key)  # type: ignore[return-value]
    if type_name == "Notification":
        return await resolve_notifications.notification(ctx, key)  # type: ignore[return-value]
    raise NotFound()


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: GraphQLInfo, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="The signed-in staff member or client; null when not signed in.")
    async def me(self, info: GraphQLInfo) -> Viewer | None:
        return await resolve_people.viewer_row(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description="The Tasks screen: tasks of the viewer's provider (staff with Tasks "
        "permission, administrators)."
    )
    async def tasks(
        self,
        info: GraphQLInfo,
        filter: TaskFilter | None = None,
        order_by: TaskOrder | None = task_queries.TaskOrder.DUE_DATE_ASC,
        first: int | None = 50,
        after: str | None = None,
    ) -> TaskConnection:
        order = task_queries.TaskOrder(order_by or task_queries.TaskOrder.DUE_DATE_ASC)
        page = await resolve_tasks.task_page(
            info.context, _domain_filter(filter), order, first, after
        )
        await prefetch_tasks(info.context, page.page.rows, node_fields(info))
        return TaskConnection.of(page.page, page.total_count)

    @strawberry.field(
        description="Signed-in client only: the Task Widget, the tasks assigned to this client."
    )
    async def my_tasks(
        self,
        info: GraphQLInfo,
        include_completed: bool | None = False,
        first: int | None = 50,
        after: str | None = None,
    ) -> TaskConnection:
        page = await resolve_tasks.my_tasks(info.context, bool(include_completed), first, after)
        await prefetch_tasks(info.context, page.page.rows, node_fields(info))
        return TaskConnection.of(page.page, page.total_count)

    @strawberry.field
    async def task(self, info: GraphQLInfo, id: strawberry.ID) -> Task | None:
        return await resolve_tasks.task(info.context, key_of(id, "Task"))  # type: ignore[return-value]

    @strawberry.field(description="Clients of the viewer's provider (staff only).")
    async def clients(
        self,
        info: GraphQLInfo,
        search: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> ClientConnection:
        page, total = await resolve_people.clients(info.context, search, first, after)
        return ClientConnection.of(page, total)

    @strawberry.field
    async def client(self, info: GraphQLInfo, id: strawberry.ID) -> Client | None:
        return await resolve_people.client(info.context, key_of(id, "Client"))  # type: ignore[return-value]

    @strawberry.field(
        description="The Dashboard Notifications Widget of the signed-in staff member."
    )
    async def notifications(
        self,
        info: GraphQLInfo,
        unread_only: bool | None = False,
        first: int | None = 50,
        after: str | None = None,
    ) -> NotificationConnection:
        page, unread = await resolve_notifications.notification_page(
            info.context, bool(unread_only), first, after
        )
        await info.context.loaders.task.prefetch(n.task_id for n in page.rows if n.task_id)
        return NotificationConnection.of(page, unread)

    @strawberry.field(description="(v2) Staff with Tasks permission and administrators.")
    async def workload(
        self,
        info: GraphQLInfo,
        due_within_days: Annotated[
            int | None,
            strawberry.argument(
                description="How many days from today dueSoon looks ahead (0 to 366; null: 7)."
            ),
        ] = 7,
    ) -> Workload:
        days = 7 if due_within_days is None else due_within_days
        return Workload.of(await resolve_tasks.workload(info.context, days))
