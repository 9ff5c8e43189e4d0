"""The Dashboard Notifications Widget."""

from __future__ import annotations

from collections.abc import Sequence

from models import Notification
from resolvers.changes import change
from resolvers.context import Context
from services import notifications
from services.pagination import Page


async def notification_page(
    ctx: Context, unread_only: bool, first: int | None, after: str | None
) -> tuple[Page[Notification], int]:
    async with ctx.session_factory() as session:
        return await notifications.list_notifications(
            session, ctx.viewer, unread_only, first, after
        )


async def mark_read(ctx: Context, ids: Sequence[int] | None) -> int:
    async with change(ctx) as session:
        return await notifications.mark_read(session, ctx.viewer, ids, ctx.clock.now())


async def notification(ctx: Context, notification_id: int) -> Notification:
    async with ctx.session_factory() as session:
        return await notifications.get_notification(session, ctx.viewer, notification_id)
