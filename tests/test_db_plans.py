"""The app's PostgreSQL connections: custom plans for prepared statements, a pool that fits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from casetasks import faults
from casetasks.app import build_services
from casetasks.db import create_engine
from services.clock import SystemClock
from tests.conftest import settings_for_tests
from tests.databases import PostgresTemplates
from tests.services import POSTGRES_URL, need


@pytest.fixture
async def postgres_url(postgres_templates: PostgresTemplates) -> AsyncIterator[str]:
    need("PostgreSQL", POSTGRES_URL, 5432)
    async with postgres_templates.database() as url:
        yield url


async def plan_cache_mode(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str(await connection.scalar(text("SHOW plan_cache_mode")))


async def test_the_apps_connections_plan_every_execution_with_its_values(
    postgres_url: str,
) -> None:
    services, engine = build_services(settings_for_tests(postgres_url, "memory://"), SystemClock())
    try:
        assert await plan_cache_mode(engine) == "force_custom_plan"
        # Also the sessions the resolvers and loaders use, past a prepared statement's fifth
        # execution (where PostgreSQL would otherwise consider a generic plan).
        async with services.session_factory() as session:
            for _ in range(7):
                found = await session.scalar(text("SELECT current_setting('plan_cache_mode')"))
                assert found == "force_custom_plan"
    finally:
        await engine.dispose()


async def test_auto_leaves_the_servers_own_setting(postgres_url: str) -> None:
    settings = settings_for_tests(postgres_url, "memory://", database_plan_cache_mode="auto")
    engine = create_engine(settings.database_url, faults.database_limits(settings))
    try:
        assert await plan_cache_mode(engine) == "auto"
    finally:
        await engine.dispose()


async def test_the_pool_keeps_twenty_connections_and_bursts_to_thirty(postgres_url: str) -> None:
    settings = settings_for_tests(postgres_url, "memory://")
    engine = create_engine(settings.database_url, faults.database_limits(settings))
    try:
        assert engine.pool.size() == 20  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 10  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
