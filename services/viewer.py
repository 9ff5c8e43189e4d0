"""Who is asking: resolved once per request from the bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import ServiceProvider, Staff


@dataclass(frozen=True, slots=True)
class StaffViewer:
    staff_id: int
    provider_id: int
    provider_timezone: str
    group_id: int | None
    name: str
    is_administrator: bool
    is_group_administrator: bool
    tasks_permission: bool
    group_tasks_permission: bool
    session_id: int


@dataclass(frozen=True, slots=True)
class ClientViewer:
    client_id: int
    provider_id: int
    provider_timezone: str
    name: str
    session_id: int


Viewer = StaffViewer | ClientViewer


def acting_as(staff: Staff, provider: ServiceProvider) -> StaffViewer:
    """A staff member as a viewer without a sign-in (the demo loader, their e-mail digest)."""
    return StaffViewer(
        staff_id=staff.id or 0,
        provider_id=staff.provider_id,
        provider_timezone=provider.timezone,
        group_id=provider.group_id,
        name=staff.name,
        is_administrator=staff.is_administrator,
        is_group_administrator=staff.is_group_administrator,
        tasks_permission=staff.tasks_permission,
        group_tasks_permission=staff.group_tasks_permission,
        session_id=0,
    )
