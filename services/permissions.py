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


def can_change_task(viewer: StaffViewer, provider_id: int) -> bool:
    """Only the provider whose Tasks screen holds a task changes it."""
    return may_use_tasks(viewer) and provider_id == viewer.provider_id


def can_read_task(viewer: StaffViewer, provider_id: int, origin_provider_id: int) -> bool:
    """The sender of a task sent across providers can still read it."""
    return may_use_tasks(viewer) and viewer.provider_id in (provider_id, origin_provider_id)


def may_send_to_group(viewer: StaffViewer) -> bool:
    return may_use_tasks(viewer) and viewer.group_tasks_permission and viewer.group_id is not None


def sees_staff_details(viewer: Viewer | None, staff_provider_id: int) -> bool:
    """Only staff of the same provider see more than a name: a client, or staff of another
    provider (a recipient's staff, a sender), see the name alone."""
    return isinstance(viewer, StaffViewer) and viewer.provider_id == staff_provider_id


def sees_group_tasks_permission(
    viewer: Viewer | None, staff_provider_id: int, staff_group_id: int | None
) -> bool:
    """Colleagues, and the group administrators who set it for any provider of their group."""
    if sees_staff_details(viewer, staff_provider_id):
        return True
    return (
        isinstance(viewer, StaffViewer)
        and viewer.is_group_administrator
        and viewer.group_id is not None
        and staff_group_id == viewer.group_id
    )


def require_group_administrator(viewer: Viewer | None) -> StaffViewer:
    staff = require_staff(viewer)
    if not staff.is_group_administrator or staff.group_id is None:
        raise Forbidden("Only group administrators can do this")
    return staff
