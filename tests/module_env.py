"""One app and database for a whole test module, for read-mostly tests that share a world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from casetasks.app import create_app
from services.clock import FixedClock
from tests.conftest import START, Env, StatementCounter, settings_for_tests
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import World
from tests.graphql_client import Api
from tests.services import POSTGRES_URL, need


@asynccontextmanager
async def module_env(
    kind: str, sqlite_templates: SqliteTemplates, postgres_templates: PostgresTemplates
) -> AsyncIterator[Env]:
    """As the `env` fixture, on a database of its own, with the memory broadcast backend."""
    async with AsyncExitStack() as stack:
        if kind == "sqlite":
            url = await stack.enter_async_context(sqlite_templates.database())
        else:
            need("PostgreSQL", POSTGRES_URL, 5432)
            url = await stack.enter_async_context(postgres_templates.database())
        # One app serves the whole module, so its sign-in throttle sees every test's attempts.
        settings = settings_for_tests(
            url,
            "memory://",
            login_max_failures_per_email=10_000,
            login_max_failures_per_address=10_000,
        )
        clock = FixedClock(START)
        app = create_app(settings, clock=clock)
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t.test")
        )
        api = Api(http)
        world = World(api, app.state.services.session_factory, clock)
        engine = app.state.engine
        yield Env(app, api, world, clock, engine, url, StatementCounter(engine))
