"""Fixtures: each test runs against SQLite and PostgreSQL, on a database of its own."""

from __future__ import annotations

import os

# Before the app is imported: cheap argon2 parameters (the hashing itself stays real).
os.environ.setdefault("CASETASKS_PASSWORD_HASHING", "fast-insecure-for-tests")
# Every query of the suite runs through the read planner and field by field, and fails on any
# difference (servers the tests start in other processes inherit this too).
os.environ.setdefault("CASETASKS_PLANNER", "check")

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from casetasks.app import create_app
from casetasks.settings import Settings
from services.clock import FixedClock
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import World
from tests.graphql_client import Api
from tests.live import serve_in_process
from tests.services import POSTGRES_URL, REDIS_URL, need

# No "explain" phase: after a failure it can trace for minutes, which CI's time limit lacks.
hypothesis_settings.register_profile(
    "casetasks",
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
hypothesis_settings.load_profile("casetasks")

# 10:00 in Sydney on Monday 1 March 2027.
START = datetime(2027, 2, 28, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
async def postgres_templates() -> AsyncIterator[PostgresTemplates]:
    templates = PostgresTemplates()
    yield templates
    await templates.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest,
    sqlite_templates: SqliteTemplates,
    postgres_templates: PostgresTemplates,
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        async with sqlite_templates.database() as url:
            yield url
    else:
        need("PostgreSQL", POSTGRES_URL, 5432)
        async with postgres_templates.database() as url:
            yield url


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@dataclass
class Env:
    app: Starlette
    api: Api
    world: World
    clock: FixedClock
    engine: AsyncEngine
    database_url: str
    sql: StatementCounter

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


BROADCASTS = {"memory": "memory://", "redis": REDIS_URL, "postgres": "postgres"}
# The broadcast backends a live (websocket) test runs with, per database: the embedded pair,
# and PostgreSQL with each shared backend production may use.
LIVE_COMBINATIONS = {("sqlite", "memory"), ("postgresql", "redis"), ("postgresql", "postgres")}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "live" in metafunc.fixturenames:
        metafunc.parametrize("broadcast", list(BROADCASTS), indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        combination = (params.get("database_url"), params.get("broadcast"))
        # Only the live fixture's database x broadcast product is filtered; a test choosing its
        # own combinations (parameters of its own named "broadcast") keeps all of them.
        if (
            "broadcast" in params
            and "database_url" in params
            and combination not in (LIVE_COMBINATIONS)
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def broadcast(request: pytest.FixtureRequest, database_url: str) -> str:
    """memory:// unless a live test asks for Redis or PostgreSQL LISTEN/NOTIFY."""
    kind = getattr(request, "param", "memory")
    if kind == "redis":
        need("Redis", REDIS_URL, 6379)
    if kind == "postgres":
        return database_url.replace("postgresql+asyncpg://", "postgres://")
    return BROADCASTS[kind]


def settings_for_tests(database_url: str, broadcast_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "broadcast_url": broadcast_url,
        "secret_key": "test-secret-key-not-for-production",
        "casetasks_env": "test",
        # Tests run the scheduler's passes themselves, at the moments their clock says: a
        # server's own first pass at start-up would race with the test building its world.
        "materialize_interval_seconds": 3600,
        "scheduler_enabled": False,
        # The test clock stands still, so a cost budget would never refill: tests that are not
        # about rate limits get one they cannot use up (tests/test_rate_limits.py sets theirs).
        "rate_limit_burst": 1e12,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def settings(database_url: str, broadcast: str, tmp_path: Path) -> Settings:
    return settings_for_tests(database_url, broadcast)


@pytest.fixture
async def env(settings: Settings, clock: FixedClock) -> AsyncIterator[Env]:
    app = create_app(settings, clock=clock)
    engine: AsyncEngine = app.state.engine
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        api = Api(http)
        world = World(api, app.state.services.session_factory, clock)
        yield Env(app, api, world, clock, engine, settings.database_url, StatementCounter(engine))


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


@dataclass
class Live:
    """The test's app served by a real uvicorn server in this process."""

    env: Env
    http_url: str
    ws_url: str


@pytest.fixture
async def live(env: Env) -> AsyncIterator[Live]:
    async with serve_in_process(env.app) as address:
        yield Live(env, f"http://{address}", f"ws://{address}/graphql")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How the suite's queries were answered in this process (the read planner's coverage)."""
    from schema.planned import OUTCOMES

    if OUTCOMES:
        terminalreporter.write_sep("-", "read planner: queries of this process")
        for outcome, count in OUTCOMES.most_common():
            terminalreporter.write_line(f"{count:6d}  {outcome}")
