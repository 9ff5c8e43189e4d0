"""Subscription streams: replay what the dashboard missed, then go on live, no gap, no twice.

The listener is registered before the replay reads the database, so an event committed while
the replay runs is both in the replay and in the inbox; every event only prompts a read of
"the viewer's notifications after the last one sent", so nothing is sent twice, and since
notification ids follow commit order, nothing is skipped. A Resync (the broadcast connection
was lost, or this stream fell behind) re-checks access and reads after the cursor the same way.
A database error while reading is retried with backoff: the websocket stays open, and the
stream catches up once the database answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from models import Notification, NotificationKind
from resolvers.context import Context
from services import notifications, permissions
from services.auth import viewer_for_token
from services.errors import DomainError
from services.viewer import StaffViewer
from subscriptions.events import HubEvent, Inbox
from subscriptions.hub import AccessChanged, EventHub, NotificationAdded, Resync
from subscriptions.shared_reads import Ask

log = logging.getLogger("casetasks.events")

CLOSE_SESSION_ENDED = 4403
BATCH = 200
RETRY_FIRST_DELAY = 0.1
RETRY_MAX_DELAY = 2.0

T = TypeVar("T")


async def _retrying(read: Callable[[], Awaitable[T]]) -> T:
    """The database's answer, waiting out an outage (a restart, an exhausted pool)."""
    delay = RETRY_FIRST_DELAY
    while True:
        try:
            return await read()
        except (SQLAlchemyError, OSError) as error:
            log.warning("a subscription's read failed (%r); retrying in %.1fs", error, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_DELAY)


async def _read_after(
    ctx: Context, inbox: Inbox, ask: Ask, woken_by: HubEvent | None
) -> list[Notification]:
    """The viewer's notifications after the cursor: the answer read for this stream before it
    was woken, else read now; the streams an event wakes on this instance are answered together
    (one statement), their tasks with them."""
    shared = ctx.services.shared_reads
    if shared is None:
        async with ctx.session_factory() as session:
            return await notifications.notifications_after(
                session, ask.staff_id, ask.after_id, ask.kinds, ask.client_id, limit=BATCH
            )
    found = shared.take(inbox, ask, woken_by)
    if found is None:
        found = await shared.after(ask)
    ctx.seen_tasks = {n.task_id: task for n, task in found if n.task_id is not None}
    return [n for n, _task in found]


async def _start_id(ctx: Context, staff_id: int, after_id: int | None) -> int:
    if after_id is not None:
        return after_id
    async with ctx.session_factory() as session:
        return await notifications.latest_id(session, staff_id)


async def _still_allowed(ctx: Context, feed: permissions.Feed) -> bool:
    if ctx.token is None:
        return False
    async with ctx.session_factory() as session:
        viewer = await viewer_for_token(session, ctx.token, ctx.services.tokens, ctx.clock)
    try:
        permissions.require_subscriber(viewer, feed)
    except DomainError:
        return False
    return True


async def _close(ctx: Context) -> None:
    """Ends the connection; the protocol handler then cancels this stream."""
    with contextlib.suppress(Exception):
        await ctx.request.close(code=CLOSE_SESSION_ENDED, reason="Session ended")
    await asyncio.Event().wait()


def notification_stream(
    ctx: Context,
    feed: permissions.Feed,
    after: str | None,
    kinds: Sequence[NotificationKind] | None = None,
    client_id: int | None = None,
) -> AsyncIterator[Notification]:
    """Decides at once, before the subscription is acknowledged with its first event, whether the
    viewer may open this feed and whether `after` is a cursor: a refusal is the subscription's
    error, not a silent stream."""
    viewer = permissions.require_subscriber(ctx.viewer, feed)
    after_id = None if after is None else notifications.notification_id_of(after)
    hub = ctx.services.hub
    if hub is None:
        raise RuntimeError("subscriptions need the event hub (started by the app's lifespan)")
    return _stream(ctx, hub, viewer, feed, after_id, kinds, client_id)


async def _stream(
    ctx: Context,
    hub: EventHub,
    viewer: StaffViewer,
    feed: permissions.Feed,
    after_id: int | None,
    kinds: Sequence[NotificationKind] | None,
    client_id: int | None,
) -> AsyncIterator[Notification]:
    shared = ctx.services.shared_reads
    own_kinds = tuple(kinds) if kinds else None

    def after(cursor: int) -> Ask:
        return Ask(viewer.staff_id, cursor, own_kinds, client_id)

    async with hub.listen(viewer.staff_id, feed.value) as inbox:
        try:
            last = await _retrying(lambda: _start_id(ctx, viewer.staff_id, after_id))
            event: HubEvent | None = None
            while True:
                woken_by = event  # a prefetched answer serves the first read only
                while True:  # catch up: everything after the cursor, in batches
                    batch = await _retrying(partial(_read_after, ctx, inbox, after(last), woken_by))
                    woken_by = None
                    for notification in batch:
                        last = max(last, notification.id or 0)
                        yield notification
                    if len(batch) < BATCH:
                        break
                if isinstance(event, NotificationAdded):
                    last = max(last, event.notification_id)
                if shared is not None:
                    shared.stand(inbox, after(last))
                event = await _something_new(ctx, inbox, viewer, feed, last)
        finally:
            if shared is not None:
                shared.leave(inbox)


async def _something_new(
    ctx: Context, inbox: Inbox, viewer: StaffViewer, feed: permissions.Feed, last: int
) -> HubEvent:
    """The next event that may bring notifications after `last`. Access changes met on the way
    are checked, and close the subscription when the feed is no longer allowed."""
    while True:
        event = await inbox.get()
        if isinstance(event, AccessChanged | Resync):
            concerned = isinstance(event, Resync) or event.session_id in (None, viewer.session_id)
            if concerned and not await _retrying(lambda: _still_allowed(ctx, feed)):
                await _close(ctx)
            if isinstance(event, AccessChanged):
                continue
        if isinstance(event, NotificationAdded) and event.notification_id <= last:
            continue
        return event
