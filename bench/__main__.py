"""`make bench`: the Tasks page (50 tasks with relations) served by casetasks vs raw asyncpg.

Both servers run under uvicorn (uvloop, httptools) on the same seeded PostgreSQL database; the
figures are ratios against the baseline measured in the same run. Also measures the Python time
spent per page inside the GraphQL schema, without HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench import load
from bench.seed import PASSWORD, seed
from casetasks.migrate import upgrade

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "casetasks_bench"
RESULTS = Path(__file__).parent / "results"

TASKS_PAGE = """
query TasksPage($first: Int) {
  tasks(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name dueDate status overdue kind
      client { id name }
      responsible { id name }
    } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dsn(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


async def _fresh_database() -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    dsn = _dsn(DATABASE)
    await asyncio.to_thread(upgrade, dsn.replace("postgresql://", "postgresql+asyncpg://"))
    return dsn


def _start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start: {command}")


async def _measure(port: int, request: bytes, total: int, concurrency: int) -> load.Result:
    await load.run("127.0.0.1", port, request, max(concurrency * 5, 50), concurrency)  # warm up
    return await load.run("127.0.0.1", port, request, total, concurrency)


async def _python_ms_per_page(dsn: str, pages: int) -> float:
    """Time inside schema.execute for the page, with the database round trips included."""
    from casetasks.app import create_app
    from casetasks.settings import Settings
    from resolvers.context import Context
    from resolvers.loaders import Loaders
    from services.auth import viewer_for_token

    settings = Settings(
        database_url=dsn.replace("postgresql://", "postgresql+asyncpg://"),
        secret_key="bench",
        casetasks_env="test",
    )
    app = create_app(settings)
    graphql = app.routes[0].endpoint  # type: ignore[attr-defined]
    services = app.state.services
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        body = (
            await http.post(
                "/graphql",
                json={
                    "query": "mutation($e:String!,$p:String!){login(email:$e,password:$p){token}}",
                    "variables": {"e": "staff0@bench.example", "p": PASSWORD},
                },
            )
        ).json()
    token = body["data"]["login"]["token"]
    async with services.session_factory() as session:
        viewer = await viewer_for_token(session, token, services.tokens, services.clock)
    started = time.perf_counter()
    for _ in range(pages):
        context = Context(services=services, loaders=Loaders.create(services.session_factory))
        context.viewer = viewer
        context.timezones[viewer.provider_id] = viewer.provider_timezone  # type: ignore[union-attr]
        result = await graphql.schema.execute(
            TASKS_PAGE, variable_values={"first": 50}, context_value=context
        )
        assert not result.errors, result.errors
    elapsed = (time.perf_counter() - started) * 1000 / pages
    await app.state.engine.dispose()
    return elapsed


async def main(total: int, concurrency: int) -> dict[str, object]:
    dsn = await _fresh_database()
    email = await seed(dsn)
    app_port, base_port = _free_port(), _free_port()
    env = {
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://"),
        "SECRET_KEY": "bench-secret",
        "LOG_LEVEL": "warning",
        "BENCH_DSN": dsn,
        # One viewer asking as fast as it can is what a rate limit exists to stop; the bench
        # measures the work of a page, so it runs without one.
        "RATE_LIMIT_POINTS_PER_SECOND": "0",
    }
    casetasks = _start(
        [sys.executable, "-m", "casetasks.cli", "serve", "--port", str(app_port)], env, app_port
    )
    baseline = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline:create_app",
            "--factory",
            "--port",
            str(base_port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        base_port,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app_port}") as http:
            login = await http.post(
                "/graphql",
                json={
                    "query": "mutation($e:String!,$p:String!){login(email:$e,password:$p){token}}",
                    "variables": {"e": email, "p": PASSWORD},
                },
            )
            token = login.json()["data"]["login"]["token"]
        graphql_request = load.build_request(
            "POST",
            "/graphql",
            json.dumps({"query": TASKS_PAGE, "variables": {"first": 50}}).encode(),
            {"Authorization": f"Bearer {token}"},
        )
        baseline_request = load.build_request("GET", "/tasks?provider=1&first=50")
        base = await _measure(base_port, baseline_request, total, concurrency)
        ours = await _measure(app_port, graphql_request, total, concurrency)
    finally:
        for process in (casetasks, baseline):
            process.terminate()
            process.wait(10)
    python_ms = await _python_ms_per_page(dsn, 200)
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "page": "tasks(first: 50) with client and responsible, 5,000 tasks seeded",
        "requests": total,
        "concurrency": concurrency,
        "baseline_raw_asyncpg": {
            "req_per_s": round(base.rate, 1),
            "p50_ms": round(base.percentile(0.5), 2),
            "p99_ms": round(base.percentile(0.99), 2),
        },
        "casetasks_graphql": {
            "req_per_s": round(ours.rate, 1),
            "p50_ms": round(ours.percentile(0.5), 2),
            "p99_ms": round(ours.percentile(0.99), 2),
        },
        "ratio_vs_baseline": round(ours.rate / base.rate, 3),
        "schema_execute_ms_per_page": round(python_ms, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    figures = asyncio.run(main(args.requests, args.concurrency))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
