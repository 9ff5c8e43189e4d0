"""The websocket at /graphql: graphql-transport-ws as its spec (graphql-ws's PROTOCOL.md) says.

Strawberry's handler already closes with the spec's codes for a late connection_init (4408), a
second one (4429), subscribe before connection_ack (4401), a duplicate operation id (4409) and
text that is not JSON (4400). This module adds what it lets through or leaves open:

- every message is checked against the spec's shapes (graphql-ws's validateMessage) before it is
  acted on: anything else closes with 4400, as do binary frames;
- a message over the size cap closes with 1009 Message Too Big (RFC 6455, 7.4.1) before its JSON
  is parsed; `casetasks serve` gives uvicorn the same cap, which also answers 1009;
- past the cap on operations per connection, that subscribe gets an error message for its id
  (extensions.code TOO_MANY_SUBSCRIPTIONS), as the spec has invalid operations answered, and the
  connection and its other operations go on;
- once acknowledged, the server pings ({"type": "ping"}) every interval; a connection from which
  nothing (pong or any other message) comes back within the timeout is closed with 1001 Going
  Away, a code graphql-ws clients reconnect after, and its subscriptions end;
- close reasons are cut to the 123 bytes a close frame can carry;
- connection_init's payload may be null, as the spec allows;
- a subscribe payload may name a persisted document instead of sending its query
  (casetasks/persisted.py); one that cannot run gets an error message for its id.
The legacy graphql-ws subprotocol is offered only when enabled; a client asking for nothing else
is accepted and closed with 4406 Subprotocol not acceptable, as graphql-ws's own server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from json import JSONDecodeError
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from casetasks.persisted import (
    DocumentRefused,
    DocumentRequest,
    PersistedDocuments,
    names_a_document,
)
from casetasks.settings import Settings

log = logging.getLogger("casetasks.websocket")

MESSAGE_TOO_BIG = 1009
GOING_AWAY = 1001
BAD_REQUEST = 4400
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
CLOSE_REASON_BYTES = 123


@dataclass(frozen=True)
class WebSocketLimits:
    init_timeout: timedelta
    max_subscriptions: int
    max_message_bytes: int
    ping_interval: float
    ping_timeout: float
    legacy_graphql_ws: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> WebSocketLimits:
        return cls(
            init_timeout=timedelta(seconds=settings.websocket_init_timeout_seconds),
            max_subscriptions=settings.websocket_max_subscriptions,
            max_message_bytes=settings.websocket_max_message_bytes,
            ping_interval=settings.websocket_ping_interval_seconds,
            ping_timeout=settings.websocket_ping_timeout_seconds,
            legacy_graphql_ws=settings.casetasks_legacy_graphql_ws,
        )

    def view_options(self) -> dict[str, Any]:
        """Keyword arguments for Strawberry's view (strawberry.asgi.GraphQL)."""
        protocols = [GRAPHQL_TRANSPORT_WS_PROTOCOL]
        if self.legacy_graphql_ws:
            protocols.append(GRAPHQL_WS_PROTOCOL)
        return {
            "subscription_protocols": protocols,
            "connection_init_wait_timeout": self.init_timeout,
            "max_subscriptions_per_connection": self.max_subscriptions,
        }


def limits_of(view: object) -> WebSocketLimits:
    """The limits the view (casetasks.app.GraphQLApp) was built with."""
    limits = getattr(view, "websocket_limits", None)
    assert isinstance(limits, WebSocketLimits), "the view has no websocket_limits"
    return limits


def persisted_of(view: object) -> PersistedDocuments:
    """The persisted documents the view (casetasks.app.GraphQLApp) resolves requests with."""
    persisted = getattr(view, "persisted", None)
    assert isinstance(persisted, PersistedDocuments), "the view has no persisted documents"
    return persisted


def close_reason(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= CLOSE_REASON_BYTES:
        return reason
    return encoded[: CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"


def too_big(text: str, max_bytes: int) -> bool:
    """UTF-8 size, counted only when the character count leaves it in doubt."""
    if len(text) > max_bytes:
        return True
    return len(text) * 4 > max_bytes and len(text.encode()) > max_bytes


def _object_or_null(value: object) -> bool:
    return value is None or isinstance(value, dict)


def _subscribe_problem(message: Mapping[str, object]) -> str | None:
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "subscribe needs an object payload"
    query = payload.get("query")
    if not isinstance(query, str) and not (query is None and names_a_document(payload)):
        return "subscribe needs a string query (or a persisted document's documentId or hash)"
    if not _object_or_null(payload.get("variables")):
        return "subscribe variables must be an object or null"
    if not isinstance(payload.get("operationName"), str | None):
        return "subscribe operationName must be a string or null"
    if not _object_or_null(payload.get("extensions")):
        return "subscribe extensions must be an object or null"
    return None


def message_problem(message: object) -> str | None:
    """What makes a client's message invalid under the spec (None: valid)."""
    if not isinstance(message, dict):
        return "Message must be a JSON object"
    kind = message.get("type")
    if kind in ("connection_init", "ping", "pong"):
        if not _object_or_null(message.get("payload")):
            return f"{kind} payload must be an object or null"
        return None
    if kind in ("subscribe", "complete"):
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return f"{kind} needs a non-empty string id"
        return _subscribe_problem(message) if kind == "subscribe" else None
    if isinstance(kind, str):
        return "Unknown message type"
    return "Message needs a string type"


class LimitedWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's ASGI adapter, refusing oversized messages before parsing them."""

    def __init__(self, view: Any, request: WebSocket, response: WebSocket) -> None:
        super().__init__(view, request, response)
        self.max_message_bytes = limits_of(view).max_message_bytes

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        while self.ws.application_state != WebSocketState.DISCONNECTED:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise NonTextMessageReceived
            if too_big(text, self.max_message_bytes):
                await self.close(MESSAGE_TOO_BIG, f"Message over {self.max_message_bytes} bytes")
                return
            try:
                decoded = self.view.decode_json(text)
            except JSONDecodeError as error:
                if ignore_parsing_errors:
                    continue
                raise NonJsonMessageReceived from error
            yield decoded

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Always a text frame (the protocol's), though the view encodes to bytes."""
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        await self.ws.close(code=code, reason=close_reason(reason))


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits_of(self.view)
        self.persisted = persisted_of(self.view)
        self.heard = asyncio.Event()
        self.pinger: asyncio.Task[None] | None = None

    async def handle_message(self, message: Message) -> None:
        self.heard.set()
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if message.get("payload") is None:
            message = {"type": "connection_init", "payload": {}}
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.pinger is None:
            self.pinger = asyncio.create_task(self.ping_until_silent())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        over_cap = len(self.operations) >= self.limits.max_subscriptions
        if self.connection_acknowledged and message["id"] not in self.operations and over_cap:
            error = GraphQLError(
                f"At most {self.limits.max_subscriptions} operations may run at once on one "
                "connection; complete one first",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        if self.connection_acknowledged and message["id"] not in self.operations:
            payload = message["payload"]
            try:
                query = await self.persisted.resolve(DocumentRequest.of(payload))
            except DocumentRefused as refused:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refused.error.formatted]}
                )
                return
            message = {**message, "payload": {**payload, "query": query or ""}}
        await super().handle_subscribe(message)

    async def ping_until_silent(self) -> None:
        """Pings; closes the connection when nothing at all comes back in time."""
        try:
            while True:
                await asyncio.sleep(self.limits.ping_interval)
                self.heard.clear()
                try:
                    async with asyncio.timeout(self.limits.ping_timeout):
                        await self.send_message({"type": "ping"})
                        await self.heard.wait()
                except TimeoutError:
                    log.info("closing a websocket that did not answer a ping")
                    await self.websocket.close(GOING_AWAY, "No answer to ping")
                    return
        except (WebSocketDisconnected, RuntimeError):
            return  # the connection ended while pinging: shutdown follows

    async def shutdown(self) -> None:
        if self.pinger is not None:
            self.pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pinger
        await super().shutdown()


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """The legacy graphql-ws subprotocol (when enabled) resolves persisted documents too: in
    trusted documents mode it must not be a way around the manifest."""

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged:
            payload = message["payload"]
            try:
                query = await persisted_of(self.view).resolve(DocumentRequest.of(payload))
            except DocumentRefused as refused:
                await self.send_message(
                    {"type": "error", "id": message["id"], "payload": refused.error.formatted}
                )
                return
            message = {**message, "payload": {**payload, "query": query or ""}}
        await super().handle_start(message)
