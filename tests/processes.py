"""The installed `casetasks` command as a real process, and empty databases for it to set up."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.services import POSTGRES_URL, need

SECRET_KEY = "process-test-secret-key"
COMMAND_SECONDS = 120
_serial = itertools.count()


def casetasks_command() -> str:
    """The console script next to this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "casetasks"
    if beside.exists():
        return str(beside)
    found = shutil.which("casetasks")
    assert found, "the casetasks console script is not installed (pip install -e .)"
    return found


def process_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in {"DATABASE_URL", "BROADCAST_URL", "HOST", "PORT", "SECRET_KEY"}
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        CASETASKS_ENV="production",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


async def run_cli(*args: str, env: Mapping[str, str], cwd: Path) -> Finished:
    process = await asyncio.create_subprocess_exec(
        casetasks_command(),
        *args,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(COMMAND_SECONDS):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def empty_database(dialect: str, folder: Path) -> AsyncIterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'empty-{next(_serial)}.db'}"
        return
    need("PostgreSQL", POSTGRES_URL, 5432)
    name = f"casetasks_proc_{os.getpid()}_{next(_serial)}"
    base = POSTGRES_URL.rpartition("/")[0]
    admin = await asyncpg.connect(_plain(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(_plain(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
