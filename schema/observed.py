"""Each GraphQL query and mutation counted and timed for /metrics (casetasks/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from casetasks.metrics import outcome


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        execution = self.execution_context
        services = getattr(execution.context, "services", None)
        metrics = getattr(services, "metrics", None)
        if metrics is None:
            return
        try:
            kind = execution.operation_type
        except Exception:  # a document that did not parse has no operation
            kind = None
        if kind == OperationType.SUBSCRIPTION:
            return  # counted while they listen: casetasks_subscriptions_active
        errors = execution.result.errors if execution.result is not None else None
        metrics.observe_operation(
            execution.operation_name, outcome(errors), time.perf_counter() - started
        )
