"""The event hub: one broadcaster channel for every instance, fanned out to local listeners.

Every instance subscribes once to a single channel at start-up and hands each event to the
local listeners of the staff member it concerns. Listeners register per connection and are
removed when it ends, so nothing grows with the number of past connections; and no broadcaster
channel is subscribed or unsubscribed per dashboard (which broadcaster does not make safe for
concurrent subscribers of one channel).

A broadcast connection can die without raising (a killed Redis client, a terminated LISTEN
backend, a network that stops forwarding), so the hub sends itself a heartbeat on a channel of
its own and expects it back within a deadline. When it is not back, or the backend reports the
loss, the hub reconnects with backoff and every listener catches up from the database, where
every notification already is: nothing lost, and nothing doubled (listeners read "after my
cursor"). Each listener's inbox is bounded (see events.Inbox).

Events are handed to listeners in the order they came, in rounds: whatever arrived while the
previous round was being handed over makes the next one. Before a round is handed over, the
`prefetch` hook (subscriptions/shared_reads.py) may read for the listeners it wakes, so that one
statement answers them all; a prefetch that fails or takes too long only leaves the listeners
to read for themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from subscriptions.backends import BroadcastConnection, Lost, backend_for
from subscriptions.events import (
    AccessChanged,
    HubEvent,
    Inbox,
    NotificationAdded,
    Resync,
    decode,
    encode,
)

__all__ = [
    "CHANNEL",
    "AccessChanged",
    "EventHub",
    "HubEvent",
    "HubOptions",
    "NotificationAdded",
    "Resync",
]

log = logging.getLogger("casetasks.events")

CHANNEL = "casetasks_events"

# (inbox, the newest notification id it is about to be handed) for each listener a round wakes.
Prefetch = Callable[[list[tuple[Inbox, int]]], Awaitable[None]]


@dataclass(frozen=True)
class HubOptions:
    heartbeat_interval: float = 5.0
    # Also bounds connecting and publishing: a broker that answers slower counts as lost.
    heartbeat_timeout: float = 5.0
    reconnect_delay: float = 0.5
    reconnect_max_delay: float = 10.0
    queue_size: int = 100
    # A round of events waits at most this long for its prefetch.
    prefetch_timeout: float = 2.0


class EventHub:
    def __init__(self, url: str, options: HubOptions | None = None) -> None:
        self.url = url
        self.options = options or HubOptions()
        # Names this instance's broker connections (and its heartbeat channel).
        self.name = f"casetasks-hub-{secrets.token_hex(6)}"
        self.heartbeat_channel = f"{CHANNEL}_{self.name.rpartition('-')[2]}"
        self.backend: BroadcastConnection | None = None
        self._listeners: dict[int, set[Inbox]] = {}
        self._task: asyncio.Task[None] | None = None
        self._heard_beat = 0
        self._beat_heard = asyncio.Event()
        self._owe_resync = False
        self.prefetch: Prefetch | None = None
        self._arrived: deque[HubEvent] = deque()
        self._arrival = asyncio.Event()
        self._handing_over: asyncio.Task[None] | None = None
        # Observed by operators (logs) and tests.
        self.reconnects = 0
        self.published = 0
        # Read by /metrics: events handed to local listeners, and open listeners by field.
        self.delivered = 0
        self.listening: Counter[str] = Counter()
        self.collapsed = 0

    @property
    def listener_count(self) -> int:
        return sum(len(inboxes) for inboxes in self._listeners.values())

    @property
    def listened_staff(self) -> int:
        return len(self._listeners)

    @property
    def largest_inbox(self) -> int:
        return max((len(i) for inboxes in self._listeners.values() for i in inboxes), default=0)

    async def start(self) -> None:
        self.backend = await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="casetasks-event-hub")
        self._handing_over = asyncio.create_task(self._hand_over(), name="casetasks-hand-over")

    async def stop(self) -> None:
        for task in (self._task, self._handing_over):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._close()

    async def _within_deadline(self, work: Awaitable[None]) -> None:
        """Waits at most the heartbeat timeout. A driver call cancelled on a dead connection
        may itself hang in its clean-up (asyncpg's pool release), so it is left to finish on
        its own rather than awaited; closing the backend ends it."""
        task = asyncio.ensure_future(work)
        task.add_done_callback(_retrieve)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.options.heartbeat_timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            raise TimeoutError("the broadcast backend did not answer in time")
        task.result()

    async def _connect(self) -> BroadcastConnection:
        backend = backend_for(self.url, self.name)

        async def connect() -> None:
            await backend.connect()
            await backend.subscribe(CHANNEL)
            await backend.subscribe(self.heartbeat_channel)

        try:
            await self._within_deadline(connect())
        except BaseException:
            await self._discard(backend)
            raise
        return backend

    async def _discard(self, backend: BroadcastConnection) -> None:
        with contextlib.suppress(Exception):
            await self._within_deadline(backend.disconnect())

    async def _close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            await self._discard(backend)

    async def _supervise(self) -> None:
        """Fans events out; when the connection is lost, reconnects and has listeners catch up."""
        while True:
            backend = self.backend
            assert backend is not None
            heartbeat = asyncio.create_task(self._heartbeat(backend), name="casetasks-heartbeat")
            try:
                await self._fan_out(backend)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("lost the broadcast connection (%s); reconnecting", error)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            await self._close()
            self.backend = await self._reconnect()
            self.reconnects += 1
            log.info("broadcast connection back; listeners catch up from the database")
            self._deliver_all(Resync())
            await self._settle_resync(self.backend)

    async def _reconnect(self) -> BroadcastConnection:
        delay = self.options.reconnect_delay
        while True:
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            try:
                return await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = min(delay * 2, self.options.reconnect_max_delay)
                log.warning("broadcast backend unreachable (%r); retrying in %.1fs", error, delay)

    async def _fan_out(self, backend: BroadcastConnection) -> None:
        while True:
            event = await backend.next_published()
            if event.channel == self.heartbeat_channel:
                with contextlib.suppress(ValueError):
                    self._heard_beat = max(self._heard_beat, int(event.message))
                self._beat_heard.set()
                continue
            try:
                self._arrived.extend(decode(event.message))
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a malformed event on %s", CHANNEL)
                continue
            self._arrival.set()

    async def _hand_over(self) -> None:
        """Hands what arrived to the listeners, a round at a time, in order."""
        while True:
            while not self._arrived:
                self._arrival.clear()
                await self._arrival.wait()
            round_ = list(self._arrived)
            self._arrived.clear()
            await self._prefetch_for(round_)
            for hub_event in round_:
                self._deliver(hub_event)

    async def _prefetch_for(self, round_: list[HubEvent]) -> None:
        if self.prefetch is None:
            return
        newest: dict[int, int] = {}
        for hub_event in round_:
            if isinstance(hub_event, NotificationAdded):
                recipient = hub_event.recipient_id
                newest[recipient] = max(newest.get(recipient, 0), hub_event.notification_id)
        woken = [
            (inbox, through)
            for recipient, through in newest.items()
            for inbox in self._listeners.get(recipient, ())
        ]
        if not woken:
            return
        try:
            async with asyncio.timeout(self.options.prefetch_timeout):
                await self.prefetch(woken)
        except Exception as error:  # a cancellation is no Exception: it goes on up
            log.warning("prefetching for listeners failed (%r); they read for themselves", error)

    async def _heartbeat(self, backend: BroadcastConnection) -> None:
        """Publishes a beat and waits to hear it back; a silent connection is failed."""
        beat = self._heard_beat
        while True:
            await asyncio.sleep(self.options.heartbeat_interval)
            beat += 1
            try:
                await self._within_deadline(backend.publish(self.heartbeat_channel, str(beat)))
                async with asyncio.timeout(self.options.heartbeat_timeout):
                    while self._heard_beat < beat:
                        self._beat_heard.clear()
                        await self._beat_heard.wait()
            except Exception as error:
                reason = "not heard back in time" if isinstance(error, TimeoutError) else error
                backend.fail(Lost(f"heartbeat {beat}: {reason}"))
                return
            await self._settle_resync(backend)

    async def _settle_resync(self, backend: BroadcastConnection) -> None:
        """After a failed publish, once the broker answers again: every instance catches up."""
        if not self._owe_resync:
            return
        with contextlib.suppress(Exception):
            await self._within_deadline(backend.publish(CHANNEL, encode([Resync()])))
            self._owe_resync = False

    def _deliver(self, event: HubEvent) -> None:
        if isinstance(event, Resync):
            self._deliver_all(event)
            return
        staff_id = event.recipient_id if isinstance(event, NotificationAdded) else event.staff_id
        for inbox in self._listeners.get(staff_id, ()):
            self.collapsed += inbox.put_nowait(event)
            self.delivered += 1

    def _deliver_all(self, event: HubEvent) -> None:
        for inboxes in self._listeners.values():
            for inbox in inboxes:
                self.collapsed += inbox.put_nowait(event)
                self.delivered += 1

    async def publish(self, events: list[HubEvent]) -> None:
        """Raises when the broker cannot take the events. The notifications are stored already:
        this instance's listeners hear of them at once, and every instance is told to catch up
        as soon as the broker answers again."""
        if not events:
            return
        backend = self.backend
        try:
            if backend is None:
                raise ConnectionError("the broadcast backend is reconnecting")
            await self._within_deadline(backend.publish(CHANNEL, encode(events)))
        except Exception:
            self._owe_resync = True
            for event in events:
                self._deliver(event)
            raise
        self.published += 1

    @asynccontextmanager
    async def listen(self, staff_id: int, field: str = "") -> AsyncIterator[Inbox]:
        """field: the Subscription field listening, for /metrics."""
        inbox = Inbox(self.options.queue_size)
        self._listeners.setdefault(staff_id, set()).add(inbox)
        self.listening[field] += 1
        try:
            yield inbox
        finally:
            self.listening[field] -= 1
            inboxes = self._listeners.get(staff_id)
            if inboxes is not None:
                inboxes.discard(inbox)
                if not inboxes:
                    del self._listeners[staff_id]


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
