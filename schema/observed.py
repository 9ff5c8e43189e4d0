"""Each GraphQL query and mutation counted and timed for /metrics (casetasks/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from casetasks.metrics import outcome


def finished(execution: ExecutionContext) -> tuple[OperationType | None, list[Any] | None]:
    """The operation's type (None for a document that did not parse) and its errors."""
    try:
        kind: OperationType | None = execution.operation_type
    except Exception:  # no operation to name
        kind = None
    return kind, execution.result.errors if execution.result is not None else None


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        execution = self.execution_context
        services = getattr(execution.context, "services", None)
        metrics = getattr(services, "metrics", None)
        if metrics is None:
            return
        kind, errors = finished(execution)
        if kind == OperationType.SUBSCRIPTION:
            return  # counted while they listen: casetasks_subscriptions_active
        metrics.observe_operation(
            execution.operation_name, outcome(errors), time.perf_counter() - started
        )


class OperationSpan(SchemaExtension):
    """One span per GraphQL operation, when traces are on (casetasks/tracing.py): its name,
    type and outcome; never the document or the variables, which can hold passwords."""

    def on_operation(self) -> Iterator[None]:
        from opentelemetry import trace

        tracer = trace.get_tracer("casetasks.graphql")
        with tracer.start_as_current_span("GraphQL operation") as span:
            yield
            execution = self.execution_context
            operation_type, errors = finished(execution)
            kind = operation_type.value if operation_type is not None else "unknown"
            name = execution.operation_name or "anonymous"
            span.update_name(f"GraphQL {kind} {name}")
            span.set_attribute("graphql.operation.type", kind)
            span.set_attribute("graphql.operation.name", name)
            span.set_attribute("graphql.outcome", outcome(errors))
            if errors:
                span.set_status(trace.StatusCode.ERROR)
