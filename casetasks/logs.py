"""Structured logs: one JSON object per line, never a header, token or password."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casetasks.request_ids import request_id_in_progress


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        # Every line written while a request (or websocket) is served names it.
        if "request_id" not in entry and (request_id := request_id_in_progress()) is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Python's warnings would otherwise reach stderr as two plain-text lines.
    logging.captureWarnings(True)
    for noisy in ("uvicorn.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


access_log = logging.getLogger("casetasks.access")

_CALENDAR = "/calendar/"


def loggable_path(path: str | None) -> str | None:
    """The path as logs may show it: a calendar feed's address is its secret."""
    if path is not None and path.startswith(_CALENDAR):
        return _CALENDAR + "<secret>.ics"
    return path


class AccessLog:
    """Method, path (no query string), status and duration of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        request_id = None

        async def send_and_note(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                request_id = dict(message.get("headers", [])).get(b"x-request-id")
            elif message["type"] == "websocket.accept":
                status = 101
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            status = status or 500  # answered by the error handler outside this middleware
            raise
        finally:
            client = scope.get("client")
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope.get("method", "WS"),
                        "path": loggable_path(scope.get("path")),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client[0] if client else None,
                        "request_id": request_id.decode() if request_id else None,
                    }
                },
            )
