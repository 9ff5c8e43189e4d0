"""The bench's databases: created fresh per size, migrated with the app's Alembic history."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from casetasks.migrate import upgrade

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = "casetasks_bench"


def dsn_of(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def create(database: str) -> str:
    """Drops and recreates `database` (its name must start with casetasks_bench), migrated."""
    if not database.startswith(PREFIX):
        raise ValueError(f"benchmark databases are named {PREFIX}*, not {database}")
    await drop(database)
    await _admin(f'CREATE DATABASE "{database}"')
    dsn = dsn_of(database)
    await asyncio.to_thread(upgrade, dsn.replace("postgresql://", "postgresql+asyncpg://"))
    return dsn


async def upgrade_to_head(dsn: str) -> None:
    await asyncio.to_thread(upgrade, dsn.replace("postgresql://", "postgresql+asyncpg://"))


async def drop(database: str) -> None:
    if not database.startswith(PREFIX):
        raise ValueError(f"benchmark databases are named {PREFIX}*, not {database}")
    await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def set_plan_cache_mode(database: str, mode: str | None) -> None:
    """For the connections opened from now on, by every server (ALTER DATABASE ... SET)."""
    if mode is None:
        await _admin(f'ALTER DATABASE "{database}" RESET plan_cache_mode')
    else:
        await _admin(f"ALTER DATABASE \"{database}\" SET plan_cache_mode = '{mode}'")
