"""The reminder mutations (contract v2): settings, preferences, the calendar feed."""

from __future__ import annotations

import strawberry

from resolvers import reminders as resolve
from schema.node import GraphQLInfo
from schema.payloads import attempt
from schema.reminders import (
    CalendarFeedPayload,
    PreferencesPayload,
    ReminderSettings,
    ReminderSettingsPayload,
    SetCalendarFeedInput,
    StaffPreferences,
    UpdateMyPreferencesInput,
    UpdateReminderSettingsInput,
)
from services.preferences import ReminderRules
from services.validation import KEEP


def _kept(value: object) -> object:
    return KEEP if value is strawberry.UNSET else value


@strawberry.type
class ReminderMutations:
    @strawberry.mutation(description="(v2) Administrators of the provider.")
    async def update_reminder_settings(
        self, info: GraphQLInfo, input: UpdateReminderSettingsInput
    ) -> ReminderSettingsPayload:
        rules = ReminderRules(
            due_soon_days=_kept(input.due_soon_days),  # type: ignore[arg-type]
            overdue=_kept(input.overdue),  # type: ignore[arg-type]
            escalate_unassigned_after_hours=_kept(input.escalate_unassigned_after_hours),  # type: ignore[arg-type]
            send_at_hour=_kept(input.send_at_hour),  # type: ignore[arg-type]
        )
        provider, errors = await attempt(resolve.update_reminder_settings(info.context, rules))
        settings = ReminderSettings.of(provider) if provider is not None else None
        return ReminderSettingsPayload(reminder_settings=settings, errors=errors)

    @strawberry.mutation(description="(v2) The signed-in staff member's own preferences.")
    async def update_my_preferences(
        self, info: GraphQLInfo, input: UpdateMyPreferencesInput
    ) -> PreferencesPayload:
        staff, errors = await attempt(
            resolve.update_my_preferences(info.context, _kept(input.email_digest))  # type: ignore[arg-type]
        )
        found = StaffPreferences(email_digest=staff.email_digest) if staff is not None else None
        return PreferencesPayload(preferences=found, errors=errors)

    @strawberry.mutation(description="(v2) The signed-in staff member's private calendar address.")
    async def set_calendar_feed(
        self, info: GraphQLInfo, input: SetCalendarFeedInput
    ) -> CalendarFeedPayload:
        staff, errors = await attempt(resolve.set_calendar_feed(info.context, input.enabled))
        url = resolve.calendar_feed_url(info.context, staff) if staff is not None else None
        return CalendarFeedPayload(url=url, errors=errors)
