"""B5: N live dashboards on one `casetasks serve` while a writer sends tasks across providers.

    python -m bench.dashboards --dashboards 1000 --events 20 --rate 2
    python -m bench.dashboards --dashboards 10000 --instances 2   # B7: two behind HAProxy

A fresh S database (bench/generate.py); the dashboards are provider 2's staff with the Tasks
permission, several websockets each (graphql-transport-ws, `notificationAdded`, or
`unassignedTaskAlerts` with `--subscription`), opened by one client process pinned to core 1;
the server is pinned to core 0. Measured:
- idle memory: the server's RSS with every dashboard connected and subscribed, less its RSS
  before, per dashboard;
- delivery: staff 1 of provider 1 (group Tasks permission) sends `--events` tasks Unassigned to
  provider 2 at `--rate` per second; each makes one UNASSIGNED_TASK notification per task user
  of provider 2, so every dashboard must receive every event exactly once. Every receipt is
  logged and checked against the notification table (none missing, none doubled);
- latency: from the commit (the notification's created_at, stamped in the committing
  transaction) to each receipt: average, p50, p99; and, as an upper bound, from the moment the
  writer's request left;
- the server's CPU over the delivery phase, and the shared reads it ran (from its log, if any).

With `--instances 2` (B7), two `casetasks serve` share Redis (redis://127.0.0.1:6379) as the
broadcast backend behind HAProxy (round robin, websockets tunnelled); the dashboards connect
through HAProxy, so half land on each instance, while the writer posts to the first instance
only: every event the second instance's dashboards receive crossed Redis. Both servers are pinned
to core 0; HAProxy may run on either core (until 2026-12-04 14:40 UTC it ran on core 1 with the
client, whose affinity it inherited); idle memory sums both servers' RSS. One HAProxy process holds
two descriptors per websocket, and a process may open no more than the hard limit on open files
(20,000 here, which root in this container cannot raise): so the bench starts as many HAProxy
processes as the dashboards need, each with the same configuration (both instances, round
robin), and the dashboards take them in turn, as clients spread over the nodes of a
load-balancing tier.

Results: bench/results/<UTC time>-dashboards.json (one instance) or -dashboards-2.json (two),
with the bars they measure, which bench/summary.py puts in the README's table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import orjson

from bench import database, servers
from bench.cpu import process_ms
from bench.generate import SIZES, generate
from bench.profiling import recording

RESULTS = Path(__file__).parent / "results"
PASSWORD = "bench-password"
PROTOCOL = "graphql-transport-ws"
PONG = json.dumps({"type": "pong"})
# What a dashboard subscribes to (--subscription): the Dashboard Notifications Widget's feed, or
# the Unassigned alerts of the Tasks screen.
SUBSCRIPTIONS = {
    "notificationAdded": "subscription { notificationAdded { id kind message task { id name } } }",
    "unassignedTaskAlerts": "subscription { unassignedTaskAlerts {"
    " notification { id kind message } task { id name } } }",
}
SEND = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { id } errors { message } } }"
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REDIS_URL = "redis://127.0.0.1:6379"
TARGET_DASHBOARDS = 10_000
HAPROXY_CONFIG = """\
global
    maxconn {maxconn}
defaults
    mode http
    maxconn {maxconn}
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # an upgraded websocket is a tunnel: idle dashboards live on the server's 15 s pings
    timeout tunnel 1h
frontend dashboards
    bind 127.0.0.1:{port}
    default_backend casetasks
backend casetasks
    balance roundrobin
{servers}
"""


def haproxy_connections() -> int:
    """What one HAProxy process can proxy here: two descriptors per connection (client and
    server side) under the hard limit on open files, which an unprivileged process (and root
    in a container without CAP_SYS_RESOURCE) cannot raise."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(2 * TARGET_DASHBOARDS, (hard - 200) // 2)


def haproxy_processes(dashboards: int) -> int:
    """The HAProxy processes `dashboards` websockets need, each under the open-file limit."""
    return max(1, -(-dashboards // haproxy_connections()))


@contextmanager
def cluster(
    instances: int, dsn: str, log: Path, dashboards: int
) -> Iterator[tuple[list[servers.Server], list[int]]]:
    """The servers, and the ports dashboards connect to, taken in turn: the one server's, or
    those of the HAProxy processes in front of several sharing Redis."""
    with ExitStack() as stack:
        extra = {"BROADCAST_URL": REDIS_URL} if instances > 1 else {}
        started = [
            stack.enter_context(servers.running("casetasks", dsn, log, extra))
            for _ in range(instances)
        ]
        if instances == 1:
            yield started, [started[0].port]
            return
        ports = [
            stack.enter_context(_haproxy(started, log, number))
            for number in range(haproxy_processes(dashboards))
        ]
        yield started, ports


@contextmanager
def _haproxy(behind: list[servers.Server], log: Path, number: int) -> Iterator[int]:
    """One HAProxy process in front of every server, round robin; its port."""
    port = servers.free_port()
    maxconn = haproxy_connections()
    config = log.with_name(f"dashboards-haproxy-{number}.cfg")
    config.write_text(
        HAPROXY_CONFIG.format(
            maxconn=maxconn,
            port=port,
            servers="\n".join(
                f"    server casetasks{n} 127.0.0.1:{s.port} maxconn {maxconn}"
                for n, s in enumerate(behind, 1)
            ),
        )
    )
    # Started from the client's process, it would inherit the client's core: the proxies run
    # on every core instead, as a load balancer on machines of its own would not share one.
    every_core = ["taskset", "-c", f"0-{(os.cpu_count() or 1) - 1}"] if servers.pinning("0") else []
    with log.open("ab") as output:
        proxy = subprocess.Popen(
            [*every_core, "haproxy", "-db", "-f", str(config)], stdout=output, stderr=output
        )
    try:
        servers._wait_for_port(proxy, port, "haproxy")
        yield port
    finally:
        proxy.terminate()
        proxy.wait(15)


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
    def __init__(self, number: int, staff: int, field: str) -> None:
        self.number = number
        self.staff = staff
        self.field = field
        self.received: list[tuple[float, str | None]] = []  # when, and the task it was about
        self.ready = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        async with session.ws_connect(url, protocols=(PROTOCOL,), max_msg_size=0) as socket:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await socket.send_str(json.dumps(init))
            ack = orjson.loads((await socket.receive()).data)
            assert ack["type"] == "connection_ack", ack
            query = SUBSCRIPTIONS[self.field]
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": query}}
            await socket.send_str(json.dumps(subscribe))
            self.ready.set()
            async for frame in socket:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"dashboard {self.number}: {frame.type.name} {frame.data}")
                message = orjson.loads(frame.data)
                if message["type"] == "ping":
                    await socket.send_str(PONG)
                elif message["type"] == "next":
                    added = message["payload"]["data"][self.field]
                    self.received.append((time.time(), (added.get("task") or {}).get("id")))


async def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboards", description=__doc__)
    parser.add_argument("--dashboards", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--database", default="casetasks_bench_dashboards")
    parser.add_argument(
        "--instances", type=int, default=1, choices=(1, 2), help="2: B7, behind HAProxy"
    )
    parser.add_argument(
        "--subscription", choices=sorted(SUBSCRIPTIONS), default="notificationAdded"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="each on a fresh database; the bars take medians"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy samples the (first) server during the first run's delivery",
    )
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    runs = [await _run(args, profile=args.profile and n == 0) for n in range(args.runs)]
    result = _medians(args, runs)
    result["command"] = " ".join(["python -m bench.dashboards", *(argv or sys.argv[1:])])
    result["bars"] = bars(result)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "" if args.instances == 1 else f"-{args.instances}"
    # The bars read the widget's feed (bench/summary.py); the alerts' runs are kept apart.
    suffix += "" if args.subscription == "notificationAdded" else "-alerts"
    path = RESULTS / f"{stamp}-dashboards{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return path


def _medians(args: argparse.Namespace, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' medians (latency, memory, CPU) and totals (receipts, missing, doubled)."""

    def median(key: str, part: str | None = None) -> float | None:
        values = [run[key] if part is None else run[key][part] for run in runs]
        present = [v for v in values if v is not None]
        return round(statistics.median(present), 1) if present else None

    return {
        "dashboards": args.dashboards,
        "events": args.events,
        "rate": args.rate,
        "instances": args.instances,
        "haproxy_processes": runs[0]["haproxy_processes"],
        "subscription": args.subscription,
        "runs": len(runs),
        "idle_kb_per_dashboard": median("idle_kb_per_dashboard"),
        "server_cpu_ms_delivery": median("server_cpu_ms_delivery"),
        "expected_receipts": sum(run["expected_receipts"] for run in runs),
        "receipts": sum(run["receipts"] for run in runs),
        "missing": sum(run["missing"] for run in runs),
        "doubled": sum(run["doubled"] for run in runs),
        "latency_ms": {part: median("latency_ms", part) for part in ("avg", "p50", "p99", "max")},
        "each_run": runs,
    }


async def _run(args: argparse.Namespace, profile: bool) -> dict[str, Any]:
    """One run on a fresh S database: connect, measure idle memory, deliver, verify."""
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
        "instances": args.instances,
    }
    app_dsn = dsn.replace("postgresql://", "postgresql+asyncpg://")
    with cluster(args.instances, app_dsn, log, args.dashboards) as (instances, ports):
        writer_server = instances[0]
        base = f"http://127.0.0.1:{writer_server.port}"
        urls = [f"ws://127.0.0.1:{port}/graphql" for port in ports]
        result["haproxy_processes"] = len(ports) if args.instances > 1 else 0
        async with httpx.AsyncClient(base_url=base, timeout=30) as http, AsyncExitStack() as stack:
            tokens = {staff: await login(http, staff) for staff in receivers}
            writer = await login(http, 1)
            await asyncio.sleep(1.0)
            rss_before = sum(rss_kb(s.pid) for s in instances)
            boards = [
                Dashboard(i, receivers[i % len(receivers)], args.subscription)
                for i in range(args.dashboards)
            ]
            tasks = []
            sockets = await stack.enter_async_context(_client_session())
            for index, board in enumerate(boards):
                url = urls[index % len(urls)]
                tasks.append(asyncio.create_task(board.run(sockets, url, tokens[board.staff])))
                if index % 100 == 99:
                    await asyncio.gather(*(b.ready.wait() for b in boards[: index + 1]))
            await asyncio.gather(*(b.ready.wait() for b in boards))
            await asyncio.sleep(2.0)
            rss_after = sum(rss_kb(s.pid) for s in instances)
            result["rss_kb_before"] = rss_before
            result["rss_kb_connected"] = rss_after
            result["idle_kb_per_dashboard"] = round((rss_after - rss_before) / args.dashboards, 1)
            cpu_before = sum(process_ms(s.pid) or 0.0 for s in instances)
            client_before = time.process_time()
            sent: dict[str, float] = {}
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            profiled = (
                recording(writer_server.pid, RESULTS / f"{stamp}-profile-dashboards-delivery")
                if profile
                else nullcontext(None)
            )
            async with profiled as recorded:
                replies = await _deliver(args, http, writer, boards, sent)
            result["writer_reply_ms_avg"] = round(statistics.fmean(replies), 1)
            if recorded is not None:
                result["profile"] = {"files": recorded.files, "note": recorded.note}
            cpu_after = sum(process_ms(s.pid) or 0.0 for s in instances)
            result["server_cpu_ms_delivery"] = round(cpu_after - cpu_before, 1)
            # The dashboards' client (this process) shares core 1 with the database: a busy
            # client notes receipts late.
            result["client_cpu_ms_delivery"] = round((time.process_time() - client_before) * 1000)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    # The notifications' created_at is stamped inside the transaction that commits them, by the
    # server's clock (this machine's): from it to a receipt is "from commit", slightly more.
    committed = {
        _global_id("Task", row["id"]): row["at"]
        for row in await connection.fetch(
            "SELECT t.id, extract(epoch FROM min(n.created_at))::float8 AS at FROM notification n"
            " JOIN task t ON t.id = n.task_id"
            " WHERE t.name LIKE 'Dashboard bench %' AND n.kind = 'UNASSIGNED_TASK' GROUP BY t.id"
        )
    }
    latencies = [
        received - committed[task]
        for board in boards
        for received, task in board.received
        if task in sent and task in committed
    ]
    from_request = [
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
        "latency_ms": _summary(latencies),
        "latency_from_request_ms": _summary(from_request),
        "load_average": os.getloadavg(),
    }
    await database.drop(args.database)
    return result


async def _deliver(
    args: argparse.Namespace,
    http: httpx.AsyncClient,
    writer: str,
    boards: list[Dashboard],
    sent: dict[str, float],
) -> list[float]:
    """Sends the events at the rate asked for and waits until every dashboard has them all
    (or 30 s), then a second for anything doubled. The writer posts from a thread of its own,
    and an event's time is when its request left: this process's event loop is busy receiving
    every dashboard's messages, so it would note a reply late (receipts came "before" it). The
    request's start, before the commit, gives an upper bound of the latency.
    Returns the writer's reply times (ms)."""
    replies: list[float] = []
    started = time.monotonic()
    with httpx.Client(base_url=http.base_url, timeout=30) as client:
        for event in range(args.events):
            due = started + event / args.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task, left, replied = await asyncio.to_thread(_send, client, writer, event)
            sent[task] = left
            replies.append((replied - left) * 1000)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(len(b.received) >= args.events for b in boards):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything doubled arrives too
    return replies


def _send(client: httpx.Client, writer: str, event: int) -> tuple[str, float, float]:
    """One task sent Unassigned to provider 2: its id, when the request left, when the reply
    came (time.time(), as the dashboards' receipts and the database's created_at)."""
    left = time.time()
    body = client.post(
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
    ).json()
    replied = time.time()
    payload = body["data"]["createTask"]
    assert payload["errors"] == [], payload
    return payload["task"]["id"], left, replied


def _client_session() -> aiohttp.ClientSession:
    """The dashboards' sockets: aiohttp, whose frame reader is compiled. The one process that
    stands in for every browser spends core 1 on each message it notes; the websockets library's
    reader, in Python, made that cost about as large as the server's (see README, B5)."""
    connector = aiohttp.TCPConnector(limit=0)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))


def _summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"avg": None, "p50": None, "p99": None, "max": None}
    return {
        "avg": round(statistics.fmean(latencies) * 1000, 1),
        "p50": round(_percentile(latencies, 50) * 1000, 1),
        "p99": round(_percentile(latencies, 99) * 1000, 1),
        "max": round(max(latencies) * 1000, 1),
    }


def bars(result: dict[str, Any]) -> list[dict[str, Any]]:
    """B5's rows of the bars' table (B7's with two instances), shaped as bench.summary.Bar."""
    count = result["dashboards"]
    where = (
        "on one instance"
        if result["instances"] == 1
        else f"on {result['instances']} instances behind HAProxy sharing Redis, writer on one"
    )
    name = "B5" if result["instances"] == 1 else "B7"
    short = count < TARGET_DASHBOARDS
    scale = f"at {count:,} dashboards, not {TARGET_DASHBOARDS:,}" if short else ""
    complete = result["missing"] == 0 and result["doubled"] == 0
    latency = result["latency_ms"]
    fast = (
        latency["avg"] is not None
        and latency["avg"] < 1000
        and latency["p99"] is not None
        and latency["p99"] < 2000
    )
    idle = result["idle_kb_per_dashboard"]
    return [
        {
            "bar": f"{name}: {TARGET_DASHBOARDS:,} dashboards {where}, every alert delivered once",
            "target": "all, once",
            "measured": f"{result['receipts']:,} of {result['expected_receipts']:,} received;"
            f" missing {result['missing']}, doubled {result['doubled']}",
            "met": complete and not short,
            "margin": scale or ("every one once" if complete else "see the result file"),
        },
        {
            "bar": f"{name}: commit to receipt, average / p99",
            "target": "< 1 s / < 2 s",
            "measured": f"{latency['avg']} / {latency['p99']} ms",
            "met": fast and not short,
            "margin": scale or _latency_margin(latency),
        },
        {
            "bar": f"{name}: idle memory per websocket",
            "target": "< 100 KB",
            "measured": f"{idle} KB",
            "met": idle < 100 and not short,
            "margin": scale or f"{abs(100 - idle):.0f} KB {'under' if idle < 100 else 'over'}",
        },
    ]


def _latency_margin(latency: dict[str, float | None]) -> str:
    """How far the average and the p99 are from their limits (1 s, 2 s), in ms and percent."""
    parts = []
    for name, limit in (("average", 1000.0), ("p99", 2000.0)):
        value = latency["avg" if name == "average" else "p99"]
        if value is None:
            return "no receipts"
        gap, side = abs(limit - value), "under" if value < limit else "over"
        parts.append(f"{name} {gap:.0f} ms ({gap / limit:.1%}) {side}")
    return "; ".join(parts)


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
