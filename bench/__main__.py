"""`make bench`: B1 `{__typename}`, B2 the Tasks page through casetasks, B3 the same page from a
raw asyncpg route and from PostGraphile 5, in one run against one generated database, then the
same three pages with PostgreSQL forced to custom plans; then, open loop, the pages at a fixed
rate (bench/rate.py) and B4, mutations at a fixed rate checked afterwards (bench/writes.py).

    python -m bench --size S --quick        # about four minutes
    python -m bench --size L                # 1M tasks: the load, then 3 x 20 s per variant
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import database, environment, load, rate, report, servers, summary, variants, writes
from bench.cpu import BackendSampler, process_ms
from bench.generate import SIZES, generate
from bench.page import (
    CASEWORKER,
    DUE_FROM,
    DUE_TO,
    FIRST,
    POSTGRAPHILE_FUNCTION,
    RAW_SQL,
    Page,
)

RESULTS = Path(__file__).parent / "results"
SERVERS = ("casetasks", "raw", "postgraphile")
PLAN_MODES = ("default", "force_custom_plan")


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", choices=[*sorted(SIZES), "both"], default="S", help="both: S, then L (B6)"
    )
    parser.add_argument("--quick", action="store_true", help="1 run x 5 s per variant")
    parser.add_argument("--runs", type=int, help="runs per variant (default 3; quick 1)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 20; quick 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up (default 5; quick 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse", action="store_true", help="use the size's database if already generated"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database", help="the bench database's name (default casetasks_bench_<size>)"
    )
    parser.add_argument(
        "--load-only", action="store_true", help="generate the data, count it, stop"
    )
    # The open-loop parts (bench/rate.py, bench/writes.py) and what a run includes.
    parser.add_argument("--rate", type=float, default=200.0, help="the page's fixed rate, req/s")
    parser.add_argument(
        "--check-rate", type=float, default=2000.0, help="the bare route's fixed rate, req/s"
    )
    parser.add_argument("--write-rate", type=float, default=100.0, help="B4 mutations/s")
    parser.add_argument(
        "--rate-plans",
        type=lambda text: text.split(","),
        default=["default"],
        help="plan modes of the fixed-rate pages (default; default,force_custom_plan for both)",
    )
    parser.add_argument(
        "--sweep",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[],
        help="also the page at each of these rates, one run each (e.g. 25,50,100,200,400)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the casetasks server (bench/profiling.py)"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default={"closed", "rate", "B4"},
        help="comma-separated: closed (B1-B3, wrk), rate (the page at --rate), B4",
    )
    args = parser.parse_args(argv)
    args.results = RESULTS
    args.runs = args.runs or (1 if args.quick else 3)
    args.seconds = args.seconds or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 5.0)
    return args


async def _materialize(dsn: str) -> dict[str, Any]:
    """The app's own scheduler passes (repeating tasks, then reminders), so the server's
    in-process scheduler finds nothing to do while it is measured (and, after a fresh load,
    proof the series are consistent: materialize makes 0). After a load, the reminders of the
    generated tasks already due or overdue are sent here, not during the first measured run.
    """
    found: dict[str, Any] = {}
    for command in ("materialize", "remind"):
        started = time.perf_counter()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "casetasks.cli", command],
            env={**os.environ, "DATABASE_URL": dsn, "SECRET_KEY": "bench-materialize"},
            capture_output=True,
            text=True,
            check=True,
        )
        found[f"casetasks {command}"] = done.stdout.strip()
        found[f"casetasks {command} seconds"] = round(time.perf_counter() - started, 1)
    return found


async def _prepare(args: argparse.Namespace, name: str) -> tuple[str, dict[str, Any]]:
    dsn = database.dsn_of(name)
    if args.reuse:
        try:
            connection = await asyncpg.connect(dsn)
        except asyncpg.InvalidCatalogNameError:
            pass
        else:
            try:
                tasks = await connection.fetchval("SELECT count(*) FROM task")
            finally:
                await connection.close()
            if tasks == SIZES[args.size].tasks:
                # A database kept from an older revision gets the app's newer migrations.
                await database.upgrade_to_head(dsn)
                return dsn, {"reused": True, **await _materialize(dsn)}
    dsn = await database.create(name)
    loaded = await generate(dsn, SIZES[args.size], args.seed)
    print(f"generated {args.size} in {loaded.seconds} s: {loaded.rows}", flush=True)
    return dsn, {
        "seconds": loaded.seconds,
        "rows": loaded.rows,
        "steps": loaded.steps,
        **await _materialize(dsn),
    }


async def _run_once(
    server: servers.Server, variant: variants.Variant, args: argparse.Namespace, dsn: str, db: str
) -> dict[str, Any]:
    sampler = BackendSampler(dsn, db)
    await sampler.start()
    before = process_ms(server.pid)
    measured = await load.measure(server.port, variant.request, args.connections, args.seconds)
    after = process_ms(server.pid)
    pg_ms, backends = await sampler.stop()
    requests = max(measured.requests, 1)
    return {
        "req_per_s": round(measured.rate, 1),
        "requests": measured.requests,
        "errors": measured.errors,
        "p50_ms": round(measured.p50_ms, 2),
        "p95_ms": round(measured.p95_ms, 2),
        "p99_ms": round(measured.p99_ms, 2),
        "server_cpu_ms_per_request": (
            round((after - before) / requests, 3)
            if before is not None and after is not None
            else None
        ),
        "postgres_cpu_ms_per_request": round(pg_ms / requests, 3) if pg_ms is not None else None,
        "postgres_backends_seen": backends,
        "postgres_transactions_per_request": round(sampler.transactions / requests, 2),
        "postgres_sessions_opened_per_request": round(sampler.sessions / requests, 3),
        # Other work on the machine shows here: the three runs' figures are only comparable
        # when this stays near the two busy processes of the bench itself.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


async def _measure_server(
    name: str,
    plans: str,
    args: argparse.Namespace,
    dsn: str,
    db: str,
    log: Path,
    reference: Page,
) -> list[dict[str, Any]]:
    found = []
    with servers.running(name, dsn, log) as server:
        token = await variants.sign_in(server.port) if name == "casetasks" else None
        chosen = variants.for_server(name, token, plans)
        for variant in chosen:  # every variant answers correctly before anything is timed
            body = await variants.fetch(server.port, variant.request)
            if variant.checks_page and variants.read_page(name, body) != reference:
                raise RuntimeError(f"{variant.name} does not return the reference page: {body}")
            # Only the data: casetasks adds extensions (the query's cost) to every answer.
            answered = body.get("data") if isinstance(body, dict) else body
            if not variant.checks_page and answered != {"__typename": "Query"}:
                raise RuntimeError(f"{variant.name} answered {body}")
        for variant in chosen:
            print(f"  {variant.name}", end="", flush=True)
            if args.warmup:
                await load.measure(server.port, variant.request, args.connections, args.warmup)
            runs = [await _run_once(server, variant, args, dsn, db) for _ in range(args.runs)]
            median = sorted(runs, key=lambda r: r["req_per_s"])[len(runs) // 2]
            print(f": {median['req_per_s']} req/s, p50 {median['p50_ms']} ms", flush=True)
            found.append(
                {
                    "bench": variant.bench,
                    "variant": variant.name,
                    "server": name,
                    "plans": plans,
                    "median": median,
                    "runs": runs,
                    "req_per_s_spread": [
                        min(r["req_per_s"] for r in runs),
                        max(r["req_per_s"] for r in runs),
                    ],
                }
            )
    return found


async def main(argv: list[str]) -> dict[str, Any]:
    args = _arguments(argv)
    if args.size == "both":  # B6 from one sitting: S, then L; the L run writes B6 from both
        for size in ("S", "L"):
            found = await main([a.replace("both", size) if a.endswith("both") else a for a in argv])
        return found
    db = args.database or f"{database.PREFIX}_{args.size.lower()}"
    dsn, loaded = await _prepare(args, db)
    if args.load_only:
        return {"size": args.size, "load": loaded}
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(POSTGRAPHILE_FUNCTION)
        reference_body = json.loads(
            await connection.fetchval(RAW_SQL, CASEWORKER, DUE_FROM, DUE_TO, FIRST)
        )
    finally:
        await connection.close()
    reference = variants.read_page("raw", reference_body)
    postgraphile_version = servers.install_postgraphile()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log = RESULTS / f"{stamp}-servers.log.tmp"
    measured: list[dict[str, Any]] = []
    fixed_rate: list[dict[str, Any]] = []
    written: dict[str, Any] | None = None
    try:
        for plans in PLAN_MODES if "closed" in args.only else ():
            await database.set_plan_cache_mode(db, None if plans == "default" else plans)
            print(f"plan_cache_mode: {plans}", flush=True)
            for name in SERVERS:
                measured += await _measure_server(name, plans, args, dsn, db, log, reference)
        for plans in args.rate_plans if "rate" in args.only else ():  # before B4's changes
            await database.set_plan_cache_mode(db, None if plans == "default" else plans)
            print(f"fixed rate: the page at {args.rate:g} req/s, {plans} plans", flush=True)
            fixed_rate += await rate.pages(args, dsn, db, log, reference, stamp, plans)
        await database.set_plan_cache_mode(db, None)
        if "B4" in args.only:
            written = await writes.measure(args, dsn, db, log, stamp)
    finally:
        await database.set_plan_cache_mode(db, None)
        if not args.keep:
            await database.drop(db)
    finished = {
        "when": stamp,
        "size": args.size,
        "command": "python -m bench " + " ".join(argv),
        "settings": {
            "runs": args.runs,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "connections": args.connections,
            "rate": args.rate,
            "check_rate": args.check_rate,
            "write_rate": args.write_rate,
            "sweep": args.sweep,
            "rate_plans": args.rate_plans,
            "only": sorted(args.only),
            "seed": args.seed,
            "load_generator": load.tool(),
            "server_core": servers.SERVER_CORE if servers.pinning("0") else None,
            "load_core": servers.LOAD_CORE if servers.pinning("1") else None,
        },
        "environment": await environment.describe(postgraphile_version),
        "load": loaded,
        "page": {"total_count": reference.total, "rows": len(reference.rows)},
        "variants": measured,
        "ratios": report.ratios(measured),
        "fixed_rate": fixed_rate,
        "writes": written,
    }
    suffix = "-quick" if args.quick else ""
    path = RESULTS / f"{stamp}-{args.size}{suffix}.json"
    path.write_text(json.dumps(finished, indent=2) + "\n")
    log.unlink(missing_ok=True)
    print(f"results: {path}")
    if args.quick:  # a quick look: the JSON and the table here; bench/README.md keeps full runs
        if measured:
            print(report.table(finished))
        print(summary.fixed_rate_table(finished))
        print("\n" + summary.bars_table(finished, RESULTS))
    else:
        summary.write(finished, path)
    return finished


if __name__ == "__main__":
    # A terminated run still stops its servers and resets the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    asyncio.run(main(sys.argv[1:]))
