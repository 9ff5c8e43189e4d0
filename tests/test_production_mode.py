"""Production mode (CASETASKS_ENV=production): the schema hidden (no introspection, no suggestions,
no GraphiQL) unless settings turn it back on; unexpected errors masked with a request id."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.exceptions import MissingQueryError

from casetasks.app import create_app
from casetasks.settings import Settings
from schema.errors import convert, is_unexpected
from services.clock import FixedClock
from tests.conftest import Env, Live
from tests.ws_client import GraphQLWebSocket

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Task") { fields { name } } }'
PAGE = {"Accept": "text/html"}


@asynccontextmanager
async def app_client(
    settings: Settings, clock: FixedClock, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the test's database, with other settings; its engine is http.engine."""
    app = create_app(settings.model_copy(update=overrides), clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        http.engine = app.state.engine  # type: ignore[attr-defined]
        yield http


async def errors_of(http: httpx.AsyncClient, query: str, **extra: Any) -> list[dict[str, Any]]:
    response = await http.post("/graphql", json={"query": query, **extra})
    errors: list[dict[str, Any]] = response.json().get("errors") or []
    return errors


async def test_production_hides_the_schema(env: Env, settings: Settings, clock: FixedClock) -> None:
    async with app_client(settings, clock, casetasks_env="production") as http:
        for query, field in ((SCHEMA, "__schema"), (TYPE, "__type")):
            errors = await errors_of(http, query)
            assert f"contained the field '{field}'" in errors[0]["message"]
            for error in errors:
                assert "introspection has been disabled" in error["message"]
                assert error["extensions"]["code"] == "BAD_USER_INPUT"
        answer = await http.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json()["data"] == {"__typename": "Query"}
        page = await http.get("/graphql", headers=PAGE)
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()


async def test_development_shows_the_schema(env: Env) -> None:
    answer = await env.api.post(SCHEMA)
    assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    page = await env.api.http.get("/graphql", headers=PAGE)
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_settings_turn_introspection_and_graphiql_back_on_in_production(
    env: Env, settings: Settings, clock: FixedClock
) -> None:
    async with app_client(
        settings, clock, casetasks_env="production", casetasks_introspection=True
    ) as http:
        answer = await http.post("/graphql", json={"query": SCHEMA})
        assert answer.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        assert (await http.get("/graphql", headers=PAGE)).status_code == 200  # follows it
        assert await errors_of(http, "{ taks { totalCount } }") != []
    async with app_client(
        settings,
        clock,
        casetasks_env="production",
        casetasks_introspection=True,
        casetasks_graphiql=False,
    ) as http:
        assert (await http.get("/graphql", headers=PAGE)).status_code == 404


MISTAKES: list[tuple[str, dict[str, Any], str]] = [
    ("{ taks { totalCount } }", {}, "Cannot query field 'taks' on type 'Query'."),
    ("{ tasks(frist: 1) { totalCount } }", {}, "Unknown argument 'frist' on field 'Query.tasks'."),
    (
        "{ tasks(orderBy: DUE_DATE) { totalCount } }",
        {},
        "Value 'DUE_DATE' does not exist in 'TaskOrder' enum.",
    ),
    (
        "query($order: TaskOrder) { tasks(orderBy: $order) { totalCount } }",
        {"order": "DUE_DATE"},
        "Variable '$order' has invalid value:",
    ),
]


@pytest.mark.parametrize(("query", "variables", "hidden"), MISTAKES)
async def test_production_suggests_no_field_names(
    env: Env, settings: Settings, clock: FixedClock, query: str, variables: Any, hidden: str
) -> None:
    [shown] = await errors_of(env.api.http, query, variables=variables)
    assert "Did you mean" in shown["message"]  # development helps the developer
    async with app_client(settings, clock, casetasks_env="production") as http:
        [error] = await errors_of(http, query, variables=variables)
    assert "Did you mean" not in error["message"]
    assert error["message"].startswith(hidden), error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@contextmanager
def failing_sql(engine: AsyncEngine, when: str = "") -> Iterator[None]:
    """Every statement containing `when` fails as a bug would, with a detail no one may see."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if when in statement:
            raise RuntimeError("secret detail of the failure")

    event.listen(engine.sync_engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", fail)


def logged_request_ids(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        getattr(record, "fields", {}).get("request_id")
        for record in caplog.records
        if record.name == "casetasks.graphql"
        and record.exc_info
        and "secret detail" in str(record.exc_info[1])
    ]


async def test_an_unexpected_error_is_masked_with_the_request_id_of_its_log_line(
    env: Env, settings: Settings, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    provider = await env.world.provider()
    headers = {"Authorization": f"Bearer {provider.admin.token}"}
    caplog.set_level(logging.ERROR, logger="casetasks.graphql")
    async with app_client(settings, clock, casetasks_env="production") as http:
        with failing_sql(http.engine, "FROM task"):  # type: ignore[attr-defined]
            response = await http.post(
                "/graphql", json={"query": "{ tasks { totalCount } }"}, headers=headers
            )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    request_id = response.headers["x-request-id"]
    assert error["message"] == "Internal error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert logged_request_ids(caplog) == [request_id]


async def test_a_subscription_error_is_masked_with_the_connection_request_id(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    provider = await live.env.world.provider()
    caplog.set_level(logging.ERROR, logger="casetasks.graphql")
    dashboard = await GraphQLWebSocket.connect(live.ws_url, provider.admin.token)
    try:
        with failing_sql(live.env.engine):
            added = await dashboard.subscribe("subscription { notificationAdded { id } }")
            message = await added.message()
    finally:
        await dashboard.close()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    [error] = errors
    assert error["message"] == "Internal error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret" not in str(message)
    assert logged_request_ids(caplog) == [error["extensions"]["requestId"]]


async def test_an_error_outside_graphql_is_masked_with_the_request_id_of_its_log_line(
    env: Env, settings: Settings, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The database failing during the token check, before GraphQL runs: still INTERNAL."""
    provider = await env.world.provider()
    headers = {"Authorization": f"Bearer {provider.admin.token}"}
    caplog.set_level(logging.INFO)
    async with app_client(settings, clock, casetasks_env="production") as http:
        with failing_sql(http.engine, "auth_session"):  # type: ignore[attr-defined]
            response = await http.post(
                "/graphql", json={"query": "{ me { __typename } }"}, headers=headers
            )
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Internal error",
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
        ],
    }
    [logged] = [r for r in caplog.records if r.exc_info]
    assert getattr(logged, "fields", {})["request_id"] == request_id
    assert "secret detail" in str(logged.exc_info[1] if logged.exc_info else "")
    [access] = [r for r in caplog.records if r.name == "casetasks.access"]
    assert getattr(access, "fields", {})["request_id"] == request_id
    assert getattr(access, "fields", {})["status"] == 500


def test_refusals_of_the_request_keep_their_message_and_failures_of_ours_do_not() -> None:
    """Both come without a path or a place in the document, as a subscription stream's do."""
    refusal = GraphQLError(
        "No GraphQL query found in the request", original_error=MissingQueryError()
    )
    assert not is_unexpected(refusal)
    assert convert(refusal).message == "No GraphQL query found in the request"

    failure = GraphQLError("secret detail", original_error=RuntimeError("secret detail"))
    assert is_unexpected(failure)
    masked = convert(failure)
    assert masked.message == "Internal error"
    assert masked.extensions is not None
    assert masked.extensions["code"] == "INTERNAL"
    assert len(masked.extensions["requestId"]) == 16
