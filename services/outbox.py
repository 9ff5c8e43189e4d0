"""What a unit of work must announce once it has committed.

Services note here the notifications they wrote and the access they changed; the transport
publishes them only after the commit, so no subscriber hears of a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "casetasks.outbox"


@dataclass
class Outbox:
    # (recipient staff id, notification id)
    notifications: list[tuple[int, int]] = field(default_factory=list)
    # (staff id, sign-in session id or None for every session of that person)
    access_changes: list[tuple[int, int | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.notifications or self.access_changes)


def outbox(session: AsyncSession) -> Outbox:
    box = session.info.get(_KEY)
    if box is None:
        box = session.info[_KEY] = Outbox()
    return box


def take(session: AsyncSession) -> Outbox:
    return session.info.pop(_KEY, None) or Outbox()
