"""One database read per event for every local dashboard it wakes.

A stream waiting for events stands on what it will ask next ("my notifications after my
cursor", its kinds and client). Before the hub hands a round of events to the local listeners
they concern, `prefetch` answers the asks of all of those standing streams with one statement:
the notifications of all of those recipients after the smallest of their cursors, with the tasks
they point to; each stream then keeps its own rows (its recipient, after its own cursor, its
kinds and client), so the answer is exactly what its own read would be. A woken stream takes its
answer without waiting again, so an event costs each dashboard one wake-up, not two.

Asks that come without a prefetched answer (a stream's first catch-up, a resync, a stream that
was busy sending when the event came) are gathered over a few milliseconds and answered the same
way, one statement for all of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import col

from casetasks.db import SessionFactory
from models import Notification, NotificationKind, Task
from services import notifications
from subscriptions.events import HubEvent, Inbox, NotificationAdded


@dataclass(frozen=True)
class Ask:
    staff_id: int
    after_id: int
    kinds: tuple[NotificationKind, ...] | None
    client_id: int | None

    def wants(self, row: Notification) -> bool:
        return (
            row.recipient_id == self.staff_id
            and (row.id or 0) > self.after_id
            and (self.kinds is None or row.kind in self.kinds)
            and (self.client_id is None or row.client_id == self.client_id)
        )


Found = list[tuple[Notification, Task | None]]


@dataclass(frozen=True)
class Answer:
    """What `ask` reads, read after every notification up to `through` was committed."""

    ask: Ask
    found: Found
    through: int


# How long the first ask of an event waits for the others: a few milliseconds of latency for
# one read instead of one per dashboard.
GATHER_SECONDS = 0.005


@dataclass
class _Round:
    asks: list[tuple[Ask, asyncio.Future[Found]]] = field(default_factory=list)


class SharedReads:
    """Gathers the reads asked for in one turn of the event loop into one statement."""

    def __init__(self, session_factory: SessionFactory, limit: int) -> None:
        self.session_factory = session_factory
        self.limit = limit  # rows per stream per read, as each stream's own read had
        self._round: _Round | None = None
        self._answering: set[asyncio.Task[None]] = set()
        self._standing: dict[Inbox, Ask] = {}
        self._answers: dict[Inbox, Answer] = {}
        # Observed by tests and the bench: statements run, and asks they answered.
        self.statements = 0
        self.asks = 0

    @property
    def idle(self) -> bool:
        """No read gathering or running."""
        return self._round is None and not self._answering

    def stand(self, inbox: Inbox, ask: Ask) -> None:
        """The stream listening on `inbox` waits, and will ask `ask` when woken."""
        self._standing[inbox] = ask

    def leave(self, inbox: Inbox) -> None:
        self._standing.pop(inbox, None)
        self._answers.pop(inbox, None)

    def take(self, inbox: Inbox, ask: Ask, woken_by: HubEvent | None) -> Found | None:
        """The prefetched answer to `ask`, if one was read after the notification the stream
        was woken by: notification ids follow commit order, so that read holds every
        notification up to it, and the stream may skip to it afterwards."""
        self._standing.pop(inbox, None)
        answer = self._answers.pop(inbox, None)
        if (
            answer is None
            or answer.ask != ask
            or not isinstance(woken_by, NotificationAdded)
            or woken_by.notification_id > answer.through
        ):
            return None
        return answer.found

    async def prefetch(self, woken: list[tuple[Inbox, int]]) -> None:
        """Answers, in one statement, the standing asks of the inboxes about to be handed
        notifications (each with the newest notification id it will be handed)."""
        standing = [
            (inbox, self._standing[inbox], through)
            for inbox, through in woken
            if inbox in self._standing
        ]
        if not standing:
            return
        found = await self._read(list({ask for _, ask, _ in standing}))
        for inbox, ask, through in standing:
            if inbox in self._standing:  # not left meanwhile
                self._answers[inbox] = Answer(ask, found[ask], through)

    async def after(self, ask: Ask) -> Found:
        if self._round is None:
            self._round = _Round()
            # Held until done: the event loop keeps only weak references to tasks.
            answering = asyncio.get_running_loop().create_task(self._answer(self._round))
            self._answering.add(answering)
            answering.add_done_callback(self._answering.discard)
        # Each ask has its own future, so a cancelled stream cancels only its own.
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._round.asks.append((ask, future))
        return await future

    async def _answer(self, round_: _Round) -> None:
        # Let every stream the event woke ask first: they wake over a few turns of the loop.
        await asyncio.sleep(GATHER_SECONDS)
        self._round = None
        asks = round_.asks
        try:
            found = await self._read([ask for ask, _ in asks])
        except BaseException as error:
            for _, future in asks:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for ask, future in asks:
            if not future.done():
                future.set_result(found[ask])

    async def _read(self, asks: list[Ask]) -> dict[Ask, Found]:
        self.statements += 1
        self.asks += len(asks)
        recipients = sorted({ask.staff_id for ask in asks})
        cap = self.limit * len(asks)
        query = (
            select(Notification, Task)
            .outerjoin(Task, col(Task.id) == col(Notification.task_id))
            .where(
                col(Notification.recipient_id).in_(recipients),
                col(Notification.id) > min(ask.after_id for ask in asks),
            )
            .order_by(col(Notification.id))
            .limit(cap + 1)
        )
        async with self.session_factory() as session:
            rows: Found = [(n, t) for n, t in (await session.execute(query)).all()]
            if len(rows) <= cap:
                return {ask: [r for r in rows if ask.wants(r[0])][: self.limit] for ask in asks}
            # A long backlog (a replay from an old cursor): each stream reads its own.
            found: dict[Ask, Found] = {}
            for ask in asks:
                own = await notifications.notifications_after(
                    session, ask.staff_id, ask.after_id, ask.kinds, ask.client_id, self.limit
                )
                tasks = {
                    t.id: t
                    for t in await session.scalars(
                        select(Task).where(col(Task.id).in_([n.task_id for n in own if n.task_id]))
                    )
                }
                found[ask] = [(n, tasks.get(n.task_id or 0)) for n in own]
            return found
