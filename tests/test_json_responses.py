"""GraphQL answers are encoded with orjson: the same JSON as before, UTF-8 instead of \\u escapes,
the same content type; websocket messages stay text frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import websockets
from strawberry.http.base import BaseView

from casetasks.app import GraphQLApp
from schema.planned import OUTCOMES, PlannedJson
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
    # A planned answer beside what orjson refuses: parsed, then encoded as before.
    planned = {"data": PlannedJson('{"tasks" : {"totalCount" : 2}}'), "big": 2**70}
    encoded = GraphQLApp.encode_json(None, planned)  # type: ignore[arg-type]
    assert encoded == strawberrys_own_encoding({"data": {"tasks": {"totalCount": 2}}, "big": 2**70})


async def test_a_planned_answer_is_sent_as_the_database_wrote_it(env: Env) -> None:
    """With the planner on (as served), the page's data is not parsed and encoded again: the
    answer is the same value as field by field, in the same field order."""
    provider = await env.world.provider(name=NAME)
    await env.world.task(provider.admin, name=NAME)
    query = "{ tasks(first: 5) { totalCount edges { node { name client { name } } } } }"
    headers = {"Authorization": f"Bearer {provider.admin.token}"}
    answers = []
    for mode in ("on", "off"):
        env.app.state.services.planner = mode
        before = OUTCOMES["planned"]
        try:
            response = await env.api.http.post("/graphql", json={"query": query}, headers=headers)
        finally:
            env.app.state.services.planner = "check"
        assert OUTCOMES["planned"] == before + (mode == "on")
        assert response.headers["content-type"] == "application/json"
        answers.append(response.content)
    planned, field_by_field = (json.loads(answer) for answer in answers)
    assert planned["data"] == field_by_field["data"]
    assert list(planned["data"]["tasks"]) == ["totalCount", "edges"]
    assert planned["data"]["tasks"]["edges"][0]["node"]["name"] == NAME
    assert "Émile Ökonomie — 東京 ☂ \u2028".encode() in answers[0]  # UTF-8, not \\u escapes


def test_request_bodies_decode_as_before() -> None:
    """orjson first; what it refuses goes to json.loads, which accepts it or fails as before."""
    decode = GraphQLApp.decode_json
    assert decode(None, b'{"query": "{ me { id } }"}') == {"query": "{ me { id } }"}  # type: ignore[arg-type]
    assert decode(None, b'{"n": NaN}')["n"] != 0  # type: ignore[arg-type,index]
    assert decode(None, '{"big": 1180591620717411303424}') == {"big": 2**70}  # type: ignore[arg-type]
    assert decode(None, '{"big": 1}'.encode("utf-16")) == {"big": 1}  # type: ignore[arg-type]
    for broken in (b"{", b"", b'{"a": 1,}'):
        try:
            decode(None, broken)  # type: ignore[arg-type]
        except json.JSONDecodeError as error:
            assert not isinstance(error, orjson.JSONDecodeError), broken
        else:
            raise AssertionError(broken)


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
