"""The HTTP edge, as pure ASGI middleware: what every request passes before the app sees it.

- A request body above the cap is refused with 413: from Content-Length before any byte is read,
  or, for a chunked body, as soon as the running total passes the cap (never buffering more).
- A POST must carry JSON (application/json or an application/*+json type); anything else is
  refused with 415, so a browser form (text/plain, urlencoded, multipart) cannot post a mutation.
- The app runs in a task of its own. When the client goes away (http.disconnect) or the request
  outlives its time budget before its answer starts, that task is cancelled: its database work
  ends and its session goes back to the pool. An expired budget is answered with 503 and
  extensions.code TIMEOUT, a request the server's shutdown could not wait for with 503 and
  SHUTTING_DOWN.
- Every response carries security headers and X-Request-ID; an error escaping the app is logged
  with that id and answered as INTERNAL with the id in extensions.requestId, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from contextvars import Context
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casetasks.logs import loggable_path
from casetasks.request_ids import context_for, new_request_id

log = logging.getLogger("casetasks.http")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# JSON loads nothing and is framed by no one. A page that needs more (GraphiQL, /dashboard)
# sends its own policy, which is kept; any other page only forbids framing.
JSON_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = b"frame-ancestors 'none'"


def page_policy(
    script_hashes: Sequence[str] = (), inline_styles: bool = False, data_fonts: bool = False
) -> str:
    """The policy of a page served from this origin: its own files, the inline scripts given by
    hash ('sha256-...'), connections to this server only ('self' covers ws: and wss: to the same
    host and port), data: images; nothing framed, posted or based elsewhere."""
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
            "img-src 'self' data:",
            *(["font-src 'self' data:"] if data_fonts else []),
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    time_budget_seconds: float


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _ClientGone(Exception):
    pass


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def error_body(code: str, message: str, request_id: str) -> bytes:
    """The GraphQL error shape, for answers given before (or instead of) GraphQL execution."""
    error = {"message": message, "extensions": {"code": code, "requestId": request_id}}
    return json.dumps({"data": None, "errors": [error]}).encode()


def _with_edge_headers(
    headers: list[tuple[bytes, bytes]], request_id: str
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    added = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if b"content-security-policy" not in present:
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        policy = PAGE_POLICY if content_type.startswith(b"text/html") else JSON_POLICY
        added.append((b"content-security-policy", policy))
    added.append((b"x-request-id", request_id.encode()))
    return [*headers, *added]


class HttpGuard:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        context = context_for(request_id)
        if scope["type"] == "websocket":
            # Its subscriptions' masked errors carry the connection's id.
            await asyncio.create_task(_call(self.app, scope, receive, send), context=context)
            return
        await _Exchange(self.app, self.limits, scope, receive, send, request_id, context).run()


async def _call(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    await app(scope, receive, send)


class _Exchange:
    """One HTTP request and its answer."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Limits,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        context: Context,
    ) -> None:
        self.app = app
        self.limits = limits
        self.scope = scope
        self.receive = receive
        self._send = send
        self.request_id = request_id
        self.context = context
        self.started = False
        self.answered = False
        self.budget: asyncio.Timeout | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.answered = True
        elif message["type"] == "http.response.start":
            self.started = True
            if self.budget is not None:  # the work is done; sending a large file may take longer
                self.budget.reschedule(None)
            headers = list(message.get("headers", []))
            message = {**message, "headers": _with_edge_headers(headers, self.request_id)}
        await self._send(message)

    async def run(self) -> None:
        try:
            async with asyncio.timeout(self.limits.time_budget_seconds) as budget:
                self.budget = budget
                try:
                    self.check_headers()
                    body = await self.read_body()
                    await self.serve(body)
                finally:
                    self.budget = None  # answers given below are outside the budget
        except _Refused as refused:
            await self.answer(refused.status, refused.code, refused.message, close=True)
        except _ClientGone:
            log.info("client went away while sending", extra=self.fields())
        except TimeoutError:
            if not budget.expired():
                raise
            log.warning("request stopped: over its time budget", extra=self.fields())
            if not self.started:
                seconds = f"{self.limits.time_budget_seconds:g}"
                message = f"The request ran longer than {seconds} s and was stopped"
                await self.answer(503, "TIMEOUT", message, close=True)
        except asyncio.CancelledError:
            # The server's shutdown ran out of time for this request (its work is cancelled by
            # now). This is the outermost layer of the request's task, which ends either way:
            # answer in the GraphQL error shape, rather than the server's plain 500 and traceback.
            log.warning("request cancelled: the server is shutting down", extra=self.fields())
            if self.started:
                raise
            await self.answer(503, "SHUTTING_DOWN", "The server is shutting down", close=True)
        except Exception:
            log.exception("unexpected error", extra=self.fields())
            if self.started:
                raise
            await self.answer(500, "INTERNAL", "Internal error", close=True)

    def fields(self) -> dict[str, object]:
        return {
            "fields": {
                "request_id": self.request_id,
                "method": self.scope.get("method"),
                "path": loggable_path(self.scope.get("path")),
            }
        }

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope.get("headers", []):
            if key.lower() == name:
                return bytes(value).decode("latin-1")
        return None

    def check_headers(self) -> None:
        if self.scope.get("method") == "POST" and not is_json(self.header(b"content-type") or ""):
            raise _Refused(
                415, "UNSUPPORTED_MEDIA_TYPE", "Send GraphQL requests as application/json"
            )
        length = self.header(b"content-length")
        declared = length.strip() if length is not None else ""
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise self.too_large()

    def too_large(self) -> _Refused:
        cap = self.limits.max_body_bytes
        return _Refused(413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {cap} bytes")

    async def read_body(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone()
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.limits.max_body_bytes:
                raise self.too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def serve(self, body: bytes) -> None:
        """Runs the app on the read body while watching for the client going away."""
        gone = asyncio.Event()
        delivered = False

        async def app_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        work = asyncio.create_task(
            _call(self.app, self.scope, app_receive, self.send), context=self.context
        )
        watch = asyncio.create_task(self._next_message())
        try:
            await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                gone.set()  # the app, should it ask, hears of the disconnect too
                if not self.answered:
                    log.info("client went away: request cancelled", extra=self.fields())
                    return
                # Answered already: what the app still does (background tasks) is not abandoned.
            await work
        finally:
            watch.cancel()
            await _cancelled(work)

    async def _next_message(self) -> Message:
        return await self.receive()

    async def answer(self, status: int, code: str, message: str, close: bool) -> None:
        body = error_body(code, message, self.request_id)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if close:  # the body may be unread: the connection cannot carry another request
            headers.append((b"connection", b"close"))
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancels the task and waits until it has ended (its sessions closed)."""
    if task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.exception("error while cancelling a request")
