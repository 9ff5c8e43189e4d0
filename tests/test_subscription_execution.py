"""Each subscription event is executed without leaving anything behind on the subscription."""

from __future__ import annotations

import asyncio
import gc
import weakref
from inspect import isawaitable
from types import SimpleNamespace
from typing import Any

from graphql import ExecutionResult, build_schema, parse
from graphql.execution import Executor

from models import Notification as NotificationRow
from models import NotificationKind
from models import Task as TaskRow
from schema import execution, subscription
from schema.execution import CasetasksExecutionContext

SCHEMA = build_schema(
    """
    type Query { ping: Int }
    type Subscription { news: News }
    type News { id: Int, tags: [Tag] }
    type Tag { name: String, owner: Owner }
    type Owner { name: String }
    """
)
DOCUMENT = parse("subscription { news { id tags { name owner { name } } } }")


def _events(executor: Executor, count: int) -> list[Any]:
    results = []
    for number in range(count):
        payload = {"news": {"id": number, "tags": [{"name": "a", "owner": {"name": "o"}}] * 3}}
        result = executor.build_per_event_executor(payload).execute_operation(False)
        assert isinstance(result, ExecutionResult) and not result.errors
        results.append(result.data)
    return results


def test_events_leave_nothing_on_the_subscriptions_executor() -> None:
    executor = CasetasksExecutionContext.build(SCHEMA, DOCUMENT)
    assert isinstance(executor, CasetasksExecutionContext)
    results = _events(executor, 50)
    assert results[7] == {"news": {"id": 7, "tags": [{"name": "a", "owner": {"name": "o"}}] * 3}}
    assert len(executor._relevant_sub_fields) == 0


def test_graphql_cores_own_executor_still_keeps_every_events_fields() -> None:
    """Why CasetasksExecutionContext exists; when this fails, graphql-core has fixed the leak
    and schema/execution.py can go."""
    executor = Executor.build(SCHEMA, DOCUMENT)
    assert isinstance(executor, Executor)
    _events(executor, 50)
    assert len(executor._relevant_sub_fields) >= 50


ASYNC_DOCUMENT = parse("subscription { news { id } }")


class _News:
    def __init__(self, number: int, calls: list[int], failures: int = 0) -> None:
        self.number = number
        self.calls = calls
        self.failures = failures

    async def id(self, _info: Any) -> int:
        self.calls.append(self.number)
        await asyncio.sleep(0)
        if len(self.calls) <= self.failures:
            raise RuntimeError("the database is down")
        return self.number


class _Event:
    """A row-like payload: weakly referenceable, as ORM rows are."""

    def __init__(self, news: _News) -> None:
        self.news = news


async def _run(executor: Executor, payload: _Event, dashboards: int) -> list[ExecutionResult]:
    async def one() -> ExecutionResult:
        result = executor.build_per_event_executor(payload).execute_operation(False)
        return await result if isawaitable(result) else result  # type: ignore[no-any-return]

    return await asyncio.gather(*(one() for _ in range(dashboards)))


async def test_dashboards_of_one_viewer_share_an_events_execution_under_way() -> None:
    calls: list[int] = []
    event = _Event(_News(7, calls))
    one = CasetasksExecutionContext.build(
        SCHEMA, ASYNC_DOCUMENT, context_value=SimpleNamespace(viewer="first")
    )
    other = CasetasksExecutionContext.build(
        SCHEMA, ASYNC_DOCUMENT, context_value=SimpleNamespace(viewer="second")
    )
    assert isinstance(one, Executor) and isinstance(other, Executor)
    results = await _run(one, event, 3) + await _run(other, event, 2)
    assert [r.data for r in results] == [{"news": {"id": 7}}] * 5
    assert calls == [7, 7]  # once per viewer
    assert [r.data for r in await _run(one, event, 1)] == [{"news": {"id": 7}}]
    assert calls == [7, 7]  # remembered for as long as the row lives


async def test_a_failed_execution_is_not_shared() -> None:
    calls: list[int] = []
    event = _Event(_News(8, calls, failures=1))
    executor = CasetasksExecutionContext.build(
        SCHEMA, ASYNC_DOCUMENT, context_value=SimpleNamespace(viewer="first")
    )
    assert isinstance(executor, Executor)
    first, *others = await _run(executor, event, 3)
    assert first.errors and first.data == {"news": {"id": None}}
    # The others waited for it, then ran their own.
    assert [r.data for r in others] == [{"news": {"id": 8}}] * 2 and not any(
        r.errors for r in others
    )
    assert len(calls) == 3


def test_what_is_remembered_for_a_row_goes_with_the_row() -> None:
    executor = CasetasksExecutionContext.build(
        SCHEMA, DOCUMENT, context_value=SimpleNamespace(viewer="first")
    )
    assert isinstance(executor, Executor)
    gc.collect()  # the rows of the tests before
    before = len(execution._MEMOS)
    event = _Event({"id": 1, "tags": []})  # type: ignore[arg-type]
    result = executor.build_per_event_executor(event).execute_operation(False)
    assert isinstance(result, ExecutionResult) and result.data == {"news": {"id": 1, "tags": []}}
    assert len(execution._MEMOS) == before + 1
    gone = weakref.ref(event)
    del event
    gc.collect()
    assert gone() is None and len(execution._MEMOS) == before


def test_alerts_kept_for_sharing_are_bounded_and_let_their_rows_go() -> None:
    first = NotificationRow(recipient_id=1, kind=NotificationKind.UNASSIGNED_TASK, message="m")
    task = TaskRow(name="Referral")
    alert = subscription._alert_of(first, task)
    assert subscription._alert_of(first, task) is alert  # shared while kept
    gone = weakref.ref(first)
    del first, alert
    for _ in range(subscription._ALERTS.size):
        row = NotificationRow(recipient_id=1, kind=NotificationKind.UNASSIGNED_TASK, message="m")
        subscription._alert_of(row, task)
    gc.collect()
    assert len(subscription._ALERTS) == subscription._ALERTS.size and gone() is None
