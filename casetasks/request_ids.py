"""One id per HTTP request or websocket connection: in the X-Request-ID header, in the
extensions.requestId of a masked error, and in the log line that holds the traceback."""

from __future__ import annotations

import secrets
from contextvars import Context, ContextVar, copy_context

_current: ContextVar[str | None] = ContextVar("casetasks_request_id", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


def context_for(request_id: str) -> Context:
    """A context to run a request's task in: it and every task it starts see the id."""
    context = copy_context()
    context.run(_current.set, request_id)
    return context


def current_request_id() -> str:
    """The request's id; outside any request (a scheduler pass), a fresh one per call."""
    return _current.get() or new_request_id()


def request_id_in_progress() -> str | None:
    """The id of the request (or websocket connection) being served; None outside one."""
    return _current.get()
