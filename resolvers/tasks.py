"""Task operations: open a session (a unit of work for changes), call the service, return rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models import Task, TaskSeries
from resolvers.changes import change
from resolvers.context import Context
from services import outreach, task_queries, tasks
from services import series as series_service
from services import workload as workload_service
from services.task_forms import ChangeScope, NewTask, PostponeBy, TaskEdit
from services.validation import DateInput


async def task_page(
    ctx: Context,
    task_filter: task_queries.TaskFilter,
    order: task_queries.TaskOrder,
    first: int | None,
    after: str | None,
) -> task_queries.TaskPage:
    async with ctx.session_factory() as session:
        return await task_queries.list_provider_tasks(
            session, ctx.viewer, ctx.clock, task_filter, order, first, after
        )


async def my_tasks(
    ctx: Context, include_completed: bool, first: int | None, after: str | None
) -> task_queries.TaskPage:
    async with ctx.session_factory() as session:
        return await task_queries.list_my_tasks(
            session, ctx.viewer, ctx.clock, include_completed, first, after
        )


async def task(ctx: Context, task_id: int) -> Task:
    async with ctx.session_factory() as session:
        return await task_queries.get_task(session, ctx.viewer, task_id)


async def create_task(ctx: Context, new: NewTask) -> Task:
    async with change(ctx) as session:
        return await tasks.create_task(
            session, ctx.viewer, ctx.clock, new, ctx.services.series_lead_days
        )


async def update_task(
    ctx: Context,
    task_id: int,
    edit: TaskEdit,
    expected_version: int | None,
    scope: ChangeScope = ChangeScope.THIS,
) -> Task:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.update_task(
            session,
            ctx.viewer,
            ctx.clock,
            task_id,
            edit,
            expected_version,
            scope,
            ctx.services.series_lead_days,
        )


async def postpone_task(
    ctx: Context,
    task_id: int,
    by: PostponeBy,
    custom_date: DateInput | None,
    expected_version: int | None,
) -> Task:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.postpone_task(
            session, ctx.viewer, ctx.clock, task_id, by, custom_date, expected_version
        )


async def reassign_task(
    ctx: Context,
    task_id: int,
    responsible_ids: Sequence[int],
    expected_version: int | None,
    assigned_to_client: bool | None,
) -> Task:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.reassign_task(
            session,
            ctx.viewer,
            ctx.clock,
            task_id,
            responsible_ids,
            expected_version,
            assigned_to_client,
        )


async def complete_task(ctx: Context, task_id: int, expected_version: int | None) -> Task:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.complete_task(session, ctx.viewer, ctx.clock, task_id, expected_version)


async def reopen_task(ctx: Context, task_id: int, expected_version: int | None) -> Task:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.reopen_task(session, ctx.viewer, ctx.clock, task_id, expected_version)


async def delete_task(
    ctx: Context, task_id: int, scope: ChangeScope = ChangeScope.THIS
) -> list[int]:
    ctx.forget(tasks=[task_id])
    async with change(ctx) as session:
        return await tasks.delete_task(session, ctx.viewer, task_id, scope)


async def series(ctx: Context, series_id: int) -> TaskSeries:
    async with ctx.session_factory() as session:
        return await series_service.get_series(session, ctx.viewer, series_id)


async def upcoming(ctx: Context, item: TaskSeries, first: int) -> list[date]:
    async with ctx.session_factory() as session:
        return await series_service.upcoming(session, item, ctx.clock, first)


async def occurrences(
    ctx: Context, series_id: int, include_completed: bool, first: int | None, after: str | None
) -> task_queries.TaskPage:
    async with ctx.session_factory() as session:
        return await task_queries.list_series_occurrences(
            session, ctx.viewer, ctx.clock, series_id, include_completed, first, after
        )


async def record_employment(
    ctx: Context, client_id: int, employer: str | None, start_date: DateInput | None
) -> outreach.EmploymentResult:
    async with change(ctx) as session:
        return await outreach.record_employment(
            session, ctx.viewer, ctx.clock, client_id, employer, start_date
        )


async def end_employment(
    ctx: Context, employment_id: int, end_date: DateInput | None, cancel_remaining: bool
) -> outreach.EmploymentResult:
    async with change(ctx) as session:
        return await outreach.end_employment(
            session, ctx.viewer, employment_id, end_date, cancel_remaining
        )


async def workload(ctx: Context, due_within_days: int) -> workload_service.Workload:
    async with ctx.session_factory() as session:
        return await workload_service.workload(session, ctx.viewer, ctx.clock, due_within_days)
