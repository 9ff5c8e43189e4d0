"""The one place that decides who may do what."""

from __future__ import annotations

from services.errors import Forbidden, NotFound, Unauthenticated
from services.viewer import ClientViewer, StaffViewer, Viewer


def require_signed_in(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise Unauthenticated()
    return viewer


def require_staff(viewer: Viewer | None) -> StaffViewer:
    viewer = require_signed_in(viewer)
    if not isinstance(viewer, StaffViewer):
        raise Forbidden("Only staff can do this")
    return viewer


def may_use_tasks(viewer: StaffViewer) -> bool:
    return viewer.tasks_permission or viewer.is_administrator


def require_tasks(viewer: Viewer | None) -> StaffViewer:
    """The Tasks screen: staff holding TASKS, and administrators."""
    staff = require_staff(viewer)
    if not may_use_tasks(staff):
        raise Forbidden("You need the Tasks permission")
    return staff


def require_administrator(viewer: Viewer | None) -> StaffViewer:
    staff = require_staff(viewer)
    if not staff.is_administrator:
        raise Forbidden("Only administrators can manage staff")
    return staff


def require_client(viewer: Viewer | None) -> ClientViewer:
    viewer = require_signed_in(viewer)
    if not isinstance(viewer, ClientViewer):
        raise Forbidden("Only a signed-in client can do this")
    return viewer


def require_same_provider(viewer: StaffViewer, provider_id: int) -> None:
    """Another provider's records are answered exactly like records that do not exist."""
    if provider_id != viewer.provider_id:
        raise NotFound()


def can_see_task(viewer: StaffViewer, provider_id: int) -> bool:
    return may_use_tasks(viewer) and provider_id == viewer.provider_id
