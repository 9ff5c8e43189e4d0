"""Alembic environment: runs the shared history on the configured async database."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import create_async_engine

import models

config = context.config
target_metadata = models.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_without_cascades(dbapi_connection: Any, _record: Any) -> None:
    # A batch migration rebuilds a table by dropping it; with foreign keys enforced that drop
    # would cascade into the rows that reference it.
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_async_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_without_cascades)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
