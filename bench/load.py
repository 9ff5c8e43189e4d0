"""Load generation in a second process: wrk where installed, else a small asyncio client.

Both keep N keep-alive connections busy for a fixed time and print one line,
`BENCH {"requests":..., "seconds":..., "errors":..., "p50_ms":..., "p95_ms":..., "p99_ms":...}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import LOAD_CORE, pinning

WRK_SCRIPT = """\
wrk.method = %(method)s
wrk.body = %(body)s
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%%d,"seconds":%%f,"errors":%%d,"p50_ms":%%f,"p95_ms":%%f,"p99_ms":%%f}\\n',
    summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Measured:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for this ASCII text


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "python -m bench.load"


async def measure(port: int, request: Request, connections: int, seconds: float) -> Measured:
    headers = list(request.headers)
    if request.body:
        headers.append(("Content-Type", "application/json"))
    with tempfile.TemporaryDirectory() as folder:
        if shutil.which("wrk"):
            script = Path(folder) / "request.lua"
            script.write_text(
                WRK_SCRIPT
                % {
                    "method": _lua(request.method),
                    "body": _lua(request.body.decode()) if request.body else "nil",
                    "headers": "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers),
                }
            )
            command = [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
            ]
            command += ["-s", str(script), f"http://127.0.0.1:{port}{request.path}"]
        else:
            body = Path(folder) / "body"
            body.write_bytes(request.body)
            command = [sys.executable, "-m", "bench.load", str(port), request.method]
            command += [request.path, str(body), str(connections), str(seconds)]
            command += [f"{k}: {v}" for k, v in headers]
        process = await asyncio.create_subprocess_exec(
            *pinning(LOAD_CORE), *command, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
    for line in out.decode().splitlines():
        if line.startswith("BENCH "):
            return Measured(**json.loads(line[6:]))
    raise RuntimeError(f"the load generator printed no result: {out.decode()[-500:]}")


# The fallback client, run as `python -m bench.load PORT METHOD PATH BODY_FILE N SECONDS [HEADER]`.


async def _connection(
    port: int, raw: bytes, until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 2"):
                errors.append(1)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()


def _fallback(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    for name in ("port", "method", "path", "body", "connections", "seconds"):
        parser.add_argument(name)
    parser.add_argument("headers", nargs="*")
    args = parser.parse_args(argv)
    body = Path(args.body).read_bytes()
    lines = [f"{args.method} {args.path} HTTP/1.1", "Host: 127.0.0.1", *args.headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    until = started + float(args.seconds)

    async def connections() -> None:
        await asyncio.gather(
            *(
                _connection(int(args.port), raw, until, latencies, errors)
                for _ in range(int(args.connections))
            )
        )

    asyncio.run(connections())
    seconds = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    result = {
        "requests": len(latencies),
        "seconds": seconds,
        "errors": len(errors),
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
    }
    print("BENCH " + json.dumps(result))


if __name__ == "__main__":
    _fallback(sys.argv[1:])
