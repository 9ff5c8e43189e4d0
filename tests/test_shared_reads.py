"""Live dashboards at scale: an event reaches every local dashboard with one database read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.conftest import Live
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
