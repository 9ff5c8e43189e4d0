"""The machine and the versions a result was measured with."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import ADMIN_DSN

PYTHON_PACKAGES = (
    "strawberry-graphql",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "starlette",
    "uvicorn",
)


def _output(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else None
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except FileNotFoundError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
    except FileNotFoundError:
        return None
    return round(int(first.split()[1]) / 1024 / 1024, 1)


async def describe(postgraphile_version: str) -> dict[str, Any]:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        postgres = await connection.fetchval("SHOW server_version")
        settings = {
            name: await connection.fetchval(f"SHOW {name}")
            for name in ("shared_buffers", "work_mem", "max_connections", "jit")
        }
    finally:
        await connection.close()
    commit = await asyncio.to_thread(_output, ["git", "rev-parse", "--short", "HEAD"])
    return {
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gb()} GB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: metadata.version(name) for name in PYTHON_PACKAGES},
        "postgresql": postgres,
        "postgresql_settings": settings,
        "node": await asyncio.to_thread(_output, ["node", "--version"]),
        "postgraphile": postgraphile_version,
        "wrk": await asyncio.to_thread(_output, ["wrk", "--version"]),
        "casetasks_commit": commit,
    }
