"""Who is asking: resolved once per request from the bearer token."""

from __future__ import annotations

from dataclasses import dataclass


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
