"""handOverCaseload at a caseload of 5,000 open tasks, against moving the same tasks with
reassignTasks in batches of 100 (the fastest way without it), in one run.

    python -m bench.handover                      # PostgreSQL and SQLite, 5,000 tasks
    python -m bench.handover --tasks 20000 --databases postgresql

For each database: a fresh one (PostgreSQL: casetasks_bench_handover; SQLite: a file in a
temporary folder), migrated; one provider, two caseworkers, `--tasks` open tasks with the first
responsible (a fifth of them shared with a colleague, who keeps them), 20 repeating tasks and
300 clients. The app runs in this process (httpx over ASGI: the whole GraphQL stack, no
socket). Measured, wall clock:
- hand-over: handOverCaseload back and forth, `--runs` times each way; median and max;
- baseline: reassignTasks over the same tasks, 100 per request, every batch in turn;
- after every run the database is checked: every open task moved, one REASSIGNED event per task,
  one CASELOAD_RECEIVED per hand-over, the colleague still on the shared tasks.

Results: bench/results/<UTC time>-handover.json, and a table on stdout for bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bench import database, environment
from casetasks.app import create_app
from casetasks.db import unit_of_work
from casetasks.migrate import upgrade
from casetasks.settings import Settings
from models import Task, TaskResponsible, TaskStatus
from schema.ids import to_global_id
from services import providers
from services.clock import SystemClock

RESULTS = Path(__file__).parent / "results"
PASSWORD = "bench-password"
HAND_OVER = """mutation($i: HandOverCaseloadInput!) { handOverCaseload(input: $i) {
  tasks series clients errors { message } } }"""
REASSIGN = """mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) {
  tasks { id } errors { message } } }"""
CREATE_STAFF = """mutation($i: CreateStaffInput!) { createStaff(input: $i) {
  staff { id } errors { message } } }"""
CREATE_TASK = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { message } } }"""
CREATE_CLIENT = """mutation($i: CreateClientInput!) { createClient(input: $i) {
  client { id } errors { message } } }"""
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


@dataclass
class Caseload:
    admin_token: str
    staff: list[tuple[int, str]]  # (key, global id) of the two caseworkers
    colleague: int
    task_ids: list[int]


class Api:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, query: str, variables: dict[str, Any], token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = reply.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        (payload,) = body["data"].values()
        if isinstance(payload, dict) and payload.get("errors"):
            raise RuntimeError(payload["errors"])
        return payload


async def seed(api: Api, engine: AsyncEngine, session_factory: Any, count: int) -> Caseload:
    async with unit_of_work(session_factory) as session:
        created = await providers.create_provider(
            session,
            SystemClock(),
            name="Bench Provider",
            timezone="Australia/Sydney",
            group_name=None,
            admin_name="Bench Admin",
            admin_email="admin@bench.example",
            admin_password=PASSWORD,
            group_admin=False,
        )
    provider_id = created.provider.id or 0
    admin = (await api.call(LOGIN, {"e": "admin@bench.example", "p": PASSWORD}, None))["token"]
    staff: list[tuple[int, str]] = []
    for n in range(3):
        made = await api.call(
            CREATE_STAFF,
            {
                "i": {
                    "name": f"Caseworker {n}",
                    "email": f"cw{n}@bench.example",
                    "password": PASSWORD,
                }
            },
            admin,
        )
        global_id = made["staff"]["id"]
        staff.append((_key(global_id), global_id))
    first, _second, colleague = staff
    for n in range(20):
        await api.call(
            CREATE_TASK,
            {
                "i": {
                    "name": f"Weekly {n}",
                    "dueDate": (date.today() + timedelta(days=n + 1)).isoformat(),
                    "responsibleIds": [first[1]],
                    "recurrence": {"frequency": "WEEKLY"},
                }
            },
            admin,
        )
    for n in range(300):
        await api.call(
            CREATE_CLIENT, {"i": {"name": f"Client {n}", "caseworkerId": first[1]}}, admin
        )
    now = datetime.now(UTC)
    rows = [
        {
            "provider_id": provider_id,
            "origin_provider_id": provider_id,
            "name": f"Bench task {n}",
            "due_date": date.today() + timedelta(days=n % 90),
            "status": TaskStatus.OPEN.value,
            "kind": "STANDARD",
            "assigned_to_client": False,
            "created_at": now,
            "version": 1,
        }
        for n in range(count)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(Task), rows)
        ids = list(
            await connection.scalars(
                select(col(Task.id))
                .where(col(Task.name).like("Bench task %"))
                .order_by(col(Task.id))
            )
        )
        links = [{"task_id": i, "staff_id": first[0], "position": 0} for i in ids]
        links += [{"task_id": i, "staff_id": colleague[0], "position": 1} for i in ids[::5]]
        await connection.execute(insert(TaskResponsible), links)
    return Caseload(admin, staff[:2], colleague[0], [i for i in ids if i is not None])


def _key(global_id: str) -> int:
    from schema.ids import from_global_id

    decoded = from_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def check(engine: AsyncEngine, load: Caseload, holder: int, events: int, notes: int) -> None:
    """Every bench task open with `holder` responsible, the colleague kept, and the counts."""
    bench_tasks = "SELECT id FROM task WHERE name LIKE 'Bench task %'"
    async with engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT count(*) FROM task_responsible"
                f" WHERE staff_id = :s AND task_id IN ({bench_tasks})"
            ),
            {"s": holder},
        )
        shared = await connection.scalar(
            text("SELECT count(*) FROM task_responsible WHERE staff_id = :s"),
            {"s": load.colleague},
        )
        reassigned = await connection.scalar(
            text("SELECT count(*) FROM task_event WHERE kind = 'REASSIGNED'")
        )
        received = await connection.scalar(
            text("SELECT count(*) FROM notification WHERE kind = 'CASELOAD_RECEIVED'")
        )
    found = (held, shared, reassigned, received)
    wanted = (len(load.task_ids), len(load.task_ids[::5]), events, notes)
    if found != wanted:
        raise AssertionError(
            "after the run (held, shared with the colleague, REASSIGNED events, "
            f"CASELOAD_RECEIVED): {found}, want {wanted}"
        )


async def measure(database_url: str, count: int, runs: int) -> dict[str, Any]:
    settings = Settings(
        database_url=database_url,
        secret_key="bench-secret-key",
        casetasks_env="test",
        scheduler_enabled=False,
        rate_limit_burst=1e12,
        log_level="warning",
    )
    app = create_app(settings)
    engine: AsyncEngine = app.state.engine
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as http,
    ):
        api = Api(http)
        load = await seed(api, engine, app.state.services.session_factory, count)
        (a, a_id), (b, b_id) = load.staff
        events = 0
        handover_ms: list[float] = []
        moved = 0
        for run in range(runs * 2):
            giver, taker = ((a_id, b_id), (b_id, a_id))[run % 2]
            started = time.perf_counter()
            payload = await api.call(
                HAND_OVER, {"i": {"fromStaffId": giver, "toStaffId": taker}}, load.admin_token
            )
            handover_ms.append((time.perf_counter() - started) * 1000)
            moved = payload["tasks"]
            events += moved
            await check(engine, load, (a, b)[(run + 1) % 2], events, notes=run + 1)
        # The baseline: the same tasks (now with a again) to b, 100 per reassignTasks.
        task_ids = [to_global_id("Task", i) for i in load.task_ids]
        started = time.perf_counter()
        for offset in range(0, len(task_ids), 100):
            await api.call(
                REASSIGN,
                {"i": {"ids": task_ids[offset : offset + 100], "responsibleIds": [b_id]}},
                load.admin_token,
            )
        baseline_ms = (time.perf_counter() - started) * 1000
    median = statistics.median(handover_ms)
    return {
        "tasks": count,
        "moved_per_hand_over": moved,
        "hand_over_ms": [round(v, 1) for v in handover_ms],
        "hand_over_median_ms": round(median, 1),
        "hand_over_max_ms": round(max(handover_ms), 1),
        "baseline_reassign_tasks_ms": round(baseline_ms, 1),
        "baseline_per_hand_over": round(baseline_ms / median, 1),
    }


async def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.handover", description=__doc__)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="hand-overs each way")
    parser.add_argument(
        "--databases", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"]
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    options = parser.parse_args(argv)
    results: dict[str, Any] = {
        "bench": "handover",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.handover " + " ".join(argv or []),
        "environment": await environment.describe("-"),
        "databases": {},
    }
    for name in options.databases:
        if name == "postgresql":
            dsn = await database.create(f"{database.PREFIX}_handover")
            url = dsn.replace("postgresql://", "postgresql+asyncpg://")
            try:
                results["databases"][name] = await measure(url, options.tasks, options.runs)
            finally:
                await database.drop(f"{database.PREFIX}_handover")
        else:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{folder}/handover.db"
                await asyncio.to_thread(upgrade, url)
                results["databases"][name] = await measure(url, options.tasks, options.runs)
        print(name, json.dumps(results["databases"][name]))
    options.results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = options.results / f"{stamp}-handover.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return path


def table(results: dict[str, Any]) -> str:
    lines = [
        "| database | open tasks moved | handOverCaseload median / max ms | reassignTasks x100 "
        "batches ms | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, found in results["databases"].items():
        lines.append(
            f"| {name} | {found['moved_per_hand_over']:,} | {found['hand_over_median_ms']} / "
            f"{found['hand_over_max_ms']} | {found['baseline_reassign_tasks_ms']:,} | "
            f"{found['baseline_per_hand_over']}x faster |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
