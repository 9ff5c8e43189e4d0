"""Planned reads: a query the read planner covers is answered from one SQL statement.

Runs after Admission (limits, token, rate budget), so a planned query is admitted exactly like
any other; it only replaces field-by-field execution. In "check" mode the query also runs field
by field and any difference fails it (logged with both answers).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import execute
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers import planner
from resolvers.context import Context
from schema.admission import masked_failure

log = logging.getLogger("casetasks.planner")

# How queries were answered in this process: "planned", "declined: <why>", "not found".
OUTCOMES: Counter[str] = Counter()


class PlannerMismatch(Exception):
    """The planned answer differs from the field-by-field one (check mode)."""


class PlannedReads(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context):
                await context.release()

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            not isinstance(context, Context)
            or context.services.planner == "off"
            or execution.operation_type is not OperationType.QUERY
        ):
            yield
            return
        try:
            data = await self._planned(context)
            if data is not None and context.services.planner == "check":
                await self._compare(context, data)
        except Exception as error:
            raise masked_failure(context, error, "a planned query failed") from None
        if data is not None:
            execution.result = GraphQLExecutionResult(data=data, errors=None)
        yield

    async def _planned(self, context: Context) -> dict[str, Any] | None:
        execution = self.execution_context
        assert execution.graphql_document is not None
        viewer = context.viewer
        engine = context.services.session_factory.kw["bind"]
        dialect = engine.dialect.name
        try:
            planned = planner.plan(
                execution.schema._schema,
                execution.graphql_document,
                execution.variables,
                execution.operation_name,
                viewer,
                context.clock.now(),
                context.today(viewer.provider_timezone) if viewer is not None else None,
                dialect,
            )
        except planner.Declined as reason:
            log.debug("field by field: %s", reason)
            OUTCOMES[f"declined: {reason}"] += 1
            return None
        try:
            text = await planner.run(await context.connection(), dialect, planned)
        except planner.Declined as reason:
            log.debug("field by field: %s", reason)
            OUTCOMES[f"declined: {reason}"] += 1
            return None
        data: dict[str, Any] = orjson.loads(text)
        if any(data.get(key) is None for key in planned.needs_value):
            OUTCOMES["not found"] += 1
            return None  # not found, or not the viewer's: the field-by-field path says which
        OUTCOMES["planned"] += 1
        return data

    async def _compare(self, context: Context, planned: dict[str, Any]) -> None:
        execution = self.execution_context
        assert execution.graphql_document is not None
        result = execute(
            execution.schema._schema,
            execution.graphql_document,
            context_value=context,
            variable_values=execution.variables,
            operation_name=execution.operation_name,
        )
        if not isinstance(result, GraphQLExecutionResult):
            result = await result
        errors = [error.formatted for error in result.errors or []]
        expected = json.dumps(result.data)
        got = json.dumps(planned)
        if errors or expected != got:
            log.error(
                "planned answer differs\nquery: %s\nvariables: %s\nfield by field: %s %s\n"
                "planned:        %s",
                execution.query,
                execution.variables,
                expected,
                errors,
                got,
            )
            raise PlannerMismatch("the planned answer differs from the field-by-field one")
