"""The engine and the session factory: one AsyncSession per unit of work, never shared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, event, exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]

_WRITE = "casetasks_write"


@dataclass(frozen=True)
class DatabaseLimits:
    """How long anything waits on the database before failing fast, the pool's size, and how
    PostgreSQL plans the app's prepared statements.

    The pool keeps enough connections open for 16 concurrent requests and what runs beside
    them (websocket reads, the scheduler): a connection opened past pool_size is closed again
    when returned, so a pool smaller than the load opens new PostgreSQL sessions all the time.

    plan_cache_mode: after five executions of a prepared statement PostgreSQL may switch to a
    generic plan, made without the parameters' values; for the Tasks page that plan scans the
    provider's whole due-date window (bench/README.md, "Generic plans and indexes").
    force_custom_plan plans every execution with its values (0.5-0.9 ms for the page at 1M
    tasks, 0.15-0.25 ms for a small join such as the viewer check); None leaves the server's
    own setting (auto, or what ALTER DATABASE set)."""

    pool_size: int = 20
    max_overflow: int = 10
    pool_timeout: float = 5.0
    connect_timeout: float = 5.0
    command_timeout: float = 15.0
    plan_cache_mode: str | None = "force_custom_plan"


def create_engine(
    database_url: str, limits: DatabaseLimits | None = None, **kwargs: Any
) -> AsyncEngine:
    limits = limits or DatabaseLimits()
    if database_url.startswith("sqlite"):
        if ":memory:" not in database_url and not database_url.endswith("://"):
            kwargs.setdefault("pool_size", limits.pool_size)
            kwargs.setdefault("max_overflow", limits.max_overflow)
            kwargs.setdefault("pool_timeout", limits.pool_timeout)
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", limits.pool_size)
    kwargs.setdefault("max_overflow", limits.max_overflow)
    kwargs.setdefault("pool_timeout", limits.pool_timeout)
    connect_args: dict[str, Any] = {
        "timeout": limits.connect_timeout,
        "command_timeout": limits.command_timeout,
    }
    if limits.plan_cache_mode is not None:
        # Sent in the startup message: no extra round trip per connection.
        connect_args["server_settings"] = {"plan_cache_mode": limits.plan_cache_mode}
    engine = create_async_engine(database_url, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def generic_plan_engine(
    main: AsyncEngine, database_url: str, limits: DatabaseLimits, pool_size: int
) -> AsyncEngine | None:
    """PostgreSQL under force_custom_plan: a second pool whose sessions plan each prepared
    statement once (force_generic_plan), in autocommit like the main pool's reads.
    The read planner sends it the statements one generic plan serves as well as a custom one
    (resolvers.planner.Plan.custom_plans); they then skip planning, about 1 ms per Tasks page
    at 1M tasks (bench/README.md). None where there is nothing to gain: another database, a
    server-chosen plan mode, or pool_size 0."""
    if (
        main.dialect.name != "postgresql"
        or limits.plan_cache_mode != "force_custom_plan"
        or pool_size == 0
    ):
        return None
    sized = replace(
        limits,
        pool_size=pool_size,
        max_overflow=pool_size // 2,
        plan_cache_mode="force_generic_plan",
    )
    generic = create_engine(database_url, sized)
    # The main engine's listeners (statement counts, injected faults, SQL tracing) hear this
    # pool's statements too, as an execution_options() copy of the engine shares them.
    sync = generic.sync_engine
    sync.dispatch = sync.dispatch._join(main.sync_engine.dispatch)
    return generic.execution_options(isolation_level="AUTOCOMMIT")


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection the server closed while it sat in the pool (a restart, a terminated
    backend) is replaced before use, with every other connection as old: asyncpg already knows
    its socket closed, so this costs no round trip (no pre-ping). A connection that dies in use
    is invalidated by SQLAlchemy's disconnect detection."""
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None and raw.is_closed():
        raise exc.InvalidatePoolError("the database closed this pooled connection")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself, so writers can take the lock up front (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's own lower() folds ASCII only: searching "émile" must find "Émile" (as on PostgreSQL).
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes can fail at once with "database is
    # locked" when another writer went first; IMMEDIATE waits for the lock instead.
    immediate = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Reads run in autocommit on PostgreSQL: no BEGIN and ROLLBACK round trips per session.
    A unit of work asks for a real transaction (below)."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session in one write transaction: committed on success, rolled back on any error."""
    async with factory() as session:
        options: dict[str, Any] = {_WRITE: True}
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            options["isolation_level"] = "READ COMMITTED"
        await session.connection(execution_options=options)
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except BaseException:
            # A COMMIT that failed may leave the transaction open on the connection (SQLite
            # does, for a deferred constraint or a lock), and the pool would hand it out so:
            # the connection is closed instead of returned.
            await session.invalidate()
            raise


# What an outage answers with: a 503 the client may retry after this many seconds.
RETRY_AFTER_SECONDS = 1


class ReadConnection:
    """A request's connection for its reads, in autocommit: one statement at a time, sent as
    SQL text, its first row back.

    On PostgreSQL the statement goes through asyncpg itself: SQLAlchemy's execution layers cost
    about as much again as asyncpg's own call (in process here, 160 us of CPU per statement
    against 70 us). Its before_cursor_execute listeners still see each statement (the tests'
    counts and injected failures). With SQL tracing or echo on, the statement goes through
    SQLAlchemy, whose execution context the OpenTelemetry instrumentation needs."""

    def __init__(self, connection: AsyncConnection, through_sqlalchemy: bool = False) -> None:
        sync = connection.sync_connection
        assert sync is not None  # an open connection
        self.connection = connection
        self.dialect = connection.dialect
        self._sync = sync
        self._direct = (
            connection.dialect.name == "postgresql"
            and not through_sqlalchemy
            and not sync.engine.echo
        )
        self._driver: Any = None

    async def fetch_row(self, sql: str, values: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if not self._direct:
            row = (await self.connection.exec_driver_sql(sql, values)).first()
            return None if row is None else tuple(row)
        for listener in self._sync.dispatch.before_cursor_execute:
            listener(self._sync, None, sql, values, None, False)
        if self._driver is None:
            self._driver = (await self.connection.get_raw_connection()).driver_connection
        record = await self._driver.fetchrow(sql, *values)
        return None if record is None else tuple(record)

    async def close(self) -> None:
        await self.connection.close()


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached or used at all: refused, reset, timed out, closed,
    or no pooled connection free in time (as opposed to a query that failed)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, exc.TimeoutError | OSError):  # OSError: refused, reset, timeout
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in {
            "ConnectionDoesNotExistError",
            "ConnectionFailureError",
            "CannotConnectNowError",
            "AdminShutdownError",
            "CrashShutdownError",
        }:
            return True
        if isinstance(current, exc.InterfaceError) and "connection is closed" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
