"""A staff member's private calendar feed: /calendar/<secret>.ics lists their open tasks as
all-day events (RFC 5545) for Outlook, Google or Apple calendars.

The secret is an HMAC of a random nonce under the server's secret key: the address can be
shown again (Staff.calendarFeedUrl) without the secret being stored, and the database holds
only its SHA-256 to look it up. Enabling again draws a new nonce, so the old address stops
working; disabling, or deactivating the person, clears both. Calendars sync to phones, so an
event carries the task's name and due date only: no client, no details, no link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Staff
from services import permissions
from services.auth import TokenPolicy
from services.task_queries import open_tasks_held_by
from services.viewer import Viewer

PATH = "/calendar/"
PRODID = "-//casetasks//Tasks calendar feed//EN"


def secret_of(policy: TokenPolicy, nonce: str) -> str:
    mac = hmac.new(policy.secret_key.encode(), f"calendar-feed:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def url_of(policy: TokenPolicy, staff: Staff, base_url: str) -> str | None:
    if staff.calendar_feed_nonce is None:
        return None
    return f"{base_url.rstrip('/')}{PATH}{secret_of(policy, staff.calendar_feed_nonce)}.ics"


def turn_off(staff: Staff) -> None:
    staff.calendar_feed_nonce = None
    staff.calendar_feed_digest = None


async def set_calendar_feed(
    session: AsyncSession, viewer: Viewer | None, policy: TokenPolicy, enabled: bool
) -> Staff:
    me = permissions.require_staff(viewer)
    staff = await session.get(Staff, me.staff_id, with_for_update=True)
    assert staff is not None
    if enabled:
        staff.calendar_feed_nonce = secrets.token_urlsafe(24)
        staff.calendar_feed_digest = digest_of(secret_of(policy, staff.calendar_feed_nonce))
    else:
        turn_off(staff)
    await session.flush()
    return staff


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str


async def feed(session: AsyncSession, secret: str) -> Feed | None:
    """The calendar behind a secret; None for an unknown, replaced or deactivated one."""
    staff = await session.scalar(
        select(Staff).where(col(Staff.calendar_feed_digest) == digest_of(secret))
    )
    if staff is None or not staff.active:
        return None
    tasks = await session.scalars(open_tasks_held_by(staff.id or 0, staff.provider_id))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Tasks")
    for task in tasks:
        event = Event()
        event.add("uid", f"task-{task.id}@casetasks")
        # The task's creation, not the request's time: the same tasks give the same body
        # (and ETag), so a polling calendar gets 304.
        event.add("dtstamp", task.created_at)
        event.add("dtstart", task.due_date)
        event.add("dtend", task.due_date + timedelta(days=1))
        event.add("summary", task.name)
        event.add("description", f"Open task, due {task.due_date.isoformat()}.")
        event.add("sequence", task.version)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    body = calendar.to_ical()
    return Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')
