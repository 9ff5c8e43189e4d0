"""Caseload management (contract v2): bulk changes, hand-over, skipped occurrences."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers import caseload as resolve_caseload
from schema.enums import PostponeBy
from schema.errors import UserError
from schema.ids import key_of
from schema.node import GraphQLInfo
from schema.payloads import attempt
from schema.series import TaskSeries
from schema.tasks import Task
from services import bulk
from services.task_forms import PostponeBy as DomainPostponeBy

_EXPECTED_VERSIONS = (
    "Optional: the version each task was read at, in the order of ids. A task changed since "
    "is a CONFLICT at its index, and nothing is saved."
)


@strawberry.input(description="(v2) 1 to 100 tasks of the viewer's provider.")
class ReassignTasksInput:
    ids: list[strawberry.ID]
    responsible_ids: list[strawberry.ID] = strawberry.field(
        description="Replaces Who's Responsible on every task; an empty list makes them Unassigned."
    )
    expected_versions: list[int | None] | None = strawberry.field(
        default=None, description=_EXPECTED_VERSIONS
    )


@strawberry.input(description="(v2)")
class PostponeTasksInput:
    ids: list[strawberry.ID]
    by: PostponeBy
    custom_date: date | None = None
    expected_versions: list[int | None] | None = strawberry.field(
        default=None, description=_EXPECTED_VERSIONS
    )


@strawberry.input(description="(v2)")
class CompleteTasksInput:
    ids: list[strawberry.ID]
    expected_versions: list[int | None] | None = strawberry.field(
        default=None, description=_EXPECTED_VERSIONS
    )


@strawberry.type(
    description="(v2) All or nothing: when any task cannot be changed, errors names each one "
    '(field ["input", "ids", "<index>"]) and nothing is saved.'
)
class TasksPayload:
    tasks: list[Task]
    errors: list[UserError]


@strawberry.input(description="(v2)")
class HandOverCaseloadInput:
    from_staff_id: strawberry.ID
    to_staff_id: strawberry.ID = strawberry.field(
        description="An active staff member of the same provider with Tasks permission."
    )
    include_clients: bool | None = strawberry.field(
        default=True, description="Also make toStaff the caseworker of fromStaff's clients."
    )


@strawberry.type(description="(v2)")
class HandOverCaseloadPayload:
    tasks: int = strawberry.field(
        description="Open tasks (outreach and occurrences included) now with toStaff "
        "responsible in place of fromStaff."
    )
    series: int = strawberry.field(
        description="Repeating tasks whose future occurrences now go to toStaff."
    )
    clients: int = strawberry.field(description="Clients whose caseworker is now toStaff.")
    errors: list[UserError]


@strawberry.input(description="(v2)")
class SkipOccurrenceInput:
    series_id: strawberry.ID
    date: date = strawberry.field(
        description="A scheduled date of the series not yet in the task list (an occurrence "
        "already there is deleted with deleteTask)."
    )


@strawberry.type(description="(v2)")
class TaskSeriesPayload:
    series: TaskSeries | None
    errors: list[UserError]


def _selection(ids: list[strawberry.ID], versions: list[int | None] | None) -> bulk.Selection:
    return bulk.Selection(ids=[key_of(i, "Task") for i in ids], expected_versions=versions)


def _tasks_payload(tasks: list[object] | None, errors: list[UserError]) -> TasksPayload:
    return TasksPayload(tasks=tasks or [], errors=errors)  # type: ignore[arg-type]


@strawberry.type
class CaseloadMutations:
    @strawberry.mutation(
        description="(v2) Staff with Tasks permission. One history event per task; notifies as "
        "reassignTask does."
    )
    async def reassign_tasks(self, info: GraphQLInfo, input: ReassignTasksInput) -> TasksPayload:
        tasks, errors = await attempt(
            resolve_caseload.reassign_tasks(
                info.context,
                _selection(input.ids, input.expected_versions),
                [key_of(i, "Staff") for i in input.responsible_ids],
            )
        )
        return _tasks_payload(tasks, errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="(v2) The same rules as postponeTask, for each task.")
    async def postpone_tasks(self, info: GraphQLInfo, input: PostponeTasksInput) -> TasksPayload:
        tasks, errors = await attempt(
            resolve_caseload.postpone_tasks(
                info.context,
                _selection(input.ids, input.expected_versions),
                DomainPostponeBy(input.by),
                input.custom_date,
            )
        )
        return _tasks_payload(tasks, errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="(v2)")
    async def complete_tasks(self, info: GraphQLInfo, input: CompleteTasksInput) -> TasksPayload:
        tasks, errors = await attempt(
            resolve_caseload.complete_tasks(
                info.context, _selection(input.ids, input.expected_versions)
            )
        )
        return _tasks_payload(tasks, errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="(v2) Administrators: when a caseworker leaves or goes on leave, moves their "
        "open tasks, the future occurrences of their repeating tasks and, optionally, their "
        "clients to another staff member, in one transaction."
    )
    async def hand_over_caseload(
        self, info: GraphQLInfo, input: HandOverCaseloadInput
    ) -> HandOverCaseloadPayload:
        moved, errors = await attempt(
            resolve_caseload.hand_over_caseload(
                info.context,
                key_of(input.from_staff_id, "Staff"),
                key_of(input.to_staff_id, "Staff"),
                input.include_clients is not False,
            )
        )
        if moved is None:
            return HandOverCaseloadPayload(tasks=0, series=0, clients=0, errors=errors)
        return HandOverCaseloadPayload(
            tasks=moved.tasks, series=moved.series, clients=moved.clients, errors=[]
        )

    @strawberry.mutation(
        description="(v2) Staff with Tasks permission: a scheduled date of a repeating task that "
        "should not become a task."
    )
    async def skip_occurrence(
        self, info: GraphQLInfo, input: SkipOccurrenceInput
    ) -> TaskSeriesPayload:
        series, errors = await attempt(
            resolve_caseload.skip_occurrence(
                info.context, key_of(input.series_id, "TaskSeries"), input.date
            )
        )
        return TaskSeriesPayload(series=series, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="(v2) Undoes skipOccurrence for a date that has not passed.")
    async def unskip_occurrence(
        self, info: GraphQLInfo, input: SkipOccurrenceInput
    ) -> TaskSeriesPayload:
        series, errors = await attempt(
            resolve_caseload.unskip_occurrence(
                info.context, key_of(input.series_id, "TaskSeries"), input.date
            )
        )
        return TaskSeriesPayload(series=series, errors=errors)  # type: ignore[arg-type]
