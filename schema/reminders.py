"""Reminders (contract v2): a provider's reminder settings, a staff member's preferences and
private calendar address."""

from __future__ import annotations

import strawberry

from models import ServiceProvider as ServiceProviderRow
from models import Staff as StaffRow
from resolvers import reminders as resolve
from schema.errors import UserError
from schema.node import GraphQLInfo
from services import permissions


@strawberry.type(
    description="(v2) A provider's reminder rules; administrators change them with "
    "updateReminderSettings."
)
class ReminderSettings:
    due_soon_days: int | None = strawberry.field(
        description="DUE_SOON goes to the responsible staff this many days before the due date "
        "(0: on the day itself; null: never)."
    )
    overdue: bool = strawberry.field(
        description="OVERDUE goes to the responsible staff on the first day a task is overdue."
    )
    escalate_unassigned_after_hours: int | None = strawberry.field(
        description="UNASSIGNED_ESCALATION goes to the provider's administrators when a task "
        "stays Unassigned this many hours; null: never."
    )
    send_at_hour: int = strawberry.field(
        description="Local hour (0-23, provider timezone) at which the day's reminders and "
        "e-mail digests go out."
    )

    @classmethod
    def of(cls, provider: ServiceProviderRow) -> ReminderSettings:
        return cls(
            due_soon_days=provider.due_soon_days,
            overdue=provider.overdue_reminders,
            escalate_unassigned_after_hours=provider.escalate_unassigned_after_hours,
            send_at_hour=provider.send_at_hour,
        )


@strawberry.type(description="(v2)")
class StaffPreferences:
    email_digest: bool = strawberry.field(
        description="A daily e-mail at the provider's sendAtHour with the tasks due today, "
        "overdue and newly assigned; none is sent on a day with nothing to say."
    )


@strawberry.input(description="(v2) Omitted fields stay as they are.")
class UpdateReminderSettingsInput:
    due_soon_days: int | None = strawberry.UNSET
    overdue: bool | None = strawberry.UNSET
    escalate_unassigned_after_hours: int | None = strawberry.UNSET
    send_at_hour: int | None = strawberry.UNSET


@strawberry.type(description="(v2)")
class ReminderSettingsPayload:
    reminder_settings: ReminderSettings | None
    errors: list[UserError]


@strawberry.input(description="(v2)")
class UpdateMyPreferencesInput:
    email_digest: bool | None = strawberry.UNSET


@strawberry.type(description="(v2)")
class PreferencesPayload:
    preferences: StaffPreferences | None
    errors: list[UserError]


@strawberry.input(description="(v2)")
class SetCalendarFeedInput:
    enabled: bool = strawberry.field(
        description="true: make a new private address (an earlier one stops working); false: "
        "turn the feed off."
    )


@strawberry.type(description="(v2)")
class CalendarFeedPayload:
    url: str | None
    errors: list[UserError]


def reminder_settings_of(info: GraphQLInfo, provider: ServiceProviderRow) -> ReminderSettings:
    permissions.require_provider_staff(
        info.context.viewer, provider.id or 0, "Reminder settings are for the provider's own staff"
    )
    return ReminderSettings.of(provider)


def preferences_of(info: GraphQLInfo, staff: StaffRow) -> StaffPreferences | None:
    if not permissions.is_self(info.context.viewer, staff.id):
        return None
    return StaffPreferences(email_digest=staff.email_digest)


def calendar_feed_url_of(info: GraphQLInfo, staff: StaffRow) -> str | None:
    if not permissions.is_self(info.context.viewer, staff.id):
        return None
    return resolve.calendar_feed_url(info.context, staff)
