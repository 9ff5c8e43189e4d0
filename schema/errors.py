"""Errors as the contract promises: user errors in payloads, everything else as a code.

Expected domain errors become GraphQL errors with extensions.code; anything unexpected is logged
with its traceback and reaches the client only as INTERNAL, with no internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from casetasks.request_ids import current_request_id
from schema.enums import UserErrorCode
from services.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    RateLimited,
    Unauthenticated,
)

log = logging.getLogger("casetasks.errors")


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path of the input field at fault, e.g. ["input", "dueDate"]; '
        "null for the input as a whole."
    )
    code: UserErrorCode
    message: str = strawberry.field(
        description="Plain words for the person at the form, e.g. 'Task Name must be entered'."
    )


def user_errors(problems: list[Problem]) -> list[UserError]:
    return [
        UserError(
            field=list(p.field) if p.field else None,
            code=UserErrorCode(p.code.value),
            message=p.message,
        )
        for p in problems
    ]


def _code_for(error: DomainError) -> tuple[str, str]:
    if isinstance(error, NotFound):
        return "NOT_FOUND", "Not found"
    if isinstance(error, Forbidden):
        return "FORBIDDEN", str(error)
    if isinstance(error, Unauthenticated):
        return "UNAUTHENTICATED", str(error)
    if isinstance(error, BadRequest | InvalidInput):
        return "BAD_USER_INPUT", str(error)
    if isinstance(error, RateLimited):
        return "RATE_LIMITED", str(error)
    return "INTERNAL", "Internal error"


# Strawberry's refusals of the request itself (no query, no such operation, a subscription
# over HTTP): answers for the client, raised before execution.
_REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def is_unexpected(error: GraphQLError) -> bool:
    """A failure of ours: raised in a field (it has a path) or outside any place in the document,
    as a subscription's event stream failing (no nodes). A variable's bad value points at the
    variable's definition, and its message is for the client."""
    original = error.original_error
    if original is None or isinstance(original, (DomainError, *_REQUEST_ERRORS)):
        return False
    return error.path is not None or not error.nodes


_ECHOED_VALUE = re.compile(
    r"(got invalid value|non [a-z]+ value:|represent value:|, found) .*?(;|\.$|$)"
)


def _without_values(message: str) -> str:
    """graphql-core quotes the offending value back; it may be a password sent as a number."""
    return _ECHOED_VALUE.sub(
        lambda m: f"{m.group(1).rstrip(':')} (value not shown){m.group(2)}", message
    )


def convert(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        code, message = _code_for(original)
    elif is_unexpected(error):
        code, message = "INTERNAL", "Internal error"
    else:
        # The request itself is malformed: a syntax, validation or variable error.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "BAD_USER_INPUT")
        return GraphQLError(
            _without_values(error.message),
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions=extensions,
        )
    coded: dict[str, Any] = {"code": code}
    if code == "INTERNAL":  # the same id is in the log line holding the traceback
        coded["requestId"] = current_request_id()
    if isinstance(original, RateLimited):
        coded["retryAfter"] = original.retry_after
    return GraphQLError(
        message, error.nodes, error.source, error.positions, error.path, extensions=coded
    )


def _convert_all(result: object) -> None:
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [convert(e) for e in errors]  # type: ignore[attr-defined]


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        _convert_all(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription yields, before it reaches the websocket."""
        _convert_all(result)
        yield None
