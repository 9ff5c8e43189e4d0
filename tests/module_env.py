"""One app and database for a whole test module, for read-mostly tests that share a world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from casetasks.app import create_app
from casetasks.settings import Settings
from services.clock import FixedClock
from tests.conftest import START, Env, StatementCounter
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
        settings = Settings(
            database_url=url,
            broadcast_url="memory://",
            secret_key="test-secret-key-not-for-production",
            casetasks_env="test",
            materialize_interval_seconds=3600,
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
