"""Live dashboards at scale: an event reaches every local dashboard with one database read."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from schema.execution import Stats
from schema.ids import key_of
from subscriptions.events import HubEvent, Inbox, NotificationAdded, Resync
from subscriptions.hub import EventHub, HubOptions
from subscriptions.shared_reads import Ask, SharedReads
from tests.conftest import Env, Live
from tests.faults import insert_notifications
from tests.group_setup import group_of_two, send_task
from tests.test_http_guard import wait_until
from tests.test_subscriptions import ADDED, ALERTS
from tests.ws_client import GraphQLWebSocket

DASHBOARDS = 12


async def test_one_read_per_event_whatever_the_number_of_dashboards(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    shared = live.env.app.state.services.shared_reads
    asks_before = shared.asks
    staff = [group.receiving_staff, *[await world.staff(group.receiver) for _ in range(5)]]
    sockets = []
    streams = []
    for index in range(DASHBOARDS):
        person = staff[index % len(staff)]
        socket = await GraphQLWebSocket.connect(live.ws_url, person.token)
        sockets.append(socket)
        streams.append(await socket.subscribe(ALERTS if index % 2 else ADDED))
    hub = live.env.app.state.hub
    await wait_until(lambda: hub.listener_count >= DASHBOARDS, "every subscription listens")
    # Each stream's first catch-up read is done, so what follows is the event's alone.
    await wait_until(
        lambda: shared.asks - asks_before >= DASHBOARDS and shared.idle, "first reads done"
    )
    reads_before = shared.statements
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        if "FROM notification" in text:
            statements.append(text)

    event.listen(live.env.engine.sync_engine, "before_cursor_execute", seen)
    try:
        task = await send_task(world, group, "Referral for the whole team")
        answers = [await stream.next(timeout=10.0) for stream in streams]
        for stream in streams:
            await stream.nothing(0.2)  # and only once
    finally:
        event.remove(live.env.engine.sync_engine, "before_cursor_execute", seen)
        for socket in sockets:
            await socket.close()

    for answer in answers:  # an alert, or the widget's new entry: about the task sent
        (payload,) = answer.values()
        assert payload["task"]["id"] == task["id"]
    # The twelve dashboards (six people, two feeds each way) were answered by one shared read
    # of their notifications, tasks joined; the mutation's own statements are not reads.
    assert shared.statements - reads_before == 1
    reads = [text for text in statements if text.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads


async def test_a_prefetched_answer_serves_only_a_wake_it_was_read_after(env: Env) -> None:
    """The answer read before a round is handed over may stand in for the stream's own read
    only for a notification committed before that read: else the stream would skip it."""
    world = env.world
    staff_id = key_of((await world.staff(await world.provider())).id, "Staff")
    shared = SharedReads(world.session_factory, limit=200)
    inbox = Inbox(10)
    ask = Ask(staff_id, 0, None, None)

    (first,) = await insert_notifications(world, staff_id, 1, 10)
    shared.stand(inbox, ask)
    await shared.prefetch([(inbox, first)])
    (second,) = await insert_notifications(world, staff_id, 1, 10)
    # Woken by a notification committed after the read: not answered, the stream reads.
    assert shared.take(inbox, ask, NotificationAdded(staff_id, second)) is None

    shared.stand(inbox, ask)
    await shared.prefetch([(inbox, second)])
    found = shared.take(inbox, ask, NotificationAdded(staff_id, second))
    assert found is not None and [n.id for n, _task in found] == [first, second]
    assert shared.take(inbox, ask, NotificationAdded(staff_id, second)) is None  # once

    cases: list[tuple[HubEvent, Ask]] = [
        (Resync(), ask),  # a resync re-reads, whatever was prefetched
        (NotificationAdded(staff_id, second), Ask(staff_id, first, None, None)),  # moved on
    ]
    for woken_by, asked in cases:
        shared.stand(inbox, ask)
        await shared.prefetch([(inbox, second)])
        assert shared.take(inbox, asked, woken_by) is None

    # A stream that is not standing (busy sending, or gone) gets nothing read for it.
    statements = shared.statements
    shared.stand(inbox, ask)
    shared.leave(inbox)
    await shared.prefetch([(inbox, second)])
    assert shared.statements == statements
    assert shared.take(inbox, ask, NotificationAdded(staff_id, second)) is None


async def test_listeners_read_for_themselves_when_the_prefetch_fails() -> None:
    hub = EventHub("memory://", HubOptions(prefetch_timeout=0.2))
    calls: list[int] = []

    async def failing(woken: list[tuple[Inbox, int]]) -> None:
        calls.append(len(woken))
        raise ConnectionError("the database is down")

    async def hanging(woken: list[tuple[Inbox, int]]) -> None:
        calls.append(len(woken))
        await asyncio.Event().wait()

    await hub.start()
    try:
        async with hub.listen(5) as inbox, hub.listen(6) as other:
            for number, prefetch in enumerate([failing, hanging], start=1):
                hub.prefetch = prefetch
                await hub.publish([NotificationAdded(5, number), NotificationAdded(6, number)])
                assert await asyncio.wait_for(inbox.get(), 5) == NotificationAdded(5, number)
                assert await asyncio.wait_for(other.get(), 5) == NotificationAdded(6, number)
    finally:
        await hub.stop()
    assert calls == [2, 2]  # one prefetch per round, for both listeners


async def test_an_event_is_executed_once_per_person_document_and_variables(live: Live) -> None:
    """The dashboards of one sign-in running one document share the event's execution (the
    widget's notificationAdded and unassignedTaskAlerts alike); another document, other
    variables or another sign-in (the viewer names it) are executed apart."""
    world = live.env.world
    group = await group_of_two(world)
    person = group.receiving_staff
    other_sign_in = await world.login(person.email, person.password)
    brief = "subscription { notificationAdded { id task { id } } }"
    dashboards = [
        (person.token, ADDED, None),
        (person.token, ADDED, None),
        (person.token, ADDED, {}),  # the same variables
        (person.token, brief, None),
        (other_sign_in, ADDED, None),
        (person.token, ALERTS, None),
        (person.token, ALERTS, None),
    ]
    sockets, streams = [], []
    for token, query, variables in dashboards:
        socket = await GraphQLWebSocket.connect(live.ws_url, token)
        sockets.append(socket)
        streams.append(await socket.subscribe(query, variables))
    hub = live.env.app.state.hub
    await wait_until(lambda: hub.listener_count >= len(dashboards), "every subscription listens")
    executed, shared = Stats.executed, Stats.shared
    try:
        task = await send_task(world, group, "Referral for one person's dashboards")
        answers = [await stream.next(timeout=10.0) for stream in streams]
    finally:
        for socket in sockets:
            await socket.close()

    assert answers[0] == answers[1] == answers[2] == answers[4]
    assert answers[0]["notificationAdded"]["task"]["id"] == task["id"]
    assert answers[3] == {
        "notificationAdded": {
            "id": answers[0]["notificationAdded"]["id"],
            "task": {"id": task["id"]},
        }
    }
    assert answers[5] == answers[6]
    assert answers[5]["unassignedTaskAlerts"]["task"]["id"] == task["id"]
    assert (Stats.executed - executed, Stats.shared - shared) == (4, 3)
