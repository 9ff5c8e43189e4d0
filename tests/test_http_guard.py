"""The HTTP edge against a real uvicorn: body cap, content types, security headers, and the work of
an abandoned or overlong request cancelled (its database work ended, its connection pooled)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from casetasks.app import create_app
from casetasks.settings import Settings
from resolvers.context import Services
from services.clock import FixedClock
from tests.conftest import Env
from tests.factories import CREATE_TASK
from tests.live import serve_in_process

CAP = 4096
TASKS = "{ tasks { totalCount } }"


@asynccontextmanager
async def served(settings: Settings, clock: FixedClock, **overrides: Any) -> AsyncIterator[Served]:
    """A second app on the test's database (tokens made through env's app work here too)."""
    app = create_app(settings.model_copy(update={"max_body_bytes": CAP, **overrides}), clock)
    async with app.router.lifespan_context(app), serve_in_process(app) as address:
        yield Served(app, address)


class Served:
    def __init__(self, app: Starlette, address: str) -> None:
        self.app = app
        self.host, port = address.split(":")
        self.port = int(port)
        self.url = f"http://{address}"

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

    async def raw(self, head: str, body: bytes = b"") -> tuple[asyncio.StreamReader, Any]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        return reader, writer


def post_head(length: int | None, token: str | None = None, chunked: bool = False) -> str:
    lines = ["POST /graphql HTTP/1.1", "Host: casetasks.test", "Content-Type: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return "\n".join(lines) + "\n"


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *header_lines = head.decode("latin-1").strip().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(status_line.split()[1]), headers, body


async def wait_until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {seconds} s: {what}"
        await asyncio.sleep(0.02)


def only_error(body: bytes) -> dict[str, Any]:
    answer = json.loads(body)
    assert answer["data"] is None
    [error] = answer["errors"]
    return error  # type: ignore[no-any-return]


async def test_a_body_declared_over_the_cap_is_refused_before_it_is_read(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    async with served(settings, clock) as server:
        # Ten megabytes announced, not one byte of them sent: the answer cannot wait for them.
        reader, writer = await server.raw(post_head(10 * 1024 * 1024))
        status, headers, body = await read_response(reader)
        writer.close()
    assert status == 413
    assert headers["connection"] == "close"
    error = only_error(body)
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert error["extensions"]["requestId"] == headers["x-request-id"]


async def test_a_chunked_body_is_refused_once_it_passes_the_cap(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    async with served(settings, clock) as server:
        chunk = b"x" * 1000
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        # Five chunks (past the cap of 4096) and the body never ends: the 413 comes anyway.
        reader, writer = await server.raw(post_head(None, chunked=True), framed * 5)
        status, _headers, body = await read_response(reader)
        writer.close()
    assert status == 413
    assert only_error(body)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_at_the_cap_is_served(env: Env, settings: Settings, clock: FixedClock) -> None:
    provider = await env.world.provider()
    query = {"query": TASKS, "variables": {}}
    padded = json.dumps(query).encode()
    padded = padded[:-1] + b" " * (CAP - len(padded)) + b"}"
    assert len(padded) == CAP
    async with served(settings, clock) as server:
        reader, writer = await server.raw(post_head(len(padded), provider.admin.token), padded)
        status, _headers, body = await read_response(reader)
        writer.close()
    assert status == 200
    assert json.loads(body)["data"] == {"tasks": {"totalCount": 0}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_only_json_may_be_posted_so_a_browser_form_cannot_post_a_mutation(
    env: Env, content_type: str | None
) -> None:
    provider = await env.world.provider()
    mutation = json.dumps({"query": 'mutation { createTask(input: {name: "x"}) { task { id } } }'})
    headers = {"Authorization": f"Bearer {provider.admin.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    env.sql.reset()
    response = await env.api.http.post("/graphql", content=mutation, headers=headers)
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert env.sql.statements == []  # refused before the token was even looked up


async def test_every_response_carries_security_headers(env: Env) -> None:
    answers = {
        "json": await env.api.http.post("/graphql", json={"query": "{ __typename }"}),
        "health": await env.api.http.get("/healthz"),
        "missing": await env.api.http.get("/no-such-page"),
        "page": await env.api.http.get("/graphql", headers={"Accept": "text/html"}),
    }
    for name, response in answers.items():
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert response.headers["x-frame-options"] == "DENY", name
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], name
        assert len(response.headers["x-request-id"]) == 16, name
    assert answers["json"].headers["content-security-policy"].startswith("default-src 'none'")
    # GraphiQL's page runs inline scripts and loads local or CDN assets: only framing is denied.
    # GraphiQL's page brings its own, stricter policy (tests/test_graphiql_assets.py).
    assert answers["page"].headers["content-security-policy"].startswith("default-src 'none'")
    assert len({r.headers["x-request-id"] for r in answers.values()}) == len(answers)


class Stall:
    """A test-only slow step: the app's sessions take a pooled connection, then wait here."""

    def __init__(self, services: Services) -> None:
        self.reached = asyncio.Event()
        self.cancelled = asyncio.Event()
        self._release = asyncio.Event()
        stall = self

        class StalledSession(AsyncSession):
            async def execute(self, *args: Any, **kwargs: Any) -> Any:
                await stall.hold(self)
                return await super().execute(*args, **kwargs)

            async def scalar(self, *args: Any, **kwargs: Any) -> Any:
                await stall.hold(self)
                return await super().scalar(*args, **kwargs)

            async def scalars(self, *args: Any, **kwargs: Any) -> Any:
                await stall.hold(self)
                return await super().scalars(*args, **kwargs)

            async def get(self, *args: Any, **kwargs: Any) -> Any:
                await stall.hold(self)
                return await super().get(*args, **kwargs)

        bind = services.session_factory.kw["bind"]
        services.session_factory = async_sessionmaker(
            bind, class_=StalledSession, expire_on_commit=False, autoflush=False
        )

    async def hold(self, session: AsyncSession) -> None:
        await session.connection()
        self.reached.set()
        try:
            await self._release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


async def test_an_abandoned_request_stops_its_work(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    provider = await env.world.provider()
    body = json.dumps({"query": TASKS}).encode()
    async with served(settings, clock) as server:
        stall = Stall(server.app.state.services)
        _reader, writer = await server.raw(post_head(len(body), provider.admin.token), body)
        await asyncio.wait_for(stall.reached.wait(), 10)
        assert server.engine.pool.checkedout() >= 1  # type: ignore[attr-defined]

        writer.close()  # the client goes away without waiting for the answer
        await asyncio.wait_for(stall.cancelled.wait(), 10)
        await wait_until(
            lambda: server.engine.pool.checkedout() == 0,  # type: ignore[attr-defined]
            "the session's connection back in the pool",
        )


async def test_a_request_over_its_time_budget_is_stopped_with_timeout(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    provider = await env.world.provider()
    async with served(settings, clock, request_timeout_seconds=1) as server:
        stall = Stall(server.app.state.services)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            response = await http.post(
                "/graphql",
                json={"query": TASKS},
                headers={"Authorization": f"Bearer {provider.admin.token}"},
            )
        assert response.status_code == 503
        error = only_error(response.content)
        assert error["extensions"]["code"] == "TIMEOUT"
        assert error["message"] == "The request ran longer than 1 s and was stopped"
        assert stall.cancelled.is_set()  # the work ended before the answer was sent
        await wait_until(
            lambda: server.engine.pool.checkedout() == 0,  # type: ignore[attr-defined]
            "the session's connection back in the pool",
        )


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("ending", ["client goes away", "time budget"])
async def test_a_query_waiting_on_postgresql_is_ended_there(
    env: Env, settings: Settings, clock: FixedClock, ending: str
) -> None:
    """No injected step: the query waits on a table lock the test holds, inside PostgreSQL."""
    provider = await env.world.provider()
    body = json.dumps({"query": TASKS}).encode()
    budget = 1.0 if ending == "time budget" else 30.0
    locker = await asyncpg.connect(_plain(settings.database_url))
    monitor = await asyncpg.connect(_plain(settings.database_url))
    quiet = {locker.get_server_pid(), monitor.get_server_pid()}
    active = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'active' AND NOT pid = ANY($1::int[])"
    )
    try:
        async with served(settings, clock, request_timeout_seconds=budget) as server:
            await env.engine.dispose()  # only the served app's connections remain
            await locker.execute("BEGIN; LOCK TABLE task IN ACCESS EXCLUSIVE MODE")
            reader, writer = await server.raw(post_head(len(body), provider.admin.token), body)
            deadline = time.monotonic() + 10
            while await monitor.fetchval(active, list(quiet)) != 1:
                assert time.monotonic() < deadline, "the query never waited on the lock"
                await asyncio.sleep(0.02)

            if ending == "client goes away":
                writer.close()
            else:
                status, _headers, answer = await read_response(reader)
                assert status == 503
                assert only_error(answer)["extensions"]["code"] == "TIMEOUT"
                writer.close()
            deadline = time.monotonic() + 10
            while await monitor.fetchval(active, list(quiet)) != 0:
                assert time.monotonic() < deadline, "the query still runs in PostgreSQL"
                await asyncio.sleep(0.02)
            await wait_until(
                lambda: server.engine.pool.checkedout() == 0,  # type: ignore[attr-defined]
                "the session's connection back in the pool",
            )
            await locker.execute("ROLLBACK")
            # The app is still healthy: the same query now answers.
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                after = await http.post(
                    "/graphql",
                    json={"query": TASKS},
                    headers={"Authorization": f"Bearer {provider.admin.token}"},
                )
            assert after.json()["data"] == {"tasks": {"totalCount": 0}}
    finally:
        await locker.close()
        await monitor.close()


async def test_a_mutation_abandoned_after_its_commit_still_publishes(
    env: Env,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = await env.world.provider()
    caseworker = await env.world.staff(provider)
    mutation = {
        "query": CREATE_TASK,
        "variables": {
            "input": {
                "name": "Left behind",
                "dueDate": "2027-03-15",
                "responsibleIds": [caseworker.id],
            }
        },
    }
    body = json.dumps(mutation).encode()
    caplog.set_level(logging.INFO, logger="casetasks.http")
    async with served(settings, clock) as server:
        hub = server.app.state.services.hub
        publish = hub.publish
        reached, release, published = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def slow_publish(events: list[Any]) -> None:
            reached.set()
            await release.wait()
            await publish(events)
            published.set()

        monkeypatch.setattr(hub, "publish", slow_publish)
        _reader, writer = await server.raw(post_head(len(body), provider.admin.token), body)
        await asyncio.wait_for(reached.wait(), 10)
        writer.close()  # the client leaves after the commit, while the events are being sent
        await wait_until(
            lambda: any("request cancelled" in r.getMessage() for r in caplog.records),
            "the request cancelled",
        )
        release.set()
        await asyncio.wait_for(published.wait(), 10)
