"""One freshly migrated database per test: a copied SQLite file, or a PostgreSQL clone."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from casetasks.migrate import upgrade
from tests.services import POSTGRES_URL

_counter = itertools.count()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base, _, _old = url.rpartition("/")
    return f"{base}/{name}"


class SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template: Path | None = None

    async def _template(self) -> Path:
        if self.template is None:
            path = self.folder / "template.db"
            await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}")
            self.template = path
        return self.template

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        template = await self._template()
        path = self.folder / f"test-{next(_counter)}.db"
        await asyncio.to_thread(shutil.copyfile, template, path)
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            await asyncio.to_thread(_remove_database_files, path)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresTemplates:
    def __init__(self) -> None:
        self.prefix = f"casetasks_test_{os.getpid()}"
        self.template: str | None = None

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_plain(POSTGRES_URL))

    async def _template(self) -> str:
        if self.template is None:
            name = f"{self.prefix}_template"
            admin = await self._admin()
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            await asyncio.to_thread(upgrade, _with_database(POSTGRES_URL, name))
            self.template = name
        return self.template

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        template = await self._template()
        name = f"{self.prefix}_{next(_counter)}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        try:
            yield _with_database(POSTGRES_URL, name)
        finally:
            admin = await self._admin()
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

    async def close(self) -> None:
        if self.template is not None:
            admin = await self._admin()
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            finally:
                await admin.close()
