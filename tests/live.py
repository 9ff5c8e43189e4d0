"""Real servers for websocket tests: uvicorn in this process, or `casetasks serve` processes."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

from tests.processes import casetasks_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_in_process(app: Starlette) -> AsyncIterator[str]:
    """uvicorn on a free port; the app's lifespan is the caller's to run."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class ServeProcess:
    """`casetasks serve` as its own process, as production runs it."""

    def __init__(
        self, env: Mapping[str, str], cwd: Path, port: int | None = None, *args: str
    ) -> None:
        self.env = dict(env)
        self.args = args  # more arguments of `casetasks serve`
        self.cwd = cwd
        self.port = port or free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.log = cwd / f"serve-{self.port}.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                casetasks_command(),
                "serve",
                "--port",
                str(self.port),
                *self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as http:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"serve exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await http.get(f"{self.http_url}/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"serve did not become ready: {self.log.read_text()[-2000:]}"
                    )
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Waits for a condition another task makes true (a subscription listening...)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        await asyncio.sleep(0.02)
