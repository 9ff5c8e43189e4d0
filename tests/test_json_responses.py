"""GraphQL answers are encoded with orjson: the same JSON as before, UTF-8 instead of \\u escapes,
the same content type; websocket messages stay text frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from strawberry.http.base import BaseView

from casetasks.app import GraphQLApp
from tests.conftest import Env, Live
from tests.ws_client import PROTOCOL

NAME = 'Émile Ökonomie — 東京 ☂ \u2028 "quoted" </script>'
QUERY = "query($id: ID!) { node(id: $id) { ... on ServiceProvider { id name timezone } } }"


def strawberrys_own_encoding(data: Any) -> bytes:
    """What Strawberry's view sent before (json.dumps with compact separators)."""
    return str(BaseView.encode_json(None, data)).encode()  # type: ignore[arg-type]


async def test_answers_are_the_same_json_in_utf8_with_the_same_content_type(env: Env) -> None:
    provider = await env.world.provider(name=NAME, timezone="Asia/Tokyo")
    response = await env.api.http.post(
        "/graphql",
        json={"query": QUERY, "variables": {"id": provider.id}},
        headers={"Authorization": f"Bearer {provider.admin.token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.content
    answer = json.loads(body)
    assert answer["data"]["node"] == {"id": provider.id, "name": NAME, "timezone": "Asia/Tokyo"}
    assert "Émile Ökonomie — 東京 ☂ \u2028".encode() in body  # UTF-8, not \\u escapes
    # Byte for byte what the standard library writes without ASCII escaping, and the same
    # value as Strawberry's own encoding.
    assert body == json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(strawberrys_own_encoding(answer)) == answer


async def test_errors_keep_their_shape(env: Env) -> None:
    response = await env.api.http.post("/graphql", json={"query": "{ nonsense }"})
    assert response.headers["content-type"] == "application/json"
    answer = json.loads(response.content)
    assert response.content == json.dumps(answer, separators=(",", ":")).encode()
    assert answer["errors"][0]["message"].startswith("Cannot query field 'nonsense'")


def test_what_orjson_refuses_is_encoded_as_before() -> None:
    for data in ({"big": 2**70}, {1: "a key that is not a string"}, {"lone": "\ud800"}):
        encoded = GraphQLApp.encode_json(None, data)  # type: ignore[arg-type]
        assert encoded == strawberrys_own_encoding(data)


async def test_websocket_messages_are_text_frames(live: Live) -> None:
    provider = await live.env.world.provider(name=NAME)
    async with websockets.connect(live.ws_url, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        init = {"Authorization": f"Bearer {provider.admin.token}"}
        await socket.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = await asyncio.wait_for(socket.recv(), 5)
        assert isinstance(ack, str)
        assert json.loads(ack) == {"type": "connection_ack"}
        query = "{ me { ... on Staff { provider { name } } } }"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        answer = await asyncio.wait_for(socket.recv(), 5)
        assert isinstance(answer, str)
        assert "Émile Ökonomie" in answer
        assert json.loads(answer)["payload"]["data"]["me"]["provider"]["name"] == NAME
