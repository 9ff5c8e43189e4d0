"""Persisted documents (casetasks/persisted.py): automatic persisted queries shared through the
database, trusted documents from a manifest, over HTTP (GET and POST) and graphql-transport-ws."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select
from websockets.typing import Subprotocol

from casetasks.app import create_app
from casetasks.persisted import MAX_STORED_BYTES
from casetasks.settings import Settings
from casetasks.trusted_documents import TrustedDocumentsError
from models import PersistedDocument
from services.clock import FixedClock
from tests.conftest import Env, Live, settings_for_tests
from tests.group_setup import group_of_two, send_task
from tests.live import serve_in_process, until
from tests.processes import process_env, run_cli
from tests.services import need_npm_package
from tests.test_subscriptions import ALERTS
from tests.ws_client import GraphQLWebSocket, Operation

ME = "query Me { me { ... on Staff { email } } }"
UNLISTED = "query Who { me { ... on Staff { name } } }"
# The factories sign in with this text: in trusted mode it must be in the manifest.
LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
    " token errors { message } } }"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def by_hash(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


async def post(http: httpx.AsyncClient, body: dict[str, Any], token: str) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})


async def get(http: httpx.AsyncClient, params: dict[str, Any], token: str) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await http.get(
        "/graphql",
        params=encoded,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


async def stored(env: Env) -> int:
    async with env.app.state.services.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(PersistedDocument)))


def assert_not_found(response: httpx.Response) -> None:
    body = response.json()
    assert body["errors"][0]["message"] == "PersistedQueryNotFound", body
    assert codes(body) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert body.get("data") is None
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"


# ---------------------------------------------------------------- automatic persisted queries


async def test_apq_round_trip_over_post(env: Env) -> None:
    provider = await env.world.provider()
    http, token = env.api.http, provider.admin.token

    assert_not_found(await post(http, {"extensions": by_hash(ME)}, token))
    assert await stored(env) == 0

    registered = await post(http, {"query": ME, "extensions": by_hash(ME)}, token)
    assert registered.json()["data"] == {"me": {"email": provider.admin.email}}
    assert await stored(env) == 1

    again = await post(http, {"extensions": by_hash(ME), "operationName": "Me"}, token)
    assert again.json()["data"] == {"me": {"email": provider.admin.email}}
    by_id = await post(http, {"documentId": f"sha256:{sha256(ME)}"}, token)
    assert by_id.json()["data"] == {"me": {"email": provider.admin.email}}


async def test_apq_round_trip_over_get(env: Env) -> None:
    provider = await env.world.provider()
    http, token = env.api.http, provider.admin.token

    not_found = await get(http, {"extensions": by_hash(ME)}, token)
    assert_not_found(not_found)
    # A browser-like Accept on a GET without a query still names a document, not GraphiQL.
    anything = await http.get(
        "/graphql",
        params={"extensions": json.dumps(by_hash(ME))},
        headers={"Authorization": f"Bearer {token}", "Accept": "*/*"},
    )
    assert anything.headers["content-type"].startswith("application/"), anything.text

    registered = await get(http, {"query": ME, "extensions": by_hash(ME)}, token)
    assert registered.json()["data"] == {"me": {"email": provider.admin.email}}

    again = await get(http, {"extensions": by_hash(ME)}, token)
    assert again.json()["data"] == {"me": {"email": provider.admin.email}}
    by_id = await get(http, {"documentId": f"sha256:{sha256(ME)}"}, token)
    assert by_id.json()["data"] == {"me": {"email": provider.admin.email}}


async def test_a_mutation_named_by_hash_still_needs_post(env: Env) -> None:
    provider = await env.world.provider()
    token, variables = provider.admin.token, {"e": provider.admin.email, "p": "not it"}
    registering = {"query": LOGIN, "variables": variables, "extensions": by_hash(LOGIN)}
    assert (await post(env.api.http, registering, token)).json()["data"]["login"]["errors"]
    by_post = {"extensions": by_hash(LOGIN), "variables": variables}
    assert (await post(env.api.http, by_post, token)).json()["data"]["login"]["errors"]
    by_get = await get(env.api.http, {"extensions": by_hash(LOGIN), "variables": variables}, token)
    assert by_get.status_code in (400, 405), by_get.text


@asynccontextmanager
async def another_instance(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database: its own process-local cache, nothing else shared."""
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://second.test"
        ) as http,
    ):
        yield http


async def test_a_document_registered_on_one_instance_runs_by_hash_on_another(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    async with another_instance(settings, clock) as second:
        assert_not_found(await post(second, {"extensions": by_hash(ME)}, token))
        await post(env.api.http, {"query": ME, "extensions": by_hash(ME)}, token)

        answer = await post(second, {"extensions": by_hash(ME)}, token)
        assert answer.json()["data"] == {"me": {"email": provider.admin.email}}


async def test_a_query_that_is_not_its_hash_is_refused_and_not_stored(env: Env) -> None:
    provider = await env.world.provider()
    http, token = env.api.http, provider.admin.token
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256(UNLISTED)}}

    answer = (await post(http, {"query": ME, "extensions": wrong}, token)).json()
    assert codes(answer) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "sha256Hash" in answer["errors"][0]["message"]
    assert answer.get("data") is None
    assert await stored(env) == 0
    assert_not_found(await post(http, {"extensions": wrong}, token))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}}, "version"),
        ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}, "sha256Hash"),
        ({"extensions": {"persistedQuery": "abc"}}, "persistedQuery"),
        ({"documentId": "md5:abc"}, "documentId"),
        ({"documentId": f"sha256:{sha256(ME)}", "query": ME}, "documentId"),
        (
            {"documentId": f"sha256:{sha256(UNLISTED)}", "extensions": by_hash(ME)},
            "documentId",
        ),
    ],
)
async def test_a_malformed_name_is_a_bad_request_naming_the_field(
    env: Env, fields: dict[str, Any], named: str
) -> None:
    provider = await env.world.provider()
    answer = (await post(env.api.http, fields, provider.admin.token)).json()
    assert codes(answer) == ["BAD_REQUEST"], answer
    assert named in answer["errors"][0]["message"]


async def test_only_documents_that_validate_are_registered(env: Env) -> None:
    provider = await env.world.provider()
    http, token = env.api.http, provider.admin.token
    invalid = "query Bad { me { ... on Staff { shoeSize } } }"
    unparsable = "query Broken { me { "
    for text in (invalid, unparsable):
        answer = (await post(http, {"query": text, "extensions": by_hash(text)}, token)).json()
        assert answer["errors"] and not answer.get("data")
        assert codes(answer) != ["PERSISTED_QUERY_NOT_FOUND"]
    too_big = ME + " " * MAX_STORED_BYTES
    answer = (await post(http, {"query": too_big, "extensions": by_hash(too_big)}, token)).json()
    assert answer["data"] == {"me": {"email": provider.admin.email}}  # it runs, unstored
    assert await stored(env) == 0
    for text in (invalid, unparsable, too_big):
        assert_not_found(await post(http, {"extensions": by_hash(text)}, token))


async def test_the_table_keeps_only_the_newest_documents(
    database_url: str, broadcast: str, clock: FixedClock
) -> None:
    settings = settings_for_tests(database_url, broadcast, persisted_documents_max=2)
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        texts = [f"query Q{n} {{ __typename }}" for n in range(3)]
        for text in texts:
            clock.advance(timedelta(minutes=1))
            answer = await http.post("/graphql", json={"query": text, "extensions": by_hash(text)})
            assert answer.json()["data"] == {"__typename": "Query"}
        async with app.state.services.session_factory() as session:
            kept = set(await session.scalars(select(PersistedDocument.sha256)))
    assert kept == {sha256(texts[1]), sha256(texts[2])}


# ---------------------------------------------------------------- trusted documents


def write_manifest(folder: Path, documents: dict[str, str]) -> Path:
    path = folder / "persisted-documents.json"
    path.write_text(json.dumps(documents))
    return path


@asynccontextmanager
async def trusted_app(
    database_url: str, broadcast: str, clock: FixedClock, manifest: Path, **overrides: Any
) -> AsyncIterator[tuple[Env, httpx.AsyncClient]]:
    from tests.conftest import StatementCounter
    from tests.factories import World
    from tests.graphql_client import Api

    settings = settings_for_tests(
        database_url, broadcast, casetasks_trusted_documents=manifest, **overrides
    )
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        engine = app.state.engine
        world = World(Api(http), app.state.services.session_factory, clock)
        yield (
            Env(app, Api(http), world, clock, engine, database_url, StatementCounter(engine)),
            http,
        )


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path, {sha256(ME): ME, f"sha256:{sha256(LOGIN)}": LOGIN})


async def test_trusted_mode_runs_listed_documents_by_hash_id_or_text(
    database_url: str, broadcast: str, clock: FixedClock, manifest: Path
) -> None:
    async with trusted_app(database_url, broadcast, clock, manifest) as (env, http):
        provider = await env.world.provider()
        token, expected = provider.admin.token, {"me": {"email": provider.admin.email}}

        assert (await post(http, {"extensions": by_hash(ME)}, token)).json()["data"] == expected
        by_id = {"documentId": f"sha256:{sha256(ME)}"}
        assert (await post(http, by_id, token)).json()["data"] == expected
        assert (await get(http, by_id, token)).json()["data"] == expected
        assert (await get(http, {"extensions": by_hash(ME)}, token)).json()["data"] == expected
        assert (await post(http, {"query": ME}, token)).json()["data"] == expected
        assert (await stored(env)) == 0  # the manifest is the list; nothing is registered


async def test_trusted_mode_refuses_any_other_document(
    database_url: str, broadcast: str, clock: FixedClock, manifest: Path
) -> None:
    async with trusted_app(database_url, broadcast, clock, manifest) as (env, http):
        provider = await env.world.provider()
        token = provider.admin.token

        sent = (await post(http, {"query": UNLISTED}, token)).json()
        assert codes(sent) == ["QUERY_NOT_IN_SAFELIST"]
        assert "trusted documents" in sent["errors"][0]["message"]
        assert sent.get("data") is None
        registering = {"query": UNLISTED, "extensions": by_hash(UNLISTED)}
        assert codes((await post(http, registering, token)).json()) == ["QUERY_NOT_IN_SAFELIST"]
        # Not PersistedQueryNotFound: a client must not retry by sending the text.
        named = (await post(http, {"extensions": by_hash(UNLISTED)}, token)).json()
        assert codes(named) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        assert named["errors"][0]["message"] != "PersistedQueryNotFound"
        by_id = {"documentId": f"sha256:{sha256(UNLISTED)}"}
        assert codes((await get(http, by_id, token)).json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        # Whitespace makes another document: only the exact text is trusted.
        assert codes((await post(http, {"query": ME + " "}, token)).json()) == [
            "QUERY_NOT_IN_SAFELIST"
        ]


async def test_an_apollo_persisted_query_manifest_is_accepted(
    database_url: str, broadcast: str, clock: FixedClock, tmp_path: Path
) -> None:
    operations = [
        {"id": sha256(text), "body": text, "name": name, "type": kind}
        for text, name, kind in ((ME, "Me", "query"), (LOGIN, "Login", "mutation"))
    ]
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    async with trusted_app(database_url, broadcast, clock, path) as (env, http):
        provider = await env.world.provider()
        answer = await post(http, {"extensions": by_hash(ME)}, provider.admin.token)
        assert answer.json()["data"] == {"me": {"email": provider.admin.email}}


BAD_MANIFESTS: dict[str, tuple[str, str]] = {
    "not JSON": ("{ not json", "is not JSON"),
    "a list": (json.dumps([ME]), "must be a JSON object"),
    "empty": ("{}", "lists no documents"),
    "a key that is no hash": (json.dumps({"Me": ME}), "is not a SHA-256"),
    "a key of another text": (json.dumps({sha256(UNLISTED): ME}), "not the SHA-256 of its"),
    "a document that does not validate": (
        json.dumps({sha256("{ nothing }"): "{ nothing }"}),
        "does not validate",
    ),
    "a document that is not text": (json.dumps({sha256(ME): 5}), "is not a string"),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_bad_manifest_fails_at_start_up_naming_the_file(tmp_path: Path, case: str) -> None:
    content, words = BAD_MANIFESTS[case]
    path = tmp_path / "manifest.json"
    path.write_text(content)
    settings = settings_for_tests(
        f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        "memory://",
        casetasks_trusted_documents=path,
    )
    with pytest.raises(TrustedDocumentsError) as refused:
        create_app(settings)
    assert str(path) in str(refused.value) and words in str(refused.value)
    assert "CASETASKS_TRUSTED_DOCUMENTS" in str(refused.value)


def test_a_missing_manifest_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    settings = settings_for_tests(
        f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        "memory://",
        casetasks_trusted_documents=path,
    )
    with pytest.raises(TrustedDocumentsError, match="cannot be read"):
        create_app(settings)


async def test_serve_with_a_bad_manifest_exits_with_one_line_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({"Me": ME}))
    env = process_env(
        f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}", CASETASKS_TRUSTED_DOCUMENTS=str(path)
    )
    finished = await run_cli("serve", "--port", "0", env=env, cwd=tmp_path)
    assert finished.returncode == 1
    assert str(path) in finished.stderr and "is not a SHA-256" in finished.stderr
    assert "Traceback" not in finished.stderr


# ---------------------------------------------------------------- subscriptions


async def subscribe_with(
    client: GraphQLWebSocket, operation_id: str, payload: dict[str, Any]
) -> Operation:
    operation = Operation(client, operation_id)
    client.operations[operation_id] = operation
    await client.send({"id": operation_id, "type": "subscribe", "payload": payload})
    return operation


async def test_a_subscription_starts_by_hash_over_a_real_websocket(live: Live) -> None:
    world = live.env.world
    group = await group_of_two(world)
    dashboard = await GraphQLWebSocket.connect(live.ws_url, group.receiving_staff.token)

    unknown = await subscribe_with(dashboard, "hash-first", {"extensions": by_hash(ALERTS)})
    refused = await unknown.message()
    assert refused["type"] == "error"
    assert refused["payload"][0]["message"] == "PersistedQueryNotFound"
    assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registering = await subscribe_with(
        dashboard, "with-text", {"query": ALERTS, "extensions": by_hash(ALERTS)}
    )
    by_hash_only = await subscribe_with(dashboard, "by-hash", {"extensions": by_hash(ALERTS)})
    by_id = await subscribe_with(
        dashboard, "by-id", {"documentId": f"sha256:{sha256(ALERTS)}", "variables": {}}
    )
    hub = live.env.app.state.hub
    await until(lambda: hub.listener_count >= 3, 10, "the three subscriptions listened")

    task = await send_task(world, group, "Started by hash")
    for operation in (registering, by_hash_only, by_id):
        alert = (await operation.next())["unassignedTaskAlerts"]
        assert alert["task"]["id"] == task["id"]

    mismatch = await subscribe_with(
        dashboard, "mismatch", {"query": ALERTS, "extensions": by_hash(ME)}
    )
    answer = await mismatch.message()
    assert answer["type"] == "error"
    assert answer["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    await dashboard.close()


async def test_trusted_mode_over_the_websocket(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, {sha256(LOGIN): LOGIN, sha256(ALERTS): ALERTS})
    legacy = {"casetasks_legacy_graphql_ws": True}
    async with trusted_app(database_url, "memory://", clock, manifest, **legacy) as (env, _http):
        provider = await env.world.provider()
        async with serve_in_process(env.app) as address:
            url = f"ws://{address}/graphql"
            dashboard = await GraphQLWebSocket.connect(url, provider.admin.token)
            listed = await subscribe_with(dashboard, "listed", {"extensions": by_hash(ALERTS)})
            unlisted = await subscribe_with(dashboard, "unlisted", {"query": UNLISTED})
            refused = await unlisted.message()
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
            await listed.nothing(0.2)  # running, quietly: no error for the listed one
            await dashboard.close()

            # The legacy subprotocol is no way around the manifest.
            old = await websockets.connect(url, subprotocols=[Subprotocol("graphql-ws")])
            init = {"Authorization": f"Bearer {provider.admin.token}"}
            await old.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await old.recv())["type"] == "connection_ack"
            start = {"type": "start", "id": "1", "payload": {"query": UNLISTED}}
            await old.send(json.dumps(start))
            answer = json.loads(await asyncio.wait_for(old.recv(), 5))
            assert answer["type"] == "error" and answer["id"] == "1"
            assert answer["payload"]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
            await old.close()


# ---------------------------------------------------------------- Apollo Client

APOLLO_CLIENT = Path(__file__).parent / "apollo_client"


def apollo_client_script() -> Path:
    """The installed Apollo Client (scripts/ensure_npm_packages.sh, run by `make test`)."""
    need_npm_package(APOLLO_CLIENT, "@apollo/client")
    return APOLLO_CLIENT / "apq.mjs"


@pytest.mark.parametrize("method", ["post", "get"])
async def test_apollo_clients_persisted_queries_link_round_trip(env: Env, method: str) -> None:
    script = apollo_client_script()
    provider = await env.world.provider()
    async with serve_in_process(env.app) as address:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            f"http://{address}/graphql",
            provider.admin.token,
            method,
            ME,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    run = json.loads(stdout)

    expected = {"me": {"email": provider.admin.email, "__typename": "Staff"}}
    assert [result["data"] for result in run["results"]] == [expected, expected]
    hashed = "GET" if method == "get" else "POST"
    first, registering, again = run["requests"]
    assert (first["method"], first["withQuery"]) == (hashed, False)
    assert first["answer"]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (registering["method"], registering["withQuery"]) == ("POST", True)
    assert (again["method"], again["withQuery"]) == (hashed, False)
    assert first["sha256Hash"] == registering["sha256Hash"] == again["sha256Hash"]
    assert await stored(env) == 1
