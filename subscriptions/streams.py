"""Subscription streams: replay what the dashboard missed, then go on live, no gap, no twice.

The listener is registered before the replay reads the database, so an event committed while
the replay runs is both in the replay and in the queue; every event only prompts a read of
"the viewer's notifications after the last one sent", so nothing is sent twice, and since
notification ids follow commit order, nothing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from models import Notification, NotificationKind
from resolvers.context import Context
from services import notifications
from services.auth import viewer_for_token
from services.errors import DomainError
from services.viewer import StaffViewer, Viewer
from subscriptions.hub import AccessChanged, NotificationAdded

CLOSE_SESSION_ENDED = 4403


async def _read_after(
    ctx: Context,
    staff_id: int,
    after_id: int,
    kinds: Sequence[NotificationKind] | None,
    client_id: int | None,
) -> list[Notification]:
    async with ctx.session_factory() as session:
        return await notifications.notifications_after(
            session, staff_id, after_id, kinds, client_id
        )


async def _start_id(ctx: Context, staff_id: int, after: str | None) -> int:
    if after is not None:
        return notifications.notification_id_of(after)
    async with ctx.session_factory() as session:
        return await notifications.latest_id(session, staff_id)


async def _still_allowed(ctx: Context, check: Callable[[Viewer | None], StaffViewer]) -> bool:
    if ctx.token is None:
        return False
    async with ctx.session_factory() as session:
        viewer = await viewer_for_token(session, ctx.token, ctx.services.tokens, ctx.clock)
    try:
        check(viewer)
    except DomainError:
        return False
    return True


async def _close(ctx: Context) -> None:
    """Ends the connection; the protocol handler then cancels this stream."""
    with contextlib.suppress(Exception):
        await ctx.request.close(code=CLOSE_SESSION_ENDED, reason="Session ended")
    await asyncio.Event().wait()


async def notification_stream(
    ctx: Context,
    after: str | None,
    check: Callable[[Viewer | None], StaffViewer],
    kinds: Sequence[NotificationKind] | None = None,
    client_id: int | None = None,
) -> AsyncIterator[Notification]:
    viewer = check(ctx.viewer)
    hub = ctx.services.hub
    if hub is None:
        raise RuntimeError("subscriptions need the event hub (started by the app's lifespan)")
    async with hub.listen(viewer.staff_id) as queue:
        last = await _start_id(ctx, viewer.staff_id, after)
        for notification in await _read_after(ctx, viewer.staff_id, last, kinds, client_id):
            last = max(last, notification.id or 0)
            yield notification
        while True:
            event = await queue.get()
            if isinstance(event, AccessChanged):
                if event.session_id in (None, viewer.session_id) and not await _still_allowed(
                    ctx, check
                ):
                    await _close(ctx)
                continue
            if isinstance(event, NotificationAdded) and event.notification_id <= last:
                continue
            for notification in await _read_after(ctx, viewer.staff_id, last, kinds, client_id):
                last = max(last, notification.id or 0)
                yield notification
            if isinstance(event, NotificationAdded):
                last = max(last, event.notification_id)
