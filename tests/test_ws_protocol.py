"""The graphql-transport-ws protocol's rules, over real websockets against a real uvicorn server.

Raw frames (the websockets library) where a well-behaved client could not send them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from casetasks.app import create_app
from casetasks.settings import Settings
from casetasks.websocket import CLOSE_REASON_BYTES
from tests.conftest import Env, Live
from tests.databases import SqliteTemplates
from tests.live import ServeProcess, serve_in_process
from tests.processes import process_env
from tests.test_subscriptions import ADDED
from tests.ws_client import PROTOCOL, GraphQLWebSocket

INIT_TIMEOUT = 0.5
MAX_SUBSCRIPTIONS = 3
MAX_MESSAGE_BYTES = 8192
PING_INTERVAL = 0.2
PING_TIMEOUT = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so that each can be reached quickly."""
    return settings.model_copy(
        update={
            "websocket_init_timeout_seconds": INIT_TIMEOUT,
            "websocket_max_subscriptions": MAX_SUBSCRIPTIONS,
            "websocket_max_message_bytes": MAX_MESSAGE_BYTES,
            "websocket_ping_interval_seconds": PING_INTERVAL,
            "websocket_ping_timeout_seconds": PING_TIMEOUT,
        }
    )


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {timeout} s"
        await asyncio.sleep(0.01)


async def connect(url: str, protocols: Sequence[str] = (PROTOCOL,)) -> ClientConnection:
    return await websockets.connect(url, subprotocols=[Subprotocol(p) for p in protocols])


async def send(connection: ClientConnection, message: object) -> None:
    await connection.send(json.dumps(message))


async def receive(connection: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """The next message other than a server ping (left unanswered)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), timeout))
        if message.get("type") != "ping":
            return message


async def acknowledged(url: str, token: str) -> ClientConnection:
    connection = await connect(url)
    payload = {"Authorization": f"Bearer {token}"}
    await send(connection, {"type": "connection_init", "payload": payload})
    assert (await receive(connection))["type"] == "connection_ack"
    return connection


async def closed_with(connection: ClientConnection, timeout: float = 5.0) -> tuple[int, str]:
    """Reads (ignoring everything, pings unanswered) until the server closes the socket."""
    try:
        async with asyncio.timeout(timeout):
            async for _message in connection:
                pass
    except websockets.ConnectionClosed:
        pass
    received = connection.protocol.close_rcvd
    assert received is not None, "the connection ended without a close frame from the server"
    return received.code, received.reason


def subscribe(operation_id: object, query: str = ADDED) -> dict[str, object]:
    return {"id": operation_id, "type": "subscribe", "payload": {"query": query}}


async def test_a_socket_without_connection_init_is_closed_with_4408(live: Live) -> None:
    connection = await connect(live.ws_url)
    assert await closed_with(connection) == (4408, "Connection initialisation timeout")


async def test_a_second_connection_init_closes_with_4429(live: Live) -> None:
    provider = await live.env.world.provider()
    connection = await acknowledged(live.ws_url, provider.admin.token)
    await send(connection, {"type": "connection_init", "payload": {}})
    assert await closed_with(connection) == (4429, "Too many initialisation requests")


async def test_subscribe_before_connection_ack_closes_with_4401(live: Live) -> None:
    connection = await connect(live.ws_url)
    await send(connection, subscribe("1"))
    assert await closed_with(connection) == (4401, "Unauthorized")
    assert live.env.app.state.hub.listener_count == 0


async def test_a_null_connection_init_payload_is_allowed_and_carries_no_token(
    live: Live,
) -> None:
    connection = await connect(live.ws_url)
    await send(connection, {"type": "connection_init", "payload": None})
    assert await closed_with(connection) == (4403, "Forbidden")


async def test_a_running_operation_id_used_again_closes_with_4409(live: Live) -> None:
    provider = await live.env.world.provider()
    hub = live.env.app.state.hub
    connection = await acknowledged(live.ws_url, provider.admin.token)
    await send(connection, subscribe("dashboard"))
    await until(lambda: hub.listener_count == 1, "listening")
    await send(connection, {"id": "dashboard", "type": "complete"})
    await until(lambda: hub.listener_count == 0, "stopped")
    await send(connection, subscribe("dashboard"))  # free again once completed
    await until(lambda: hub.listener_count == 1, "listening again")

    await send(connection, subscribe("dashboard"))
    assert await closed_with(connection) == (4409, "Subscriber for dashboard already exists")
    await until(lambda: hub.listener_count == 0, "cleaned up")


async def test_close_reasons_fit_a_close_frame(live: Live) -> None:
    provider = await live.env.world.provider()
    connection = await acknowledged(live.ws_url, provider.admin.token)
    long_id = "é" * 200
    await send(connection, subscribe(long_id))
    await send(connection, subscribe(long_id))
    code, reason = await closed_with(connection)
    assert code == 4409
    assert reason.startswith("Subscriber for éé")
    assert len(reason.encode()) <= CLOSE_REASON_BYTES


def _subscribe_with(**payload: object) -> str:
    return json.dumps({"id": "1", "type": "subscribe", "payload": payload})


MALFORMED = {
    "not JSON": "{not json",
    "an array": "[]",
    "a string": '"subscribe"',
    "null": "null",
    "no type": '{"id": "1"}',
    "a numeric type": '{"type": 5}',
    "an unknown type": '{"type": "start", "id": "1"}',
    "a server's message": '{"type": "next", "id": "1", "payload": {}}',
    "subscribe without id": '{"type": "subscribe", "payload": {"query": "{ me { id } }"}}',
    "subscribe with a numeric id": json.dumps(subscribe(1)),
    "subscribe with an empty id": json.dumps(subscribe("")),
    "subscribe without payload": '{"type": "subscribe", "id": "1"}',
    "subscribe with a string payload": '{"type": "subscribe", "id": "1", "payload": "{ x }"}',
    "subscribe without query": _subscribe_with(),
    "subscribe with a numeric query": _subscribe_with(query=5),
    "subscribe with list variables": _subscribe_with(query=ADDED, variables=[1]),
    "subscribe with a numeric operationName": _subscribe_with(query=ADDED, operationName=5),
    "subscribe with string extensions": _subscribe_with(query=ADDED, extensions="x"),
    "complete without id": '{"type": "complete"}',
    "complete with a numeric id": '{"type": "complete", "id": 1}',
    "ping with a list payload": '{"type": "ping", "payload": [1]}',
    "pong with a string payload": '{"type": "pong", "payload": "x"}',
}


async def test_malformed_messages_close_with_4400(live: Live) -> None:
    provider = await live.env.world.provider()
    codes = {}
    for case, text in MALFORMED.items():
        connection = await acknowledged(live.ws_url, provider.admin.token)
        await connection.send(text)
        codes[case] = (await closed_with(connection))[0]
    assert codes == dict.fromkeys(MALFORMED, 4400)
    assert live.env.app.state.hub.listener_count == 0


async def test_a_connection_init_payload_that_is_not_an_object_closes_with_4400(
    live: Live,
) -> None:
    connection = await connect(live.ws_url)
    await send(connection, {"type": "connection_init", "payload": "Bearer token"})
    assert (await closed_with(connection))[0] == 4400


async def test_a_binary_frame_closes_with_4400(live: Live) -> None:
    provider = await live.env.world.provider()
    connection = await acknowledged(live.ws_url, provider.admin.token)
    await connection.send(json.dumps(subscribe("1")).encode())
    assert await closed_with(connection) == (4400, "WebSocket message type must be text")


async def test_client_pings_are_answered_with_pong_before_and_after_init(live: Live) -> None:
    provider = await live.env.world.provider()
    connection = await connect(live.ws_url)
    await send(connection, {"type": "ping", "payload": {"at": 1}})
    assert await receive(connection) == {"type": "pong"}
    await send(connection, {"type": "connection_init", "payload": {"token": provider.admin.token}})
    assert (await receive(connection))["type"] == "connection_ack"
    await send(connection, {"type": "ping"})
    assert await receive(connection) == {"type": "pong"}
    await connection.close()


async def test_past_the_subscription_cap_that_subscribe_gets_an_error_and_others_go_on(
    live: Live,
) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    provider = await world.provider()
    member = await world.staff(provider)
    ws = await GraphQLWebSocket.connect(live.ws_url, member.token)
    running = [await ws.subscribe(ADDED) for _ in range(MAX_SUBSCRIPTIONS)]
    await until(lambda: hub.listener_count == MAX_SUBSCRIPTIONS, "listening")

    refused = await ws.subscribe(ADDED)
    message = await refused.message()
    assert message["type"] == "error"
    [error] = message["payload"]
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert str(MAX_SUBSCRIPTIONS) in error["message"]

    await running[0].stop()
    await until(lambda: hub.listener_count == MAX_SUBSCRIPTIONS - 1, "one stopped")
    replacement = await ws.subscribe(ADDED)
    await until(lambda: hub.listener_count == MAX_SUBSCRIPTIONS, "the replacement listening")
    await world.task(provider.admin, responsibleIds=[member.id])
    for stream in [*running[1:], replacement]:
        assert (await stream.next())["notificationAdded"]["kind"] == "TASK_ASSIGNED"
    await refused.nothing(0.2)
    assert ws.close_code is None
    await ws.close()


async def test_a_message_over_the_size_cap_closes_with_1009_before_it_is_parsed(
    live: Live,
) -> None:
    provider = await live.env.world.provider()
    connection = await acknowledged(live.ws_url, provider.admin.token)
    padding = " " * MAX_MESSAGE_BYTES
    await send(connection, subscribe("1", query=f"subscription {{ {padding} }}"))
    assert await closed_with(connection) == (1009, f"Message over {MAX_MESSAGE_BYTES} bytes")

    # Not JSON either: the size decides first (4400 would mean it was parsed).
    connection = await connect(live.ws_url)
    await connection.send("{" * (MAX_MESSAGE_BYTES + 1))
    assert (await closed_with(connection))[0] == 1009

    # Counted in UTF-8 bytes, not characters.
    connection = await connect(live.ws_url)
    pad = "é" * (MAX_MESSAGE_BYTES // 2)
    text = json.dumps({"type": "ping", "payload": {"pad": pad}}, ensure_ascii=False)
    assert len(text) < MAX_MESSAGE_BYTES < len(text.encode())
    await connection.send(text)
    assert (await closed_with(connection))[0] == 1009


async def test_a_message_of_exactly_the_cap_is_accepted(live: Live) -> None:
    # Acknowledged first: the module's 0.5 s init timeout is not what this test is about.
    provider = await live.env.world.provider()
    connection = await acknowledged(live.ws_url, provider.admin.token)
    empty = json.dumps({"type": "ping", "payload": {"pad": ""}})
    text = json.dumps({"type": "ping", "payload": {"pad": "x" * (MAX_MESSAGE_BYTES - len(empty))}})
    assert len(text.encode()) == MAX_MESSAGE_BYTES
    await connection.send(text)
    assert await receive(connection) == {"type": "pong"}
    await connection.close()


async def test_a_client_that_stops_answering_pings_is_closed_and_forgotten(live: Live) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    provider = await world.provider()
    member = await world.staff(provider)
    connection = await acknowledged(live.ws_url, member.token)
    await send(connection, subscribe("1"))
    await until(lambda: hub.listener_count == 1, "listening")

    ping = json.loads(await asyncio.wait_for(connection.recv(), 5))
    assert ping == {"type": "ping"}
    assert await closed_with(connection) == (1001, "No answer to ping")
    await until(lambda: hub.listener_count == 0, "the listener removed")


async def test_a_subscription_works_end_to_end_while_the_client_answers_pings(
    live: Live,
) -> None:
    world = live.env.world
    hub = live.env.app.state.hub
    provider = await world.provider()
    member = await world.staff(provider)
    ws = await GraphQLWebSocket.connect(live.ws_url, member.token)
    added = await ws.subscribe(ADDED)
    await until(lambda: hub.listener_count == 1, "listening")

    # The next ping follows only once the previous one was answered.
    await until(lambda: ws.pings >= 3, "pinged three times")
    await world.task(provider.admin, responsibleIds=[member.id], name="Call the employer")
    notification = (await added.next())["notificationAdded"]
    assert notification["kind"] == "TASK_ASSIGNED"
    assert notification["task"]["name"] == "Call the employer"
    assert ws.close_code is None
    await added.stop()
    await until(lambda: hub.listener_count == 0, "stopped")
    await ws.close()


async def test_the_legacy_graphql_ws_subprotocol_is_refused_by_default(live: Live) -> None:
    connection = await connect(live.ws_url, ["graphql-ws"])
    assert connection.subprotocol is None
    assert await closed_with(connection) == (4406, "Subprotocol not acceptable")

    both = await connect(live.ws_url, ["graphql-ws", PROTOCOL])
    assert both.subprotocol == PROTOCOL
    await both.close()


@asynccontextmanager
async def served(settings: Settings, env: Env) -> AsyncIterator[str]:
    app = create_app(settings, clock=env.clock)
    async with app.router.lifespan_context(app), serve_in_process(app) as address:
        yield f"ws://{address}/graphql"


async def test_the_legacy_subprotocol_is_served_when_enabled(env: Env, settings: Settings) -> None:
    provider = await env.world.provider()
    enabled = settings.model_copy(update={"casetasks_legacy_graphql_ws": True})
    async with served(enabled, env) as url:
        connection = await connect(url, ["graphql-ws"])
        assert connection.subprotocol == "graphql-ws"
        payload = {"Authorization": f"Bearer {provider.admin.token}"}
        await send(connection, {"type": "connection_init", "payload": payload})
        assert await receive(connection) == {"type": "connection_ack"}
        await connection.close()

        refused = await connect(url, ["graphql-ws"])
        await send(refused, {"type": "connection_init", "payload": {}})
        assert (await receive(refused))["type"] == "connection_error"
        await refused.close()


async def test_casetasks_serve_caps_messages_in_uvicorn_too(
    sqlite_templates: SqliteTemplates, tmp_path: Path
) -> None:
    async with sqlite_templates.database() as database_url:
        server = ServeProcess(
            process_env(database_url, WEBSOCKET_MAX_MESSAGE_BYTES="2048"), tmp_path
        )
        await server.start()
        try:
            connection = await connect(server.ws_url)
            await connection.send("x" * 2049)
            code, reason = await closed_with(connection)
        finally:
            await server.stop()
    assert code == 1009
    assert reason != "Message over 2048 bytes"  # uvicorn's words, not the app's: it came first
