"""Caseload management: bulk changes, hand-over, skipped occurrences (a unit of work each)."""

from __future__ import annotations

from collections.abc import Sequence

from models import Task, TaskSeries
from resolvers.changes import change
from resolvers.context import Context
from services import bulk, handover, skips
from services.task_forms import PostponeBy
from services.validation import DateInput


async def reassign_tasks(
    ctx: Context, selection: bulk.Selection, responsible_ids: Sequence[int]
) -> list[Task]:
    ctx.forget(tasks=selection.ids)
    async with change(ctx) as session:
        return await bulk.reassign_tasks(session, ctx.viewer, ctx.clock, selection, responsible_ids)


async def postpone_tasks(
    ctx: Context, selection: bulk.Selection, by: PostponeBy, custom_date: DateInput | None
) -> list[Task]:
    ctx.forget(tasks=selection.ids)
    async with change(ctx) as session:
        return await bulk.postpone_tasks(session, ctx.viewer, ctx.clock, selection, by, custom_date)


async def complete_tasks(ctx: Context, selection: bulk.Selection) -> list[Task]:
    ctx.forget(tasks=selection.ids)
    async with change(ctx) as session:
        return await bulk.complete_tasks(session, ctx.viewer, ctx.clock, selection)


async def hand_over_caseload(
    ctx: Context, from_staff_id: int, to_staff_id: int, include_clients: bool
) -> handover.HandOver:
    async with change(ctx) as session:
        return await handover.hand_over_caseload(
            session, ctx.viewer, ctx.clock, from_staff_id, to_staff_id, include_clients
        )


async def skip_occurrence(ctx: Context, series_id: int, day: DateInput) -> TaskSeries:
    async with change(ctx) as session:
        return await skips.skip_occurrence(session, ctx.viewer, ctx.clock, series_id, day)


async def unskip_occurrence(ctx: Context, series_id: int, day: DateInput) -> TaskSeries:
    async with change(ctx) as session:
        return await skips.unskip_occurrence(
            session, ctx.viewer, ctx.clock, series_id, day, ctx.services.series_lead_days
        )
