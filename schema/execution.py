"""The executor graphql-core runs operations with: Strawberry's, with two changes for
subscription events.

A leak: graphql-core 3.3 executes each subscription event on a shallow copy of the
subscription's executor (`build_per_event_executor`), so every event's copy writes into the one
memo of collected subfields the subscription holds. The memo is keyed by the identity of each
event's own field lists and keeps those lists alive, so it never serves a later event: it only
grows, by every object selection of every event, for as long as the dashboard stays subscribed.
With 10,000 dashboards that was millions of objects for the collector to walk (bench/README.md,
B5). Each event's executor gets its own memo, which still serves lists of objects within it.

One execution per audience: the dashboards an event wakes are handed the same row objects
(subscriptions/shared_reads.py), and the dashboards of one signed-in person running the same
document with the same variables see the same thing (what a field shows depends on the viewer,
and StaffViewer names the sign-in). So an event's result is remembered for as long as its row
lives, keyed by document, operation, variables and viewer; a result with errors is not.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Hashable
from functools import partial
from inspect import isawaitable
from typing import Any, TypeGuard

from graphql import ExecutionResult
from graphql.pyutils.ref_map import RefMap
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# A result computed for an audience, or its execution under way.
Known = ExecutionResult | asyncio.Task[Any]
# id(row) -> what was computed for the row, per audience; an entry goes with its row (a result
# does not hold the row; an execution under way does until it settles).
_MEMOS: dict[int, dict[Hashable, Known]] = {}


class Stats:
    """Observed by tests and the bench: events executed, and events answered from memory."""

    executed = 0
    shared = 0


def _results_of(row: Any) -> dict[Hashable, Known] | None:
    """What was computed for `row`, kept as long as the row lives; None when the row cannot be
    weakly referenced (a dict, a number), so nothing is kept for it."""
    key = id(row)
    memo = _MEMOS.get(key)
    if memo is None:
        try:
            weakref.finalize(row, _MEMOS.pop, key, None)
        except TypeError:
            return None
        memo = _MEMOS[key] = {}
    return memo


def _reusable(result: object) -> TypeGuard[ExecutionResult]:
    return isinstance(result, ExecutionResult) and not result.errors and not result.extensions


def _settle(results: dict[Hashable, Known], audience: Hashable, task: asyncio.Task[Any]) -> None:
    """A finished execution's result is kept; a failed one is forgotten, so that each dashboard
    gets its own errors."""
    if not task.cancelled() and task.exception() is None and _reusable(task.result()):
        results[audience] = task.result()
    elif results.get(audience) is task:
        del results[audience]


_UNKEYED = object()


class CasetasksExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _event = False
    # The document, operation and variables of a subscription, the same for all its events:
    # made once, before its first event's executor is copied from it.
    _operation_key: Any = _UNKEYED

    def build_per_event_executor(self, payload: Any) -> CasetasksExecutionContext:
        if self._operation_key is _UNKEYED:
            self._operation_key = self._key_of_operation()
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, CasetasksExecutionContext)
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        executor._event = True
        return executor

    def _key_of_operation(self) -> tuple[str, str | None, str] | None:
        location = self.operation.loc
        if location is None:
            return None
        try:
            values = self.variable_values
            variables = json.dumps(getattr(values, "coerced", values), sort_keys=True)
        except (TypeError, ValueError):
            return None
        name = self.operation.name.value if self.operation.name else None
        return (location.source.body, name, variables)

    def _audience(self) -> Hashable | None:
        viewer = getattr(self.context_value, "viewer", None)
        operation = self._operation_key
        if viewer is None or operation is None or operation is _UNKEYED:
            return None
        return (*operation, viewer)

    def execute_operation(self, serially: bool | None = None) -> Any:
        if not self._event:
            return super().execute_operation(serially)
        audience = self._audience()
        results = None if audience is None else _results_of(self.root_value)
        if results is None:
            return super().execute_operation(serially)
        known = results.get(audience)
        if isinstance(known, ExecutionResult):
            Stats.shared += 1
            return known
        if known is not None:
            Stats.shared += 1
            return self._shared(known, serially)
        Stats.executed += 1
        result = super().execute_operation(serially)
        if not isawaitable(result):
            if _reusable(result):
                results[audience] = result
            return result
        # Its own task, so that a dashboard closed meanwhile cancels only its own wait.
        task = asyncio.ensure_future(result)
        results[audience] = task
        task.add_done_callback(partial(_settle, results, audience))
        return asyncio.shield(task)

    async def _shared(self, execution: asyncio.Task[Any], serially: bool | None) -> Any:
        """The result of the same execution under way for another dashboard, or this
        dashboard's own where that one failed."""
        try:
            result = await asyncio.shield(execution)
        except asyncio.CancelledError:
            if execution.cancelled():
                return await self._own(serially)
            raise
        except Exception:
            return await self._own(serially)
        return result if _reusable(result) else await self._own(serially)

    async def _own(self, serially: bool | None) -> Any:
        Stats.executed += 1
        result = super().execute_operation(serially)
        return await result if isawaitable(result) else result
