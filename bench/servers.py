"""The three servers under test, each started fresh per variant on loopback and pinned to a core.

- casetasks: `casetasks serve` (uvicorn, uvloop, httptools), as a deployment runs it;
- raw: bench.raw under uvicorn with the same loop and parser;
- PostGraphile 5: installed with npm into bench/.node (outside git), run with its own CLI and a
  generated config (amber preset, the public schema plus the bench's function schema); Node 20
  lacks Promise.withResolvers, so a polyfill is preloaded with `node -r`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.page import POSTGRAPHILE_SCHEMA

NODE_DIR = Path(__file__).parent / ".node"
NPM_PACKAGES = ("postgraphile@5", "pg@8")
SERVER_CORE = "0"
LOAD_CORE = "1"

POLYFILL = """\
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
"""

POSTGRAPHILE_CONFIG = """\
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_DSN,
      schemas: ["public", "POSTGRAPHILE_SCHEMA"],
    }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.BENCH_PORT), graphiql: false },
  grafast: { explain: false },
};
""".replace("POSTGRAPHILE_SCHEMA", POSTGRAPHILE_SCHEMA)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


def pinning(core: str) -> list[str]:
    """`taskset -c core` where taskset exists and the machine has two cores or more."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", core]
    return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install_postgraphile() -> str:
    """Installs the npm packages once; returns PostGraphile's version."""
    NODE_DIR.mkdir(exist_ok=True)
    package = NODE_DIR / "package.json"
    if not package.exists():
        package.write_text(json.dumps({"private": True, "type": "module"}) + "\n")
    version_file = NODE_DIR / "node_modules" / "postgraphile" / "package.json"
    if not version_file.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NPM_PACKAGES],
            cwd=NODE_DIR,
            check=True,
        )
    (NODE_DIR / "polyfill.cjs").write_text(POLYFILL)
    (NODE_DIR / "graphile.config.mjs").write_text(POSTGRAPHILE_CONFIG)
    return str(json.loads(version_file.read_text())["version"])


def _wait_for_port(process: subprocess.Popen[bytes], port: int, name: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not listen on port {port}")


@contextmanager
def running(
    name: str, dsn: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """name: casetasks, raw or postgraphile; extra_env adds to (or overrides) its settings."""
    port = free_port()
    env = {**os.environ, "BENCH_DSN": dsn, "BENCH_PORT": str(port)}
    uvicorn_flags = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    if name == "casetasks":
        env |= {
            "DATABASE_URL": dsn,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "CASETASKS_ENV": "production",
            "LOG_LEVEL": "warning",
            # One viewer asking as fast as it can is what a rate limit exists to stop; the
            # bench measures the work of a page, so it runs without one.
            "RATE_LIMIT_POINTS_PER_SECOND": "0",
        }
        command = [sys.executable, "-m", "casetasks.cli", "serve", "--port", str(port)]
    elif name == "raw":
        command = [sys.executable, "-m", "uvicorn", "bench.raw:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += uvicorn_flags
    elif name == "postgraphile":
        env |= {"NODE_ENV": "production", "GRAPHILE_ENV": "production"}
        command = ["node", "-r", "./polyfill.cjs", "node_modules/postgraphile/dist/cli-run.js"]
        command += ["-C", "graphile.config.mjs"]
    else:
        raise ValueError(name)
    env |= extra_env or {}
    cwd = NODE_DIR if name == "postgraphile" else Path(__file__).parent.parent
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*pinning(SERVER_CORE), *command], env=env, cwd=cwd, stdout=output, stderr=output
        )
    try:
        _wait_for_port(process, port, name)
        yield Server(name, port, process)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
