"""Admitting a request: the document's limits, then who asks, then what they may still spend.

In this order, before any resolver runs: the parse stops at QueryLimits.max_tokens (parses are
cached); validation runs the shape rule first (verdicts are cached); page sizes and the cost
are worked out from the variables; only then is the bearer token looked up, the request's first
SQL statement; last, the cost is taken from the viewer's rate budget. Each refusal is a GraphQL
error with its own extensions.code; RATE_LIMITED also answers HTTP 429 with Retry-After.
Queries and mutations report their cost in extensions.cost.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Iterator
from functools import lru_cache
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, parse
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from casetasks.db import RETRY_AFTER_SECONDS, database_unavailable
from casetasks.request_ids import current_request_id
from resolvers.context import Context
from schema.cost import operation_cost
from schema.limits import QueryLimits, refusal, validation_rules
from services.errors import RateLimited
from services.rate_limit import rate_key
from services.recent import Recent

log = logging.getLogger("casetasks.limits")

TOO_MANY_TOKENS = "Document contains more than"


@lru_cache(maxsize=512)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


# Validation verdicts and costs, remembered by the query's text (the document is a function
# of it) rather than by the document: hashing a document walks its whole tree.
_VERDICTS: Recent[tuple[Any, ...], list[GraphQLError]] = Recent(512)
_COSTS: Recent[tuple[Any, ...], tuple[int | None]] = Recent(512)


def _refuse_for_a_while(context: Any, status: int, retry_after: int | None = None) -> None:
    """The HTTP status (and Retry-After) of a refused request; nothing over a websocket."""
    response = getattr(context, "response", None)
    if isinstance(response, Response):
        response.status_code = status
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)


def masked_failure(context: Any, error: Exception, what: str) -> GraphQLError:
    """What a failure before or instead of field execution answers: INTERNAL with the request
    id (also on the log line with the traceback); an outage is a fast 503 to retry."""
    request_id = current_request_id()
    if database_unavailable(error):
        log.warning("database unavailable (%s): %r", what, error)
        _refuse_for_a_while(context, 503, RETRY_AFTER_SECONDS)
        return refusal("INTERNAL", "Service unavailable", requestId=request_id)
    log.error(what, exc_info=error, extra={"fields": {"request_id": request_id}})
    _refuse_for_a_while(context, 500)
    return refusal("INTERNAL", "Internal error", requestId=request_id)


async def looked_up(context: Context, lookup: Awaitable[None]) -> None:
    """The request's token looked up (identify or verify); a failure is masked as INTERNAL."""
    try:
        await lookup
    except Exception as error:
        raise masked_failure(context, error, "looking up the request's token failed") from None


class Admission(SchemaExtension):
    def __init__(self, limits: QueryLimits | None = None) -> None:
        self.limits = limits or QueryLimits()
        self.cost: dict[str, Any] | None = None

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self.limits.max_tokens
        execution.validation_rules = (
            *validation_rules(self.limits),
            *execution.validation_rules,
        )
        yield
        result = execution.result
        if result is not None and result.errors:
            result.errors = [self._coded(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """A websocket's results leave before on_operation ends."""
        if result.errors:
            result.errors = [self._coded(error) for error in result.errors]
        yield None

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, RateLimited):
            _refuse_for_a_while(self.execution_context.context, 429, original.retry_after)
        if error.original_error is None and TOO_MANY_TOKENS in error.message:
            limit = self.limits.max_tokens
            return refusal(
                "MAX_TOKENS_EXCEEDED",
                f"The document has more than {limit} tokens; send a smaller one",
                maximum=limit,
            )
        return error

    def on_parse(self) -> Iterator[None]:
        """A cached parse. A failing one leaves the document to Strawberry's own parse, which
        reports the error the same way over HTTP and over a websocket."""
        execution = self.execution_context
        if execution.graphql_document is None and execution.query:
            try:
                execution.graphql_document = _parse(execution.query, self.limits.max_tokens)
            except GraphQLError as error:
                if TOO_MANY_TOKENS in error.message:
                    # Fail the second parse at once, not after max_tokens tokens again; the
                    # message is replaced (with the real limit) by _coded.
                    execution.parse_options["max_tokens"] = 1
        yield

    def on_validate(self) -> Iterator[None]:
        """Validation (the shape rule first), its verdict remembered by the query's text."""
        execution = self.execution_context
        document = execution.graphql_document
        if execution.query and document is not None and execution.validation_rules:
            schema = execution.schema._schema
            rules = tuple(execution.validation_rules)
            key = (id(schema), execution.query, rules)
            verdict = _VERDICTS.get(key)
            if verdict is None:
                verdict = validate_document(schema, document, rules)
                _VERDICTS.put(key, verdict)
            execution.pre_execution_errors = verdict
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        assert execution.graphql_document is not None
        try:
            cost = self._cost()
        except GraphQLError as refused:
            if refused.extensions and "cost" in refused.extensions:
                self._report(refused.extensions["cost"])
            raise
        if isinstance(context, Context):
            # A query the read planner may answer confirms the viewer in its own statement.
            provisional = (
                execution.operation_type is OperationType.QUERY
                and context.services.planner != "off"
            )
            await looked_up(context, context.identify(provisional))
            if cost is not None:
                await self._spend(context, cost)
        yield

    def _cost(self) -> int | None:
        """operation_cost, remembered by query text, operation and variables (a refusal is
        worked out again: it raises)."""
        execution = self.execution_context
        assert execution.graphql_document is not None
        schema = execution.schema._schema
        try:
            variables = orjson.dumps(execution.variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            variables = None  # not JSON (a caller in process): not remembered
        if execution.query is None:
            variables = None
        key = (id(schema), execution.query, execution.operation_name, variables, self.limits)
        remembered = _COSTS.get(key) if variables is not None else None
        if remembered is not None:
            return remembered[0]
        cost = operation_cost(
            schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
            self.limits,
        )
        if variables is not None:
            _COSTS.put(key, (cost,))
        return cost

    async def _spend(self, context: Context, cost: int) -> None:
        limiter = context.services.rate_limiter
        if limiter is None:
            self._report(cost)
            return
        key = rate_key(context.viewer, context.address)
        spent = limiter.spend(key, cost)
        if context.unverified:
            if spent.allowed:
                context.charged = (key, cost)  # moved if the planned statement finds otherwise
            else:
                # Refused from whose budget? The token's viewer as it is now, not as remembered
                # (a revoked token must not keep a person's budget empty).
                await looked_up(context, context.verify())
                spent = limiter.spend(rate_key(context.viewer, context.address), cost)
        self._report(cost, spent.remaining, limiter.points_per_second)
        if not spent.allowed:
            wait = max(1, math.ceil(spent.retry_after))
            _refuse_for_a_while(context, 429, wait)
            raise refusal(
                "RATE_LIMITED",
                f"This query costs {cost} points and {math.floor(spent.remaining)} are left; "
                f"try again in {wait} seconds",
                retryAfter=wait,
                cost=cost,
            )

    def _report(
        self, cost: int, remaining: float | None = None, restore_rate: float | None = None
    ) -> None:
        self.cost = {"requested": cost, "maximum": self.limits.max_cost}
        if remaining is not None:
            self.cost |= {"remaining": math.floor(remaining), "restoreRate": restore_rate}

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        try:
            streamed = self.execution_context.operation_type is OperationType.SUBSCRIPTION
        except RuntimeError:
            streamed = False
        return {} if streamed else {"cost": self.cost}
