"""The Subscription root, served over graphql-transport-ws at /graphql.

Each resolver is a coroutine that returns its stream, not a generator: whether the viewer may
subscribe (and whether the ids and cursor they pass are theirs) is decided when the
subscription starts, so a refusal is the subscribe message's error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from models import Notification as NotificationRow
from models import NotificationKind
from models import Task as TaskRow
from resolvers import people as resolve_people
from resolvers.context import Context
from schema.ids import key_of
from schema.node import GraphQLInfo
from schema.notifications import (
    ClientTaskCompletion,
    Notification,
    UnassignedTaskAlert,
    client_completion,
    unassigned_alert,
)
from services import permissions
from services.permissions import Feed, TaskPart, TaskView
from services.recent import Recent
from subscriptions.streams import notification_stream


async def _task_of(ctx: Context, task_id: int) -> TaskRow | None:
    """The task as the event's shared read loaded it, else loaded now."""
    if task_id in ctx.seen_tasks:
        return ctx.seen_tasks[task_id]
    return await ctx.loaders.task.load(task_id)


# The alerts made for the rows of recent events; bounded, because an alert holds its rows.
_ALERTS: Recent[tuple[int, int], UnassignedTaskAlert] = Recent(1024)


def _alert_of(notification: NotificationRow, task: TaskRow) -> UnassignedTaskAlert:
    """One alert object for the rows an event's read handed every dashboard it woke, so that
    they share its execution (schema/execution.py). The alert holds both rows, so their ids in
    the key cannot be reused while the entry lives."""
    key = (id(notification), id(task))
    alert = _ALERTS.get(key)
    if alert is None:
        alert = unassigned_alert(notification, task)
        _ALERTS.put(key, alert)
    return alert


async def _alerts(
    ctx: Context, stream: AsyncIterator[NotificationRow]
) -> AsyncGenerator[UnassignedTaskAlert, None]:
    async for notification in stream:
        if notification.task_id is None:
            continue
        task = await _task_of(ctx, notification.task_id)
        # A task deleted meanwhile has nothing left to alert about.
        if task is not None and permissions.task_view(ctx.viewer, task) is TaskView.FULL:
            yield _alert_of(notification, task)


async def _completions(
    ctx: Context, stream: AsyncIterator[NotificationRow]
) -> AsyncGenerator[ClientTaskCompletion, None]:
    async for notification in stream:
        if notification.task_id is None or notification.client_id is None:
            continue  # the task was deleted meanwhile
        task = await _task_of(ctx, notification.task_id)
        if task is None or task.client_id != notification.client_id:
            continue
        view = permissions.task_view(ctx.viewer, task)
        if view is TaskView.NONE or not permissions.task_shows(view, TaskPart.CLIENT):
            continue
        client = await ctx.loaders.client.load(notification.client_id)
        if client is not None:
            yield client_completion(notification, task, client)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Staff of the receiving provider with Tasks permission.")
    async def unassigned_task_alerts(
        self, info: GraphQLInfo, after: str | None = None
    ) -> AsyncGenerator[UnassignedTaskAlert, None]:
        ctx = info.context
        kinds = [NotificationKind.UNASSIGNED_TASK]
        return _alerts(ctx, notification_stream(ctx, Feed.UNASSIGNED_TASK_ALERTS, after, kinds))

    @strawberry.subscription(
        description="Everything that enters the viewer's Dashboard Notifications Widget."
    )
    async def notification_added(
        self, info: GraphQLInfo, after: str | None = None
    ) -> AsyncGenerator[Notification, None]:
        return notification_stream(info.context, Feed.NOTIFICATION_ADDED, after)  # type: ignore[return-value]

    @strawberry.subscription(
        description="Staff: completions of tasks assigned to their clients (caseworker) or to "
        "tasks they are responsible for."
    )
    async def client_task_completions(
        self, info: GraphQLInfo, client_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[ClientTaskCompletion, None]:
        ctx = info.context
        permissions.require_subscriber(ctx.viewer, Feed.CLIENT_TASK_COMPLETIONS)
        only: int | None = None
        if client_id is not None:
            only = (await resolve_people.client(ctx, key_of(client_id, "Client"))).id
        kinds = [NotificationKind.CLIENT_TASK_COMPLETED]
        stream = notification_stream(ctx, Feed.CLIENT_TASK_COMPLETIONS, after, kinds, only)
        return _completions(ctx, stream)
