"""What travels on the broadcast channel (ids only), and a subscription's bounded inbox."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotificationAdded:
    recipient_id: int
    notification_id: int


@dataclass(frozen=True)
class Resync:
    """Events may have been missed (the broadcast connection was lost, or a subscription fell
    behind): catch up from the database, where every notification is, and re-check access."""


@dataclass(frozen=True)
class AccessChanged:
    """Sign-in ended or permissions lost: listeners re-check their viewer (session None: all)."""

    staff_id: int
    session_id: int | None


HubEvent = NotificationAdded | AccessChanged | Resync

RESYNC = '{"resync":true}'


def encode(events: list[HubEvent]) -> str:
    if any(isinstance(e, Resync) for e in events):
        return RESYNC
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


class Inbox:
    """The events one subscription has yet to act on, at most `limit` of them.

    Every event only prompts "read what is after my cursor" (or "check my access"), so when a
    subscription falls behind (its websocket sends block), what waits collapses into one Resync
    instead of growing: the subscription then reads everything it missed in one go.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._events: deque[HubEvent] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._events)

    def put_nowait(self, event: HubEvent) -> bool:
        """Queues the event; True when the inbox was full and collapsed into a Resync."""
        collapsed = len(self._events) >= self.limit
        if collapsed or isinstance(event, Resync):
            self._events.clear()
            event = Resync()
        self._events.append(event)
        self._ready.set()
        return collapsed

    async def get(self) -> HubEvent:
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()
