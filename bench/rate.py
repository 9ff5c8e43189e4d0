"""The Tasks page at a fixed rate (open loop), with CPU and an optional profile.

B2/B3 measure how many pages a server can give with 16 connections asking as fast as they can
(closed loop, wrk). The bar "p95 under 50 ms at 200 requests/s" asks something else: what a
caseworker waits when pages are asked for at a steady 200 per second. bench.openloop sends them
on that schedule, so a server that cannot keep up shows its queue in the latency. The same run
is made against the raw route and PostGraphile at the same rate, and against the bare Starlette
route at a much higher rate to show that the generator itself keeps its schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import load, openloop, servers, variants
from bench.cpu import BackendSampler, process_ms
from bench.page import Page
from bench.profiling import recording

GENERATOR_CHECK = "bare Starlette {__typename}"
QUIET_CPU_SHARE = 0.05


async def settle(pid: int, limit: float = 30.0) -> None:
    """Waits until the server is idle: a run that overloaded it leaves requests it still works
    through after the generator has given up on them."""
    for _ in range(int(limit / 0.5)):
        before = process_ms(pid)
        await asyncio.sleep(0.5)
        after = process_ms(pid)
        if before is None or after is None or (after - before) < 500 * QUIET_CPU_SHARE:
            return


async def sampled(
    server: servers.Server, dsn: str, db: str, run: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One run with the server's and PostgreSQL's CPU per answered request."""
    await settle(server.pid)
    sampler = BackendSampler(dsn, db)
    await sampler.start()
    before = process_ms(server.pid)
    found = await run()
    after = process_ms(server.pid)
    pg_ms, backends = await sampler.stop()
    answered = max(found["answered"], 1)
    return found | {
        "server_cpu_ms_per_request": (
            round((after - before) / answered, 3)
            if before is not None and after is not None
            else None
        ),
        "postgres_cpu_ms_per_request": round(pg_ms / answered, 3) if pg_ms is not None else None,
        "postgres_backends_seen": backends,
        "postgres_transactions_per_request": round(sampler.transactions / answered, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def by_p95(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run by p95; a run whose p95 had no reply sorts last."""
    ordered = sorted(runs, key=lambda r: (r["p95_ms"] is None, r["p95_ms"] or 0.0))
    return ordered[len(ordered) // 2]


async def profiled(
    server: servers.Server, stem: Path, run: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One more run under py-spy, not counted with the measured ones."""
    await settle(server.pid)
    async with recording(server.pid, stem) as found:
        measured = await run()
    return {
        "files": found.files,
        "samples": found.samples,
        "note": found.note,
        "p95_ms_while_profiled": measured.get("p95_ms"),
    }


async def pages(
    args: argparse.Namespace,
    dsn: str,
    db: str,
    log: Path,
    reference: Page,
    stem: str,
    plans: str = "default",
) -> list[dict[str, Any]]:
    """Each server's page at args.rate, and (default plans) the bare route at args.check_rate;
    the database's plan_cache_mode is set by the caller."""
    found = []
    for name in ("casetasks", "raw", "postgraphile"):
        with servers.running(name, dsn, log) as server:
            token = await variants.sign_in(server.port) if name == "casetasks" else None
            for variant in variants.for_server(name, token, plans):
                if not variant.checks_page and variant.name != GENERATOR_CHECK:
                    continue
                body = await variants.fetch(server.port, variant.request)
                if variant.checks_page and variants.read_page(name, body) != reference:
                    raise RuntimeError(f"{variant.name} does not return the reference page")
                rate = args.rate if variant.checks_page else args.check_rate
                request = openloop.raw_request(
                    variant.request.method,
                    variant.request.path,
                    variant.request.body,
                    variant.request.headers,
                )
                count = max(1, round(rate * args.seconds))

                async def run(
                    request: bytes = request, rate: float = rate, count: int = count
                ) -> dict[str, Any]:
                    out = await openloop.measure(server.port, [request], rate, count)
                    return openloop.summary(out)

                print(f"  {variant.name} at {rate:g}/s", end="", flush=True)
                if args.warmup:  # past the fifth execution of prepared statements, as in B2
                    await load.measure(server.port, variant.request, args.connections, args.warmup)
                runs = [await sampled(server, dsn, db, run) for _ in range(args.runs)]
                median = by_p95(runs)
                print(
                    f": p50 {median['p50_ms']} ms, p95 {median['p95_ms']} ms,"
                    f" {median['req_per_s']} answered/s",
                    flush=True,
                )
                result = {
                    "bench": "check" if not variant.checks_page else variant.bench,
                    "variant": variant.name,
                    "server": name,
                    "rate": rate,
                    "plans": plans,
                    "median": median,
                    "runs": runs,
                }
                if args.sweep and variant.checks_page:
                    result["sweep"] = await _sweep(args, server, request)
                if args.profile and name == "casetasks" and plans == "default":
                    profile_stem = args.results / f"{stem}-profile-page-{rate:g}"
                    result["profiles"] = {
                        "page": await profiled(server, profile_stem, run),
                        "{__typename} signed in": await _profile_typename(
                            args, server, token, stem
                        ),
                    }
                found.append(result)
    return found


async def _sweep(
    args: argparse.Namespace, server: servers.Server, request: bytes
) -> list[dict[str, Any]]:
    """One run at each rate of --sweep: the page's latency against the offered rate."""
    found = []
    for rate in args.sweep:
        await settle(server.pid)
        out = await openloop.measure(
            server.port, [request], rate, max(1, round(rate * args.seconds))
        )
        measured = openloop.summary(out)
        del measured["per_second"]
        found.append(measured)
    print(
        "    sweep p95 ms: " + ", ".join(f"{m['offered_per_s']:g}/s {m['p95_ms']}" for m in found),
        flush=True,
    )
    return found


async def _profile_typename(
    args: argparse.Namespace, server: servers.Server, token: str | None, stem: str
) -> dict[str, Any]:
    """Signed-in `{__typename}` under py-spy, closed loop as in B1: the cost of signing in."""
    (variant,) = [
        v
        for v in variants.for_server("casetasks", token, "default")
        if v.name == "casetasks {__typename} signed in"
    ]

    async def run() -> dict[str, Any]:
        measured = await load.measure(server.port, variant.request, args.connections, args.seconds)
        return {"p95_ms": measured.p95_ms, "req_per_s": round(measured.rate, 1)}

    return await profiled(server, args.results / f"{stem}-profile-typename", run)
