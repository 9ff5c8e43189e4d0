"""Post-Employment Outreach: four separate follow-ups at 1, 3, 6 and 12 months of a new job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Client,
    Employment,
    Staff,
    Task,
    TaskEventKind,
    TaskKind,
    TaskStatus,
)
from models.types import pk
from services import assignment, permissions
from services.clock import Clock
from services.errors import NotFound, Problems
from services.history import record_event
from services.rows import visible_row
from services.validation import NAME_MAX, DateInput, InvalidDate, blank, date_problem, text_problem
from services.viewer import StaffViewer, Viewer

MILESTONES = (1, 3, 6, 12)


def milestone_dates(start: date) -> list[tuple[int, date]]:
    """Calendar months after the start, clamped to the month's last day (31 Jan -> 28/29 Feb)."""
    return [(months, start + relativedelta(months=months)) for months in MILESTONES]


@dataclass
class EmploymentResult:
    employment: Employment
    tasks: list[Task] = field(default_factory=list)


def _check_date(problems: Problems, field_name: str, label: str, value: DateInput | None) -> None:
    if value is None:
        problems.required(field_name, f"{label} must be entered")
    elif isinstance(value, InvalidDate):
        problems.invalid(field_name, f"{label} {value.text!r} is not a calendar date")
    elif problem := date_problem(value, label):
        problems.invalid(field_name, problem)


async def record_employment(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    client_id: int,
    employer: str | None,
    start_date: DateInput | None,
) -> EmploymentResult:
    staff = permissions.require_tasks(viewer)
    client = await visible_row(session, Client, client_id, permissions.own_provider_of(staff))
    problems = Problems()
    if blank(employer):
        problems.required("employer", "Employer must be entered")
    elif len(str(employer).strip()) > NAME_MAX:
        problems.invalid("employer", f"Employer must be at most {NAME_MAX} characters")
    elif problem := text_problem(employer, "Employer"):
        problems.invalid("employer", problem)
    _check_date(problems, "startDate", "Start date", start_date)
    problems.raise_any()
    assert isinstance(start_date, date) and employer is not None

    now = clock.now()
    employment = Employment(
        client_id=client_id, employer=employer.strip(), start_date=start_date, created_at=now
    )
    session.add(employment)
    await session.flush()
    caseworker = await _active_caseworker(session, client)
    made = [
        await _outreach_task(session, staff, client, employment, caseworker, months, due, now)
        for months, due in milestone_dates(start_date)
    ]
    return EmploymentResult(employment, made)


async def _active_caseworker(session: AsyncSession, client: Client) -> Staff | None:
    if client.caseworker_id is None:
        return None
    caseworker = await session.get(Staff, client.caseworker_id)
    return caseworker if caseworker is not None and caseworker.active else None


async def _outreach_task(
    session: AsyncSession,
    staff: StaffViewer,
    client: Client,
    employment: Employment,
    caseworker: Staff | None,
    months: int,
    due: date,
    now: datetime,
) -> Task:
    label = "1 month" if months == 1 else f"{months} months"
    task = Task(
        provider_id=client.provider_id,
        origin_provider_id=client.provider_id,
        name=f"Post-Employment Outreach ({label}): {client.name} at {employment.employer}",
        due_date=due,
        kind=TaskKind.POST_EMPLOYMENT_OUTREACH,
        client_id=client.id,
        created_by_id=staff.staff_id,
        created_at=now,
        milestone_month=months,
        employment_id=employment.id,
        version=0,
    )
    session.add(task)
    await session.flush()
    responsible_ids = [pk(caseworker)] if caseworker is not None else []
    assignment.add_responsible(session, task, responsible_ids)
    who = caseworker.name if caseworker else "Unassigned"
    summary = f"Created for the {label} milestone, due {due.isoformat()}, responsible: {who}"
    record_event(session, task, TaskEventKind.CREATED, staff, now, summary)
    await session.flush()
    await assignment.announce_new(session, task, responsible_ids, staff, now)
    return task


async def end_employment(
    session: AsyncSession,
    viewer: Viewer | None,
    employment_id: int,
    end_date: DateInput | None,
    cancel_remaining_outreach: bool,
) -> EmploymentResult:
    """Records the end; optionally deletes the employment's open outreach due after it."""
    staff = permissions.require_tasks(viewer)
    employment = await session.get(Employment, employment_id, with_for_update=True)
    client = await session.get(Client, employment.client_id) if employment else None
    if employment is None or client is None or client.provider_id != staff.provider_id:
        raise NotFound()
    problems = Problems()
    _check_date(problems, "endDate", "End date", end_date)
    if isinstance(end_date, date) and end_date < employment.start_date:
        problems.invalid("endDate", "The end date is before the start of the employment")
    problems.raise_any()
    assert isinstance(end_date, date)

    employment.end_date = end_date
    cancelled: list[Task] = []
    if cancel_remaining_outreach:
        cancelled = list(
            await session.scalars(
                select(Task)
                .where(
                    col(Task.employment_id) == employment.id,
                    col(Task.kind) == TaskKind.POST_EMPLOYMENT_OUTREACH,
                    col(Task.status) == TaskStatus.OPEN,
                    col(Task.due_date) > end_date,
                )
                .order_by(col(Task.due_date))
            )
        )
        if cancelled:
            await session.execute(delete(Task).where(col(Task.id).in_([t.id for t in cancelled])))
    await session.flush()
    return EmploymentResult(employment, cancelled)
