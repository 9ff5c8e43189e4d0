"""Reminder settings, preferences and the calendar feed: a unit of work each."""

from __future__ import annotations

from models import ServiceProvider, Staff
from resolvers.changes import change
from resolvers.context import Context
from services import calendar_feed, preferences
from services.validation import Keep


async def update_reminder_settings(
    ctx: Context, rules: preferences.ReminderRules
) -> ServiceProvider:
    async with change(ctx) as session:
        return await preferences.update_reminder_settings(session, ctx.viewer, rules)


async def update_my_preferences(ctx: Context, email_digest: bool | Keep | None) -> Staff:
    async with change(ctx) as session:
        return await preferences.update_my_preferences(session, ctx.viewer, email_digest)


async def set_calendar_feed(ctx: Context, enabled: bool) -> Staff:
    async with change(ctx) as session:
        return await calendar_feed.set_calendar_feed(
            session, ctx.viewer, ctx.services.tokens, enabled
        )


def calendar_feed_url(ctx: Context, staff: Staff) -> str | None:
    base = ctx.services.public_url or (str(ctx.request.base_url) if ctx.request is not None else "")
    return calendar_feed.url_of(ctx.services.tokens, staff, base)
