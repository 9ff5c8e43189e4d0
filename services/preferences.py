"""A provider's reminder rules (its administrators change them) and a staff member's own
preferences."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models import ServiceProvider, Staff
from services import permissions
from services.errors import Problems
from services.reminders import DUE_SOON_DAYS_MAX, ESCALATE_HOURS_MAX
from services.validation import KEEP, Keep
from services.viewer import Viewer


@dataclass(frozen=True)
class ReminderRules:
    """A change to the rules: KEEP leaves a value as it is; None turns a reminder off."""

    due_soon_days: int | Keep | None = KEEP
    overdue: bool | Keep | None = KEEP
    escalate_unassigned_after_hours: int | Keep | None = KEEP
    send_at_hour: int | Keep | None = KEEP


async def update_reminder_settings(
    session: AsyncSession, viewer: Viewer | None, rules: ReminderRules
) -> ServiceProvider:
    admin = permissions.require_administrator(
        viewer, "Only administrators can change the reminder settings"
    )
    provider = await session.get(ServiceProvider, admin.provider_id, with_for_update=True)
    assert provider is not None
    problems = Problems()
    days = rules.due_soon_days
    if days is not KEEP and days is not None and not 0 <= days <= DUE_SOON_DAYS_MAX:
        problems.invalid(
            "dueSoonDays",
            f"Due-soon reminders go 0 to {DUE_SOON_DAYS_MAX} days before the due date",
        )
    if rules.overdue is None:
        problems.invalid("overdue", "Overdue reminders are on (true) or off (false)")
    hours = rules.escalate_unassigned_after_hours
    if hours is not KEEP and hours is not None and not 1 <= hours <= ESCALATE_HOURS_MAX:
        problems.invalid(
            "escalateUnassignedAfterHours",
            f"Escalation comes after 1 to {ESCALATE_HOURS_MAX} hours (or never: null)",
        )
    hour = rules.send_at_hour
    if hour is None or (hour is not KEEP and not 0 <= hour <= 23):
        problems.invalid("sendAtHour", "The hour reminders go out is 0 to 23 (local time)")
    problems.raise_any()
    if days is not KEEP:
        provider.due_soon_days = days
    if isinstance(rules.overdue, bool):
        provider.overdue_reminders = rules.overdue
    if hours is not KEEP:
        provider.escalate_unassigned_after_hours = hours
    if isinstance(hour, int):
        provider.send_at_hour = hour
    await session.flush()
    return provider


async def update_my_preferences(
    session: AsyncSession, viewer: Viewer | None, email_digest: bool | Keep | None
) -> Staff:
    me = permissions.require_staff(viewer)
    staff = await session.get(Staff, me.staff_id, with_for_update=True)
    assert staff is not None
    problems = Problems()
    if email_digest is None:
        problems.invalid("emailDigest", "The e-mail digest is on (true) or off (false)")
    problems.raise_any()
    if isinstance(email_digest, bool):
        staff.email_digest = email_digest
    await session.flush()
    return staff
