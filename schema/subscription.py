"""The Subscription root, served over graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from models import NotificationKind
from schema.node import GraphQLInfo
from schema.notifications import Notification, UnassignedTaskAlert, unassigned_alert
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
