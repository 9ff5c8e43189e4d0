"""CPU time from /proc: the server's process, and PostgreSQL's backends of the bench database.

pg_stat_statements needs a server restart to load, and pg_stat_database counts no CPU, so the
PostgreSQL share is read from /proc: the backends connected to the bench database are sampled
every 100 ms during a run (a backend born during the run counts from zero). CPU a backend spends
after its last sample and before it exits is missed, so short-lived connections are undercounted.
Where /proc does not show PostgreSQL's processes (another host or container), the figure is None.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import asyncpg

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def process_ms(pid: int, children: bool = True) -> float | None:
    """User + system CPU of a process (and of its waited-for children), in milliseconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    # After the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks * TICK_MS


class BackendSampler:
    """Sums the CPU of the database's backends between start() and stop()."""

    def __init__(self, dsn: str, database: str) -> None:
        self.dsn = dsn
        self.database = database
        self.baseline: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.visible = True
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def _pids(self, connection: asyncpg.Connection) -> list[int]:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.database,
        )
        return [int(r["pid"]) for r in rows]

    async def _sample(self, connection: asyncpg.Connection, first: bool) -> None:
        for pid in await self._pids(connection):
            used = process_ms(pid, children=False)
            if used is None:
                self.visible = False
                continue
            if pid not in self.baseline:
                self.baseline[pid] = used if first else 0.0
            self.last[pid] = used

    async def _run(self, connection: asyncpg.Connection) -> None:
        try:
            while not self._stop.is_set():
                await self._sample(connection, first=False)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.1)
            await self._sample(connection, first=False)
        finally:
            await connection.close()

    async def start(self) -> None:
        connection = await asyncpg.connect(self.dsn)
        await self._sample(connection, first=True)
        self._task = asyncio.create_task(self._run(connection))

    async def stop(self) -> tuple[float | None, int]:
        """CPU ms of the database's backends, and how many backends were seen."""
        self._stop.set()
        assert self._task is not None
        await self._task
        if not self.visible:
            return None, len(self.last)
        spent = sum(self.last[pid] - self.baseline[pid] for pid in self.last)
        return spent, len(self.last)
