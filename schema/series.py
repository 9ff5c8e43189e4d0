"""Repeating tasks."""

from __future__ import annotations

from datetime import date

import strawberry

from models import TaskSeries as TaskSeriesRow
from resolvers import tasks as resolve_tasks
from schema.node import GraphQLInfo, Node, row_type_check
from schema.pages import TaskConnection
from schema.prefetch import node_fields, prefetch_tasks
from services import recurrence
from services.pagination import check_page_size


@strawberry.type(
    description="A repeating task. Each occurrence is a Task of kind REPEATING that appears in "
    "the task list on its scheduled date and is completed, postponed, reassigned or deleted on "
    "its own."
)
class TaskSeries(Node):
    is_type_of = row_type_check(TaskSeriesRow)
    name: str
    details: str | None

    @strawberry.field(
        description="The rule as RFC 5545 RRULE text, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO."
    )
    def rrule(self, root: strawberry.Parent[TaskSeriesRow]) -> str:
        return recurrence.rule_of(root.rrule)

    start_date: date
    until: date | None
    count: int | None

    @strawberry.field(
        description="The next scheduled dates from today on (occurrences not yet in the task "
        "list included)."
    )
    async def upcoming(
        self, root: strawberry.Parent[TaskSeriesRow], info: GraphQLInfo, first: int | None = 5
    ) -> list[date]:
        return await resolve_tasks.upcoming(info.context, root, check_page_size(first))

    @strawberry.field
    async def occurrences(
        self,
        root: strawberry.Parent[TaskSeriesRow],
        info: GraphQLInfo,
        include_completed: bool | None = True,
        first: int | None = 50,
        after: str | None = None,
    ) -> TaskConnection:
        page = await resolve_tasks.occurrences(
            info.context, root.id or 0, include_completed is not False, first, after
        )
        await prefetch_tasks(info.context, page.page.rows, node_fields(info))
        return TaskConnection.of(page.page, page.total_count)

    @strawberry.field(
        description="(v2) Scheduled dates that will not become tasks (skipOccurrence); upcoming "
        "leaves them out."
    )
    def skipped_dates(self, root: strawberry.Parent[TaskSeriesRow]) -> list[date]:
        return recurrence.skipped_of(root.rrule)
