"""CPU time from /proc: the server's process, and PostgreSQL's backends of the bench database.

pg_stat_statements needs a server restart to load, and pg_stat_database counts no CPU, so the
PostgreSQL share is read from /proc: the backends connected to the bench database are sampled
every 100 ms during a run (a backend born during the run counts from zero). CPU a backend spends
after its last sample and before it exits is missed, so short-lived connections are undercounted.
Where /proc does not show PostgreSQL's processes (another host or container), the figure is None.

The same sampler reads pg_stat_database's transaction and session counters around the run
(transactions and new connections per request). Backends publish those counters about once a
second, so the sampler waits a little over a second before the first and the last reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import asyncpg

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
SETTLE_SECONDS = 1.2


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
        self.unreadable = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self._own_transactions = 0
        self._counters: tuple[int, int] = (0, 0)
        self.transactions = 0
        self.sessions = 0

    async def _read_counters(self, connection: asyncpg.Connection) -> tuple[int, int]:
        row = await connection.fetchrow(
            "SELECT xact_commit + xact_rollback AS xacts, sessions FROM pg_stat_database"
            " WHERE datname = $1",
            self.database,
        )
        self._own_transactions += 1
        assert row is not None
        return int(row["xacts"]), int(row["sessions"])

    async def _pids(self, connection: asyncpg.Connection) -> list[int]:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.database,
        )
        self._own_transactions += 1
        return [int(r["pid"]) for r in rows]

    async def _sample(self, connection: asyncpg.Connection, first: bool) -> None:
        for pid in await self._pids(connection):
            used = process_ms(pid, children=False)
            if used is None:  # exited since the query, or not visible from here
                self.unreadable += 1
                continue
            if pid not in self.baseline:
                self.baseline[pid] = used if first else 0.0
            self.last[pid] = used

    async def _run(self, connection: asyncpg.Connection) -> None:
        while not self._stop.is_set():
            await self._sample(connection, first=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.1)

    async def start(self) -> None:
        connection = self._connection = await asyncpg.connect(self.dsn)
        await asyncio.sleep(SETTLE_SECONDS)
        self._counters = await self._read_counters(connection)
        self._own_transactions = 1  # that reading's own transaction commits after it
        await self._sample(connection, first=True)
        self._task = asyncio.create_task(self._run(connection))

    async def stop(self) -> tuple[float | None, int]:
        """CPU ms of the database's backends, and how many backends were seen."""
        self._stop.set()
        assert self._task is not None and self._connection is not None
        await self._task
        try:
            await asyncio.sleep(SETTLE_SECONDS)
            await self._sample(self._connection, first=False)
            own = self._own_transactions
            transactions, sessions = await self._read_counters(self._connection)
        finally:
            await self._connection.close()
        self.transactions = transactions - self._counters[0] - own
        self.sessions = sessions - self._counters[1]
        if self.unreadable and not self.last:  # PostgreSQL's processes are not in our /proc
            return None, 0
        spent = sum(self.last[pid] - self.baseline[pid] for pid in self.last)
        return spent, len(self.last)
