"""A graphql-transport-ws client, as a browser dashboard speaks it, over a real websocket."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

PROTOCOL = "graphql-transport-ws"


class Rejected(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code


class Operation:
    def __init__(self, client: GraphQLWebSocket, operation_id: str) -> None:
        self.client = client
        self.id = operation_id
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The data of the next `next` message; fails on error, complete or a closed socket."""
        message = await asyncio.wait_for(self.messages.get(), timeout)
        if message["type"] != "next":
            raise AssertionError(f"expected next, got {message}")
        payload = message["payload"]
        if payload.get("errors"):
            raise AssertionError(payload["errors"])
        return payload["data"]  # type: ignore[no-any-return]

    async def message(self, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def nothing(self, within: float = 0.5) -> None:
        """Asserts that no message arrives for a while (used sparingly, for negatives)."""
        with contextlib.suppress(TimeoutError):
            message = await asyncio.wait_for(self.messages.get(), within)
            raise AssertionError(f"expected nothing, got {message}")

    async def stop(self) -> None:
        await self.client.send({"id": self.id, "type": "complete"})


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.operations: dict[str, Operation] = {}
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.pings = 0  # server pings answered
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, token: str | None, **options: Any) -> GraphQLWebSocket:
        connection = await websockets.connect(url, subprotocols=[PROTOCOL], **options)  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            ack = json.loads(await asyncio.wait_for(connection.recv(), 5))
        except websockets.ConnectionClosed as closed:
            raise Rejected(
                closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else ""
            ) from None
        if ack.get("type") != "connection_ack":
            raise AssertionError(f"expected connection_ack, got {ack}")
        return cls(connection)

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await self.send({"type": "pong"})
                    self.pings += 1
                operation = self.operations.get(message.get("id", ""))
                if operation is not None:
                    operation.messages.put_nowait(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code
            self.closed.set()
            for operation in self.operations.values():
                operation.messages.put_nowait({"type": "closed", "code": self.close_code})

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> Operation:
        operation = Operation(self, str(next(self._ids)))
        self.operations[operation.id] = operation
        await self.send(
            {
                "id": operation.id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return operation

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self) -> None:
        await self.connection.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
