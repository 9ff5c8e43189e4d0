"""Faults of the infrastructure, as the app answers them: the database unreachable or its pool
exhausted is a fast 503 (masked, with Retry-After), never a hang and never internals; and the
settings that bound every wait on the database and the broker."""

from __future__ import annotations

import logging

from sqlalchemy import exc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from casetasks.db import RETRY_AFTER_SECONDS, DatabaseLimits, database_unavailable
from casetasks.request_ids import current_request_id
from casetasks.settings import Settings
from subscriptions.hub import HubOptions

log = logging.getLogger("casetasks.errors")


def database_limits(settings: Settings) -> DatabaseLimits:
    return DatabaseLimits(
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_timeout=settings.database_connect_timeout_seconds,
        command_timeout=settings.database_command_timeout_seconds,
        plan_cache_mode=(
            None
            if settings.database_plan_cache_mode == "auto"
            else settings.database_plan_cache_mode
        ),
    )


def hub_options(settings: Settings) -> HubOptions:
    return HubOptions(
        heartbeat_interval=settings.broadcast_heartbeat_interval_seconds,
        heartbeat_timeout=settings.broadcast_heartbeat_timeout_seconds,
        reconnect_delay=settings.broadcast_reconnect_delay_seconds,
        reconnect_max_delay=settings.broadcast_reconnect_max_delay_seconds,
        queue_size=settings.subscription_queue_size,
    )


async def unavailable(request: Request, error: Exception) -> Response:
    """For errors that escape GraphQL execution (the token check before it): the database
    unreachable answers 503 at once; anything else goes on to the generic INTERNAL handler."""
    if request.scope["type"] != "http" or not database_unavailable(error):
        raise error
    log.warning("database unavailable for %s: %r", request.url.path, error)
    body = {
        "data": None,
        "errors": [{"message": "Service unavailable", "extensions": unavailable_extensions()}],
    }
    return JSONResponse(body, 503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unavailable_extensions() -> dict[str, str]:
    return {"code": "INTERNAL", "requestId": current_request_id()}


EXCEPTION_HANDLERS = {exc.SQLAlchemyError: unavailable, OSError: unavailable}
