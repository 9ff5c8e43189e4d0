"""Skipping one scheduled date of a repeating task (a public holiday) without ending it.

The skipped date goes into the stored rule's EXDATE, so every reader of the rule (the
scheduler on every instance, upcoming, a THIS_AND_FOLLOWING edit) leaves it out. Skipping
takes the series' row lock, as the scheduler does before making occurrences: a date is either
made first (and then is in the task list, an error here) or skipped first (and never made).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Task, TaskSeries
from services import permissions, recurrence
from services import series as series_service
from services.clock import Clock, today_in
from services.errors import Problems
from services.task_checks import check_date_from_today
from services.validation import DateInput
from services.viewer import Viewer


async def _locked_series(
    session: AsyncSession, viewer: Viewer | None, clock: Clock, series_id: int
) -> tuple[TaskSeries, date]:
    """The series under its row lock, and its provider's today."""
    series = await series_service.get_series(session, viewer, series_id, lock=True)
    staff = permissions.require_tasks(viewer)
    return series, today_in(clock, staff.provider_timezone)


def _checked_date(problems: Problems, day: DateInput | None, today: date) -> date | None:
    return check_date_from_today(
        problems,
        "date",
        day,
        today,
        missing="Choose the date",
        label="The date",
        past="The date has passed",
    )


async def _occurrence_on(session: AsyncSession, series: TaskSeries, day: date) -> int | None:
    return await session.scalar(
        select(col(Task.id)).where(
            col(Task.series_id) == series.id, col(Task.scheduled_date) == day
        )
    )


async def skip_occurrence(
    session: AsyncSession, viewer: Viewer | None, clock: Clock, series_id: int, day: DateInput
) -> TaskSeries:
    series, today = await _locked_series(session, viewer, clock, series_id)
    problems = Problems()
    wanted = _checked_date(problems, day, today)
    skipped = recurrence.skipped_of(series.rrule)
    if wanted is None:
        pass
    elif wanted in skipped:
        problems.invalid("date", f"{wanted.isoformat()} is skipped already")
    elif series.ended or not recurrence.produces(series.rrule, series.start_date, wanted):
        problems.invalid(
            "date", f"{wanted.isoformat()} is not a scheduled date of this repeating task"
        )
    elif await _occurrence_on(session, series, wanted) is not None:
        problems.invalid(
            "date",
            f"The occurrence of {wanted.isoformat()} is in the task list already; "
            "delete it there (deleteTask) instead",
        )
    elif len(skipped) >= recurrence.MAX_SKIPPED:
        problems.invalid(
            "date", f"A repeating task can skip at most {recurrence.MAX_SKIPPED} dates"
        )
    problems.raise_any()
    assert wanted is not None
    series.rrule = recurrence.with_skipped(series.rrule, [*skipped, wanted])
    await session.flush()
    return series


async def unskip_occurrence(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    series_id: int,
    day: DateInput,
    lead_days: int = 0,
) -> TaskSeries:
    """The date is scheduled again; when the scheduler has passed it already (lead days), its
    occurrence is made now."""
    series, today = await _locked_series(session, viewer, clock, series_id)
    problems = Problems()
    wanted = _checked_date(problems, day, today)
    skipped = recurrence.skipped_of(series.rrule)
    if wanted is not None and wanted not in skipped:
        problems.invalid("date", f"{wanted.isoformat()} is not a skipped date of this task")
    problems.raise_any()
    assert wanted is not None
    series.rrule = recurrence.with_skipped(series.rrule, [d for d in skipped if d != wanted])
    if wanted <= series.materialized_until and not series.ended:
        await series_service.make_occurrence(session, series, wanted, clock.now())
    await session.flush()
    await series_service.materialize_due(session, series, clock, lead_days)
    return series
