"""The Subscription root, served over graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from models import NotificationKind
from resolvers import people as resolve_people
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
from subscriptions.streams import notification_stream


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Staff of the receiving provider with Tasks permission.")
    async def unassigned_task_alerts(
        self, info: GraphQLInfo, after: str | None = None
    ) -> AsyncGenerator[UnassignedTaskAlert, None]:
        ctx = info.context
        stream = notification_stream(
            ctx, after, permissions.require_tasks, [NotificationKind.UNASSIGNED_TASK]
        )
        async for notification in stream:
            task = (
                await ctx.loaders.task.load(notification.task_id) if notification.task_id else None
            )
            if task is not None:  # a task deleted meanwhile has nothing left to alert about
                yield unassigned_alert(notification, task)

    @strawberry.subscription(
        description="Everything that enters the viewer's Dashboard Notifications Widget."
    )
    async def notification_added(
        self, info: GraphQLInfo, after: str | None = None
    ) -> AsyncGenerator[Notification, None]:
        async for notification in notification_stream(
            info.context, after, permissions.require_staff
        ):
            yield notification  # type: ignore[misc]

    @strawberry.subscription(
        description="Staff: completions of tasks assigned to their clients (caseworker) or to "
        "tasks they are responsible for."
    )
    async def client_task_completions(
        self, info: GraphQLInfo, client_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[ClientTaskCompletion, None]:
        ctx = info.context
        permissions.require_staff(ctx.viewer)
        only: int | None = None
        if client_id is not None:
            only = (await resolve_people.client(ctx, key_of(client_id, "Client"))).id
        stream = notification_stream(
            ctx, after, permissions.require_staff, [NotificationKind.CLIENT_TASK_COMPLETED], only
        )
        async for notification in stream:
            if notification.task_id is None or notification.client_id is None:
                continue  # the task was deleted meanwhile
            task = await ctx.loaders.task.load(notification.task_id)
            client = await ctx.loaders.client.load(notification.client_id)
            if task is not None and client is not None:
                yield client_completion(notification, task, client)
