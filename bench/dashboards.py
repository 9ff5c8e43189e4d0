"""B5: N live dashboards on one `casetasks serve` while a writer sends tasks across providers.

    python -m bench.dashboards --dashboards 1000 --events 20 --rate 2

A fresh S database (bench/generate.py); the dashboards are provider 2's staff with the Tasks
permission, several websockets each (graphql-transport-ws, `notificationAdded`), opened by one
client process pinned to core 1; the server is pinned to core 0. Measured:
- idle memory: the server's RSS with every dashboard connected and subscribed, less its RSS
  before, per dashboard;
- delivery: staff 1 of provider 1 (group Tasks permission) sends `--events` tasks Unassigned to
  provider 2 at `--rate` per second; each makes one UNASSIGNED_TASK notification per task user
  of provider 2, so every dashboard must receive every event exactly once. Every receipt is
  logged and checked against the notification table (none missing, none doubled);
- latency: from the writer's reply (the commit is before it) to each receipt: average, p50, p99;
- the server's CPU over the delivery phase, and the shared reads it ran (from its log, if any).

Results: bench/results/<UTC time>-dashboards.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets
from websockets.typing import Subprotocol

from bench import database, servers
from bench.cpu import process_ms
from bench.generate import SIZES, generate

RESULTS = Path(__file__).parent / "results"
PASSWORD = "bench-password"
PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = "subscription { notificationAdded { id kind message task { id name } } }"
SEND = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { id } errors { message } } }"
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn runs the app in-process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def login(http: httpx.AsyncClient, staff: int) -> str:
    variables = {"e": f"staff{staff}@bench.example", "p": PASSWORD}
    body = (await http.post("/graphql", json={"query": LOGIN, "variables": variables})).json()
    return str(body["data"]["login"]["token"])


class Dashboard:
    def __init__(self, number: int, staff: int) -> None:
        self.number = number
        self.staff = staff
        self.received: list[tuple[float, str | None]] = []  # when, and the task it was about
        self.ready = asyncio.Event()
        self.socket: Any = None

    async def run(self, url: str, token: str) -> None:
        protocols = [Subprotocol(PROTOCOL)]
        async with websockets.connect(url, subprotocols=protocols, max_queue=None) as socket:
            self.socket = socket
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await socket.send(json.dumps(init))
            ack = json.loads(await socket.recv())
            assert ack["type"] == "connection_ack", ack
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
            await socket.send(json.dumps(subscribe))
            self.ready.set()
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    added = message["payload"]["data"]["notificationAdded"]
                    self.received.append((time.monotonic(), (added.get("task") or {}).get("id")))


async def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboards", description=__doc__)
    parser.add_argument("--dashboards", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--database", default="casetasks_bench_dashboards")
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    dsn = await database.create(args.database)
    await generate(dsn, SIZES["S"], 1)
    connection = await asyncpg.connect(dsn)
    receivers = [
        row["id"]
        for row in await connection.fetch(
            "SELECT id FROM staff WHERE provider_id = 2 AND active AND"
            " (tasks_permission OR is_administrator) ORDER BY id"
        )
    ]
    log = RESULTS / "dashboards-server.log"
    RESULTS.mkdir(exist_ok=True)
    result: dict[str, Any] = {
        "dashboards": args.dashboards,
        "events": args.events,
        "rate": args.rate,
    }
    app_dsn = dsn.replace("postgresql://", "postgresql+asyncpg://")
    with servers.running("casetasks", app_dsn, log) as server:
        base = f"http://127.0.0.1:{server.port}"
        url = f"ws://127.0.0.1:{server.port}/graphql"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            tokens = {staff: await login(http, staff) for staff in receivers}
            writer = await login(http, 1)
            await asyncio.sleep(1.0)
            rss_before = rss_kb(server.pid)
            boards = [Dashboard(i, receivers[i % len(receivers)]) for i in range(args.dashboards)]
            tasks = []
            for index, board in enumerate(boards):
                tasks.append(asyncio.create_task(board.run(url, tokens[board.staff])))
                if index % 100 == 99:
                    await asyncio.gather(*(b.ready.wait() for b in boards[: index + 1]))
            await asyncio.gather(*(b.ready.wait() for b in boards))
            await asyncio.sleep(2.0)
            rss_after = rss_kb(server.pid)
            result["rss_kb_before"] = rss_before
            result["rss_kb_connected"] = rss_after
            result["idle_kb_per_dashboard"] = round((rss_after - rss_before) / args.dashboards, 1)
            cpu_before = process_ms(server.pid) or 0.0
            sent: dict[str, float] = {}
            started = time.monotonic()
            for event in range(args.events):
                due = started + event / args.rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                body = (
                    await http.post(
                        "/graphql",
                        json={
                            "query": SEND,
                            "variables": {
                                "input": {
                                    "name": f"Dashboard bench {event}",
                                    "dueDate": "2027-03-10",
                                    "serviceProviderId": _global_id("ServiceProvider", 2),
                                    "responsibleIds": [],
                                }
                            },
                        },
                        headers={"Authorization": f"Bearer {writer}"},
                    )
                ).json()
                payload = body["data"]["createTask"]
                assert payload["errors"] == [], payload
                sent[payload["task"]["id"]] = time.monotonic()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if all(len(b.received) >= args.events for b in boards):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # anything doubled arrives too
            cpu_after = process_ms(server.pid) or 0.0
            result["server_cpu_ms_delivery"] = round(cpu_after - cpu_before, 1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [
        received - sent[task]
        for board in boards
        for received, task in board.received
        if task in sent
    ]
    per_board = [len([r for r in b.received if r[1] in sent]) for b in boards]
    stored = await connection.fetchval(
        "SELECT count(*) FROM notification n JOIN task t ON t.id = n.task_id"
        " WHERE t.name LIKE 'Dashboard bench %' AND n.kind = 'UNASSIGNED_TASK'"
    )
    await connection.close()
    result |= {
        "notifications_stored": stored,
        "expected_receipts": args.dashboards * args.events,
        "receipts": sum(per_board),
        "missing": sum(max(0, args.events - n) for n in per_board),
        "doubled": sum(max(0, n - args.events) for n in per_board),
        "latency_ms": {
            "avg": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
            "p50": round(_percentile(latencies, 50) * 1000, 1) if latencies else None,
            "p99": round(_percentile(latencies, 99) * 1000, 1) if latencies else None,
            "max": round(max(latencies) * 1000, 1) if latencies else None,
        },
        "load_average": os.getloadavg(),
        "command": " ".join(["python -m bench.dashboards", *(argv or sys.argv[1:])]),
    }
    await database.drop(args.database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-dashboards.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return path


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def _global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


if __name__ == "__main__":
    if (os.cpu_count() or 1) >= 2:  # the dashboards' client on core 1, as the bench's load
        os.sched_setaffinity(0, {int(servers.LOAD_CORE)})
    asyncio.run(main())
