"""Live dashboards over a real websocket (graphql-transport-ws) against a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest
import websockets

from subscriptions.backends import MemoryBackend
from tests.conftest import Live
from tests.faults import kill_broadcast_connection
from tests.group_setup import group_of_two, send_task
from tests.ws_client import PROTOCOL, GraphQLWebSocket, Rejected

ALERTS = """
subscription($after: String) {
  unassignedTaskAlerts(after: $after) {
    notification { id kind message cursor read }
    task { id name serviceProvider { id } originProvider { id } }
  }
}
"""

ADDED = """
subscription($after: String) {
  notificationAdded(after: $after) { id kind message cursor task { id name } }
}
"""


async def test_an_unassigned_task_alerts_the_receiving_dashboard_within_a_second(
    live: Live,
) -> None:
    world = live.env.world
    group = await group_of_two(world)
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)  # the subscription is registered before the mutation

    started = time.monotonic()
    task = await send_task(world, group, "Call about housing support")
    alert = (await alerts.next(timeout=1.0))["unassignedTaskAlerts"]
    assert time.monotonic() - started < 1.0

    assert alert["task"]["id"] == task["id"]
    assert alert["task"]["serviceProvider"]["id"] == group.receiver.id
    assert alert["task"]["originProvider"]["id"] == group.sender.id
    assert alert["notification"]["kind"] == "UNASSIGNED_TASK"
    assert "Call about housing support" in alert["notification"]["message"]
    assert alert["notification"]["read"] is False
    await dashboard.close()


async def test_alerts_reach_every_task_dashboard_of_the_receiver_and_no_one_else(
    live: Live,
) -> None:
    world = live.env.world
    group = await group_of_two(world)
    colleague = await world.staff(group.receiver)
    outsider = await world.provider()
    dashboards = {
        "receiving": await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token),
        "colleague": await GraphQLWebSocket.connect(live.ws_url, colleague.token),
        "sender": await GraphQLWebSocket.connect(live.ws_url, group.caseworker.token),
        "outsider": await GraphQLWebSocket.connect(live.ws_url, outsider.admin.token),
    }
    streams = {name: await ws.subscribe(ALERTS) for name, ws in dashboards.items()}
    await streams["receiving"].nothing(0.2)

    await send_task(world, group, "Referral from Northside")

    for name in ("receiving", "colleague"):
        alert = await streams[name].next(timeout=1.0)
        assert alert["unassignedTaskAlerts"]["task"]["name"] == "Referral from Northside"
    for name in ("sender", "outsider"):
        await streams[name].nothing(0.5)
    for ws in dashboards.values():
        await ws.close()


async def test_staff_without_the_tasks_permission_cannot_subscribe_to_alerts(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    no_tasks = await world.staff(group.receiver, tasks=False)
    ws = await GraphQLWebSocket.connect(live.ws_url, no_tasks.token)
    alerts = await ws.subscribe(ALERTS)
    message = await alerts.message()
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    if message["type"] == "next":
        assert (await alerts.message())["type"] == "complete"
    await send_task(world, group, "Not for them")
    await alerts.nothing(0.5)
    await ws.close()


@pytest.mark.parametrize("token", [None, "not-a-real-token"])
async def test_a_connection_without_a_valid_token_is_closed_with_4403(
    live: Live, token: str | None
) -> None:
    with pytest.raises(Rejected) as rejected:
        await GraphQLWebSocket.connect(live.ws_url, token)
    assert rejected.value.code == 4403


@pytest.mark.parametrize(
    "payload",
    [
        lambda token: {"authorization": f"Bearer {token}"},
        lambda token: {"headers": {"Authorization": f"Bearer {token}"}},
        lambda token: {"Authorization": token},
    ],
    ids=["lower-case", "under-headers", "bare-token"],
)
async def test_the_token_is_found_where_common_clients_put_it(
    live: Live, payload: Callable[[str], dict[str, object]]
) -> None:
    provider = await live.env.world.provider()
    connection = await websockets.connect(live.ws_url, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await connection.send(
        json.dumps({"type": "connection_init", "payload": payload(provider.admin.token)})
    )
    ack = json.loads(await asyncio.wait_for(connection.recv(), 5))
    assert ack["type"] == "connection_ack"
    await connection.close()


async def test_replay_after_a_cursor_sends_exactly_what_was_missed_then_goes_live(
    live: Live,
) -> None:
    world = live.env.world
    group = await group_of_two(world)
    first = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await first.subscribe(ALERTS)
    await alerts.nothing(0.2)
    await send_task(world, group, "Seen live")
    seen = (await alerts.next())["unassignedTaskAlerts"]
    await first.close()

    missed = [(await send_task(world, group, f"Missed {n}"))["id"] for n in range(3)]

    again = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    resumed = await again.subscribe(ALERTS, {"after": seen["notification"]["cursor"]})
    replayed = [(await resumed.next())["unassignedTaskAlerts"]["task"]["id"] for _ in missed]
    assert replayed == missed

    live_task = await send_task(world, group, "After the replay")
    after = (await resumed.next(timeout=1.0))["unassignedTaskAlerts"]
    assert after["task"]["id"] == live_task["id"]
    await resumed.nothing(0.5)
    await again.close()


async def test_replay_racing_with_new_commits_has_no_gap_and_no_duplicate(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    first = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await first.subscribe(ALERTS)
    await alerts.nothing(0.2)
    await send_task(world, group, "Anchor")
    anchor = (await alerts.next())["unassignedTaskAlerts"]["notification"]["cursor"]
    await first.close()
    before = [(await send_task(world, group, f"Before {n}"))["id"] for n in range(5)]

    again = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    resumed = await again.subscribe(ALERTS, {"after": anchor})
    during = await asyncio.gather(*(send_task(world, group, f"During {n}") for n in range(8)))

    expected = set(before) | {t["id"] for t in during}
    received: list[str] = []
    while len(received) < len(expected):
        received.append((await resumed.next())["unassignedTaskAlerts"]["task"]["id"])
    assert len(received) == len(set(received)), "a notification was sent twice"
    assert set(received) == expected
    assert received[: len(before)] == before
    await resumed.nothing(0.5)
    await again.close()


async def test_notification_added_tells_staff_made_responsible_by_someone_else(
    live: Live,
) -> None:
    world = live.env.world
    provider = await world.provider()
    caseworker = await world.staff(provider)
    ws = await GraphQLWebSocket.connect(live.ws_url, caseworker.token)
    added = await ws.subscribe(ADDED)
    await added.nothing(0.2)

    task = await world.task(
        provider.admin, name="Prepare the review", responsibleIds=[caseworker.id]
    )
    notification = (await added.next(timeout=1.0))["notificationAdded"]
    assert notification["kind"] == "TASK_ASSIGNED"
    assert notification["task"]["id"] == task["id"]

    await world.task(caseworker, name="My own task", responsibleIds=[caseworker.id])
    await added.nothing(0.5)
    await ws.close()


LOGOUT = "mutation { logout }"
UPDATE_STAFF = (
    "mutation($input: UpdateStaffInput!) { updateStaff(input: $input) { errors { message } } }"
)


async def test_logout_closes_the_subscriptions_opened_with_that_token(live: Live) -> None:
    world = live.env.world
    provider = await world.provider()
    member = await world.staff(provider)
    other_token = await world.login(member.email)
    closing = await GraphQLWebSocket.connect(live.ws_url, member.token)
    await closing.subscribe(ADDED)
    staying = await GraphQLWebSocket.connect(live.ws_url, other_token)
    stays = await staying.subscribe(ADDED)
    await stays.nothing(0.2)

    assert (await world.api.data(LOGOUT, token=member.token))["logout"] is True
    assert await closing.wait_closed() == 4403

    await world.task(provider.admin, responsibleIds=[member.id])
    assert (await stays.next(timeout=1.0))["notificationAdded"]["kind"] == "TASK_ASSIGNED"
    await staying.close()


@pytest.mark.parametrize(
    "change", [{"active": False}, {"permissions": []}], ids=["deactivated", "tasks-removed"]
)
async def test_losing_access_closes_open_alert_subscriptions(
    live: Live, change: dict[str, object]
) -> None:
    world = live.env.world
    group = await group_of_two(world)
    ws = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await ws.subscribe(ALERTS)
    await alerts.nothing(0.2)

    payload = await world.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": group.receiving_staff.id, **change}},
        group.receiver.admin.token,
    )
    assert payload["errors"] == []
    assert await ws.wait_closed() == 4403


async def test_disconnecting_dashboards_leave_nothing_behind(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    hub = live.env.app.state.hub
    await asyncio.sleep(0)
    tasks_before = len(asyncio.all_tasks())
    listeners_before = hub.listener_count

    for round_ in range(15):
        ws = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
        alerts = await ws.subscribe(ALERTS)
        added = await ws.subscribe(ADDED)
        await alerts.nothing(0.05)
        if round_ % 5 == 0:
            await send_task(world, group, f"Round {round_}")
            await alerts.next()
            await added.next()
        await ws.close()

    deadline = time.monotonic() + 5
    while hub.listener_count != listeners_before or len(asyncio.all_tasks()) > tasks_before:
        assert time.monotonic() < deadline, (
            f"left behind: {hub.listener_count - listeners_before} listeners, "
            f"{len(asyncio.all_tasks()) - tasks_before} tasks"
        )
        await asyncio.sleep(0.05)
    assert hub.listened_staff == 0


async def test_events_lost_with_the_broadcast_connection_are_caught_up_from_the_database(
    live: Live,
) -> None:
    world = live.env.world
    group = await group_of_two(world)
    hub = live.env.app.state.hub
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)
    alerts = await dashboard.subscribe(ALERTS)
    await alerts.nothing(0.2)

    await kill_broadcast_connection(hub, live.env.database_url)
    if isinstance(hub.backend, MemoryBackend):
        deadline = time.monotonic() + 5
        while hub.backend is not None:  # the hub noticed, and is about to reconnect
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    # Committed while the broadcast connection is down: stored, its event possibly never sent.
    task = await send_task(world, group, "Sent during the outage")

    alert = (await alerts.next(timeout=10))["unassignedTaskAlerts"]
    assert alert["task"]["id"] == task["id"]
    await alerts.nothing(0.5)
    await dashboard.close()
