"""Each subscription event is executed without leaving anything behind on the subscription."""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult, build_schema, parse
from graphql.execution import Executor

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
