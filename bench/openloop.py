"""An open-loop load generator: requests leave on a fixed schedule, whatever the replies do.

wrk keeps N connections busy and sends the next request only when a reply is in (closed loop):
a slow server then receives fewer requests and its queueing never shows in the latency
(coordinated omission). Here request i is due at start + i / rate; it goes out on an idle
keep-alive connection (a new one is opened while fewer than `connections` exist, else it waits
for one) and its latency runs from the time it was due, not from the time it left, so waiting
for a connection or for the generator itself counts. wrk2 does this; Debian does not package it.

Run in its own process pinned to the load core:

    python -m bench.openloop SPEC.json OUT.json

SPEC: {"port", "rate", "count", "connections", "drain_seconds", "keep_bodies",
"requests": [raw HTTP/1.1 request, base64]}; request i is requests[i % len(requests)].
OUT: per request its latency in ms (from its due time), HTTP status (0: no reply by the
deadline, -1: the connection failed, -2: not sent by the deadline for want of a connection)
and, with keep_bodies, the reply body; and how late the generator sent each request (its own
lag, which must stay small for the figures to hold).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NO_REPLY = 0
FAILED = -1
NOT_SENT = -2  # still waiting for a connection at the deadline


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def percentile_with_missing(values: Sequence[float | None], p: float) -> float | None:
    """As percentile, with None (no good reply) slower than any value: None when the rank
    falls among them."""
    answered = sorted(v for v in values if v is not None)
    rank = max(1, min(len(values), -(-len(values) * p // 100)))
    return answered[int(rank) - 1] if rank <= len(answered) else None


def raw_request(
    method: str, path: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response: Content-Length or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent here
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, body, headers.get(b"connection") != b"close"


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class _Run:
    port: int
    requests: list[bytes]
    keep_bodies: bool
    connections: asyncio.Semaphore
    idle: list[Connection] = field(default_factory=list)
    opened: int = 0
    latencies: list[float | None] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    bodies: list[str | None] = field(default_factory=list)

    async def one(self, i: int, due: float) -> None:
        async with self.connections:
            connection = self._reusable()
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", self.port)
                    self.opened += 1
                reader, writer = connection
                writer.write(self.requests[i % len(self.requests)])
                self.statuses[i] = NO_REPLY
                status, body, keep = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                self.statuses[i] = FAILED
                if connection is not None:
                    connection[1].close()
                return
            self.latencies[i] = (time.perf_counter() - due) * 1000
            self.statuses[i] = status
            if self.keep_bodies:
                self.bodies[i] = body.decode(errors="replace")
            if keep:
                self.idle.append(connection)
            else:
                writer.close()

    def _reusable(self) -> Connection | None:
        """An idle connection the server has not closed meanwhile (uvicorn closes one idle for
        its keep-alive timeout, 5 s): as HTTP clients' pools do, one whose end has already
        arrived is dropped rather than written to, which would fail a request never sent."""
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    count = int(spec["count"])
    rate = float(spec["rate"])
    state = _Run(
        port=int(spec["port"]),
        requests=[base64.b64decode(r) for r in spec["requests"]],
        keep_bodies=bool(spec.get("keep_bodies")),
        connections=asyncio.Semaphore(int(spec["connections"])),
        latencies=[None] * count,
        statuses=[NOT_SENT] * count,
        bodies=[None] * count,
    )
    lag: list[float] = []
    pending: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    cpu_before = time.process_time()
    for i in range(count):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        lag.append((time.perf_counter() - due) * 1000)
        pending.append(asyncio.create_task(state.one(i, due)))
    sent = time.perf_counter()
    _, late = await asyncio.wait(pending, timeout=float(spec["drain_seconds"]))
    deadline = time.perf_counter()
    for task in late:
        task.cancel()
    for _reader, writer in state.idle:
        writer.close()
    # A request with no reply by the deadline waited at least this long: a lower bound.
    unanswered = [
        (deadline - (start + i / rate)) * 1000 for i in range(count) if state.latencies[i] is None
    ]
    return {
        "count": count,
        "rate": rate,
        # The generator's own CPU over the run: its headroom on the load core.
        "cpu_share": round((time.process_time() - cpu_before) / max(deadline - start, 1e-9), 3),
        "sending_seconds": round(sent - start, 3),
        "seconds": round(deadline - start, 3),
        "connections_opened": state.opened,
        "latencies_ms": [None if v is None else round(v, 3) for v in state.latencies],
        "statuses": state.statuses,
        "bodies": state.bodies if state.keep_bodies else None,
        "unanswered_lower_bound_ms": round(min(unanswered), 1) if unanswered else None,
        "lag_ms": {
            "p50": round(percentile(lag, 50) or 0.0, 3),
            "p99": round(percentile(lag, 99) or 0.0, 3),
            "max": round(max(lag, default=0.0), 3),
        },
    }


def summary(out: dict[str, Any], ok: Sequence[bool] | None = None) -> dict[str, Any]:
    """Percentiles over every request sent: a request with no reply (or a failed one) counts as
    slower than any reply, so a server that falls behind cannot hide it. `ok`: which replies
    count as answered (default: HTTP 2xx)."""
    statuses = out["statuses"]
    good = list(ok) if ok is not None else [200 <= s < 300 for s in statuses]
    latencies = [
        v if v is not None and fine else None
        for v, fine in zip(out["latencies_ms"], good, strict=True)
    ]
    answered = [v for v in latencies if v is not None]
    missing = len(latencies) - len(answered)

    def pick(p: float) -> float | None:
        return percentile_with_missing(latencies, p)

    per_second: list[dict[str, Any]] = []
    step = max(1, round(out["rate"]))
    for first in range(0, len(latencies), step):
        bucket = [v for v in latencies[first : first + step] if v is not None]
        per_second.append(
            {
                "second": first // step,
                "p50_ms": _round(percentile(bucket, 50)),
                "p95_ms": _round(percentile(bucket, 95)),
                "missing": step - len(bucket) if first + step <= len(latencies) else None,
            }
        )
    return {
        "offered_per_s": out["rate"],
        "requests": len(latencies),
        "answered": len(answered),
        "errors": missing,
        "not_sent": sum(1 for s in statuses if s == NOT_SENT),
        "req_per_s": round(len(answered) / out["seconds"], 1) if out["seconds"] else 0.0,
        "p50_ms": _round(pick(50)),
        "p95_ms": _round(pick(95)),
        "p99_ms": _round(pick(99)),
        "max_ms": _round(max(answered, default=None)),
        "unanswered_lower_bound_ms": out["unanswered_lower_bound_ms"],
        "generator_lag_ms": out["lag_ms"],
        "generator_cpu_share": out.get("cpu_share"),
        "connections_opened": out["connections_opened"],
        "per_second": per_second,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def measure(
    port: int,
    requests: Sequence[bytes],
    rate: float,
    count: int,
    connections: int = 64,
    keep_bodies: bool = False,
    drain_seconds: float = 10.0,
) -> dict[str, Any]:
    """One open-loop run in a second process on the load core; its raw output."""
    from bench.servers import LOAD_CORE, pinning

    spec = {
        "port": port,
        "rate": rate,
        "count": count,
        "connections": connections,
        "drain_seconds": drain_seconds,
        "keep_bodies": keep_bodies,
        "requests": [base64.b64encode(r).decode() for r in requests],
    }
    with tempfile.TemporaryDirectory() as folder:
        spec_path, out_path = Path(folder) / "spec.json", Path(folder) / "out.json"
        spec_path.write_text(json.dumps(spec))
        process = await asyncio.create_subprocess_exec(
            *pinning(LOAD_CORE),
            sys.executable,
            "-m",
            "bench.openloop",
            str(spec_path),
            str(out_path),
        )
        if await process.wait() != 0:
            raise RuntimeError(f"the open-loop generator exited with {process.returncode}")
        found: dict[str, Any] = json.loads(out_path.read_text())
    return found


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[0]).read_text())
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    Path(argv[1]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
