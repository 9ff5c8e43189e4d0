"""The event hub: one broadcaster channel for every instance, fanned out to local listeners.

Every instance subscribes once to a single channel at start-up and hands each event to the
local listeners of the staff member it concerns. Listeners register per connection and are
removed when it ends, so nothing grows with the number of past connections; and no broadcaster
channel is subscribed or unsubscribed per dashboard (which broadcaster does not make safe for
concurrent subscribers of one channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from broadcaster import BroadcastBackend

from subscriptions.backends import backend_for

log = logging.getLogger("casetasks.events")

CHANNEL = "casetasks_events"


@dataclass(frozen=True)
class NotificationAdded:
    recipient_id: int
    notification_id: int


@dataclass(frozen=True)
class Resync:
    """Events may have been missed (the broadcast connection was lost): catch up from the
    database, where every notification is."""


@dataclass(frozen=True)
class AccessChanged:
    """Sign-in ended or permissions lost: listeners re-check their viewer (session None: all)."""

    staff_id: int
    session_id: int | None


HubEvent = NotificationAdded | AccessChanged | Resync


def encode(events: list[HubEvent]) -> str:
    return json.dumps(
        {
            "n": [
                [e.recipient_id, e.notification_id]
                for e in events
                if isinstance(e, NotificationAdded)
            ],
            "a": [[e.staff_id, e.session_id] for e in events if isinstance(e, AccessChanged)],
        },
        separators=(",", ":"),
    )


def decode(message: str) -> list[HubEvent]:
    body: dict[str, Any] = json.loads(message)
    if body.get("resync"):
        return [Resync()]
    events: list[HubEvent] = [NotificationAdded(int(r), int(n)) for r, n in body.get("n", [])]
    events += [AccessChanged(int(s), None if x is None else int(x)) for s, x in body.get("a", [])]
    return events


class EventHub:
    def __init__(self, url: str, retry_delay: float = 0.5) -> None:
        self.url = url
        self.retry_delay = retry_delay
        self.backend: BroadcastBackend | None = None
        self._listeners: dict[int, set[asyncio.Queue[HubEvent]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def listener_count(self) -> int:
        return sum(len(queues) for queues in self._listeners.values())

    @property
    def listened_staff(self) -> int:
        return len(self._listeners)

    async def start(self) -> None:
        self.backend = await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="casetasks-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._close()

    async def _connect(self) -> BroadcastBackend:
        backend = backend_for(self.url)
        await backend.connect()
        await backend.subscribe(CHANNEL)
        return backend

    async def _close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.disconnect()

    async def _supervise(self) -> None:
        """Fans events out; when the backend is lost, reconnects and tells listeners to resync."""
        while True:
            try:
                await self._fan_out()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lost the broadcast backend; reconnecting", exc_info=True)
            await self._close()
            delay = self.retry_delay
            while self.backend is None:
                await asyncio.sleep(delay)
                try:
                    self.backend = await self._connect()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    delay = min(delay * 2, 10.0)
                    log.warning("broadcast backend still unreachable; retrying in %.1fs", delay)
            self._deliver_all(Resync())

    async def _fan_out(self) -> None:
        assert self.backend is not None
        while True:
            event = await self.backend.next_published()
            try:
                for hub_event in decode(event.message):
                    self._deliver(hub_event)
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a malformed event on %s", CHANNEL)

    def _deliver(self, event: HubEvent) -> None:
        if isinstance(event, Resync):
            self._deliver_all(event)
            return
        staff_id = event.recipient_id if isinstance(event, NotificationAdded) else event.staff_id
        for queue in self._listeners.get(staff_id, ()):
            queue.put_nowait(event)

    def _deliver_all(self, event: HubEvent) -> None:
        for queues in self._listeners.values():
            for queue in queues:
                queue.put_nowait(event)

    async def publish(self, events: list[HubEvent]) -> None:
        if not events:
            return
        if self.backend is None:
            raise ConnectionError("the broadcast backend is reconnecting")
        await self.backend.publish(CHANNEL, encode(events))

    @asynccontextmanager
    async def listen(self, staff_id: int) -> AsyncIterator[asyncio.Queue[HubEvent]]:
        queue: asyncio.Queue[HubEvent] = asyncio.Queue()
        self._listeners.setdefault(staff_id, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._listeners.get(staff_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._listeners[staff_id]
