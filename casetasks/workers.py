"""`casetasks serve --workers N`: N server processes on one listening socket.

uvicorn's supervisor binds the socket, starts the workers (spawned, so each imports the app
afresh), restarts one that dies and passes SIGTERM on. Each worker builds its own app from the
environment's settings (engine and pool, event hub, scheduler) and runs the same `Server` as a
single process does, so a worker's shutdown is as graceful: websockets closed with 1001,
in-flight requests finished within SHUTDOWN_TIMEOUT_SECONDS.

What the workers share is what the processes of several instances share: the database, and the
broadcast backend that carries events between them. So N > 1 needs a shared BROADCAST_URL
(redis:// or postgres://): with memory:// an event committed through one worker would never
reach the dashboards connected to another.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import multiprocess

from casetasks.settings import Settings, get_settings
from casetasks.shutdown import Server


class WorkersRefused(Exception):
    """The settings do not allow this many workers; the message says why."""


def check(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise WorkersRefused("--workers must be 1 or more")
    if workers == 1:
        return
    if settings.broadcast_backend_url.startswith("memory://"):
        raise WorkersRefused(
            f"--workers {workers} needs a shared BROADCAST_URL (redis:// or postgres://): with "
            "memory:// an event published in one worker would not reach subscriptions on the "
            "others"
        )
    url = settings.database_url
    if url.startswith("sqlite") and (":memory:" in url or url.endswith("://")):
        raise WorkersRefused(
            f"--workers {workers} needs a database file or PostgreSQL: an in-memory SQLite "
            "database would be a different, empty database in every worker"
        )


def uvicorn_config(
    app: Any, settings: Settings, host: str, port: int, **options: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if sys.platform != "win32" else "auto",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=settings.websocket_max_message_bytes,
        ws_per_message_deflate=settings.websocket_per_message_deflate,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        **options,
    )


# CPython's defaults (700, 10, 10) collect the youngest generation every 700 allocations net
# and the middle one every 7,000; a server holding thousands of websockets keeps millions of
# live objects, and with them B5 (10,000 dashboards) spent 50 of its 70 CPU seconds in the
# collector, with pauses of several seconds (bench/README.md, B5). Fewer, larger collections.
GC_THRESHOLDS = (100_000, 20, 10)


def tune_garbage_collector() -> None:
    """Everything built so far (modules, the schema, the app) lives as long as the process:
    freezing it keeps every later collection from walking it again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def server(settings: Settings, host: str, port: int) -> Server:
    """The app and the server of one process (a single `casetasks serve`, or one worker)."""
    from casetasks import logs
    from casetasks.app import create_app

    logs.configure(settings.log_level)
    app = create_app(settings)
    tune_garbage_collector()
    config = uvicorn_config(app, settings, host, port)
    return Server(config, app.state.websockets, settings.shutdown_timeout_seconds)


class WorkerProcess(multiprocess.Process):
    """uvicorn's worker process, running casetasks' Server (built in the worker, from the
    environment's settings) instead of a plain uvicorn.Server."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = server(get_settings(), self.config.host, self.config.port)
        return self._server

    def pong(self) -> None:
        """The supervisor's health check, answered from its own thread while the main thread
        may still be building the app (which takes a while): not started yet, but alive."""
        self.child_conn.recv()
        built = self._server
        self.child_conn.send(built is not None and built.started)


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """Blocks until SIGTERM or SIGINT has stopped every worker."""
    from casetasks import logs

    check(settings, workers)
    logs.configure(settings.log_level)
    # The import string is what uvicorn would load; WorkerProcess builds the app itself.
    config = uvicorn_config(
        "casetasks.app:create_app", settings, host, port, factory=True, workers=workers
    )
    sock = config.bind_socket()
    # The supervisor makes its workers by this module-level name (this process only
    # supervises, it runs no app).
    multiprocess.Process = WorkerProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
