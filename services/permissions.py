"""The one place that decides who may do what."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlmodel import col

from models import Staff, Task
from services.errors import Forbidden, NotFound, Unauthenticated
from services.rules import Alternative, Equals, holds
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


def uses_tasks(staff: Staff) -> bool:
    """An active staff member who may use the Tasks screen (as may_use_tasks for a viewer)."""
    return staff.active and (staff.tasks_permission or staff.is_administrator)


def uses_tasks_clause() -> ColumnElement[bool]:
    """uses_tasks as SQL over the staff table, for the queries choosing whom to tell."""
    return col(Staff.active).is_(True) & (
        col(Staff.tasks_permission).is_(True) | col(Staff.is_administrator).is_(True)
    )


def require_tasks(viewer: Viewer | None) -> StaffViewer:
    """The Tasks screen: staff holding TASKS, and administrators."""
    staff = require_staff(viewer)
    if not may_use_tasks(staff):
        raise Forbidden("You need the Tasks permission")
    return staff


def require_administrator(
    viewer: Viewer | None, why: str = "Only administrators can manage staff"
) -> StaffViewer:
    staff = require_staff(viewer)
    if not staff.is_administrator:
        raise Forbidden(why)
    return staff


def require_client(viewer: Viewer | None) -> ClientViewer:
    viewer = require_signed_in(viewer)
    if not isinstance(viewer, ClientViewer):
        raise Forbidden("Only a signed-in client can do this")
    return viewer


class OfProvider(Protocol):
    provider_id: int


def own_provider_of(viewer: Viewer) -> Callable[[OfProvider], bool]:
    """For services.rows.visible_row: a record of the viewer's own provider."""
    return lambda row: row.provider_id == viewer.provider_id


def tasks_changeable_by(staff: StaffViewer) -> Callable[[OfProvider], bool]:
    """For services.rows.visible_row: a task (or repeating task) the staff member may change."""
    return lambda row: can_change_task(staff, row.provider_id)


def require_provider_staff(viewer: Viewer | None, provider_id: int, why: str) -> StaffViewer:
    """A provider's own settings: for its staff; anyone else who can see the provider (a
    provider of the group, a client) is refused."""
    staff = require_staff(viewer)
    if staff.provider_id != provider_id:
        raise Forbidden(why)
    return staff


def is_self(viewer: Viewer | None, staff_id: int | None) -> bool:
    """A staff member's own preferences and calendar address are theirs alone to see."""
    return isinstance(viewer, StaffViewer) and viewer.staff_id == staff_id


def can_change_task(viewer: StaffViewer, provider_id: int) -> bool:
    """Only the provider whose Tasks screen holds a task changes it."""
    return may_use_tasks(viewer) and provider_id == viewer.provider_id


def may_send_to_group(viewer: StaffViewer) -> bool:
    return may_use_tasks(viewer) and viewer.group_tasks_permission and viewer.group_id is not None


# ---------------------------------------------------------------- rules as data
#
# What a task or a staff member shows depends on who looks: written once as data (services.rules),
# evaluated here on loaded rows, rendered as SQL by the read planner.


def staff_details_rule(viewer: Viewer | None) -> list[Alternative]:
    """Only staff of the same provider see more than a name: a client, or staff of another
    provider (a recipient's staff, a sender), see the name alone. Row: a staff member."""
    if isinstance(viewer, StaffViewer):
        return [(Equals("provider_id", viewer.provider_id),)]
    return []


def group_tasks_permission_rule(viewer: Viewer | None) -> list[Alternative]:
    """Colleagues, and the group administrators who set it for any provider of their group.
    Row: a staff member, with provider_group_id (the group of the staff member's provider)."""
    rule = staff_details_rule(viewer)
    if isinstance(viewer, StaffViewer) and viewer.is_group_administrator and viewer.group_id:
        rule.append((Equals("provider_group_id", viewer.group_id),))
    return rule


def sees_staff_details(viewer: Viewer | None, staff_provider_id: int) -> bool:
    return holds(staff_details_rule(viewer), {"provider_id": staff_provider_id})


def sees_group_tasks_permission(
    viewer: Viewer | None, staff_provider_id: int, staff_group_id: int | None
) -> bool:
    row = {"provider_id": staff_provider_id, "provider_group_id": staff_group_id}
    return holds(group_tasks_permission_rule(viewer), row)


def sees_group(viewer: Viewer | None, group_id: int) -> bool:
    """A provider group, and the list of its providers, are for the staff of its providers.
    Raises Forbidden for a client or anyone not signed in, as node(id) of a group answers."""
    staff = require_staff(viewer)
    return staff.group_id is not None and staff.group_id == group_id


def require_group_administrator(viewer: Viewer | None) -> StaffViewer:
    staff = require_staff(viewer)
    if not staff.is_group_administrator or staff.group_id is None:
        raise Forbidden("Only group administrators can do this")
    return staff


# ---------------------------------------------------------------- what a task shows


class TaskView(enum.Enum):
    """Who is looking at a task decides what it shows."""

    FULL = "full"
    """Staff of the provider whose Tasks screen holds it."""
    SENT = "sent"
    """Staff of the provider that sent it to another provider: what it sent, nothing the
    receiver adds."""
    CLIENT = "client"
    """The client it is assigned to."""
    NONE = "none"
    """Anyone else: the task is not theirs to see at all."""


class TaskPart(enum.Enum):
    """The parts of a task that not every view shows (name, due date, status, kind, providers,
    createdAt and version show in every view that shows the task)."""

    DETAILS = "details"
    CLIENT = "client"
    RESPONSIBLE = "responsible"
    CREATED_BY = "createdBy"
    COMPLETED_BY = "completedBy"
    SERIES = "series"
    MILESTONE = "milestoneMonth"
    HISTORY = "history"


_HIDDEN: dict[TaskView, frozenset[TaskPart]] = {
    TaskView.FULL: frozenset(),
    # The receiver's client, its notes, who did the work, its repeating-task setup and what
    # happened since: none of it is the sender's. Who's Responsible stays, as names only (what
    # ServiceProvider.staff shows a sender of the recipient's staff): an empty list would say
    # "Unassigned", which the contract gives a meaning of its own.
    TaskView.SENT: frozenset(
        {
            TaskPart.DETAILS,
            TaskPart.CLIENT,
            TaskPart.COMPLETED_BY,
            TaskPart.SERIES,
            TaskPart.MILESTONE,
            TaskPart.HISTORY,
        }
    ),
    # Repeating-task setup and history are for staff.
    TaskView.CLIENT: frozenset({TaskPart.SERIES, TaskPart.HISTORY}),
    TaskView.NONE: frozenset(TaskPart),
}

# Asked for by a view that never shows it: refused rather than hidden, so a client's widget
# cannot mistake "no history" for a task nobody touched.
_REFUSED: dict[TaskView, dict[TaskPart, str]] = {
    TaskView.CLIENT: {TaskPart.HISTORY: "A task's history is for staff"},
}


def task_view_rule(viewer: Viewer | None) -> list[tuple[Alternative, TaskView]]:
    """The one rule for what a task shows to whom, used by every field of a task and by every
    way to reach one (task(id), node(id), lists, notifications, subscriptions, payloads): the
    first alternative that holds gives the view; none holding gives TaskView.NONE.

    It decides tenancy only; what a role may open (the Tasks permission for task(id) and the
    Tasks screen) is checked where the task is asked for."""
    if isinstance(viewer, ClientViewer):
        return [(task_list_scope(viewer), TaskView.CLIENT)]
    if isinstance(viewer, StaffViewer):
        return [
            ((Equals("provider_id", viewer.provider_id),), TaskView.FULL),
            ((Equals("origin_provider_id", viewer.provider_id),), TaskView.SENT),
        ]
    return []


def task_list_scope(viewer: Viewer) -> Alternative:
    """The tasks a list holds: for staff, the Tasks screen of their provider; for a client,
    the Task Widget of the tasks assigned to them (what their CLIENT view shows)."""
    if isinstance(viewer, ClientViewer):
        return (Equals("assigned_to_client", True), Equals("client_id", viewer.client_id))
    return (Equals("provider_id", viewer.provider_id),)


def task_view(viewer: Viewer | None, task: Task) -> TaskView:
    for tests, view in task_view_rule(viewer):
        if all(getattr(task, t.attribute) == t.value for t in tests):
            return view
    return TaskView.NONE


def task_shows(view: TaskView, part: TaskPart) -> bool:
    """Whether a view of a task shows a part; raises Forbidden where asking is refused."""
    refused = refusal(view, part)
    if refused is not None:
        raise Forbidden(refused)
    return part not in _HIDDEN[view]


def refusal(view: TaskView, part: TaskPart) -> str | None:
    """Why asking for a part of a task in this view is refused, if it is."""
    return _REFUSED.get(view, {}).get(part)


def require_task_reader(viewer: Viewer | None) -> Viewer:
    """task(id) and node(id) of a task: a client, or staff with the Tasks permission."""
    viewer = require_signed_in(viewer)
    if isinstance(viewer, StaffViewer):
        require_tasks(viewer)
    return viewer


def require_task_view(viewer: Viewer | None, task: Task) -> TaskView:
    """A task the viewer may not see is answered like one that does not exist."""
    view = task_view(viewer, task)
    if view is TaskView.NONE:
        raise NotFound()
    return view


# ---------------------------------------------------------------- subscriptions


class Feed(enum.Enum):
    """The Subscription fields, each open to the roles the contract names."""

    UNASSIGNED_TASK_ALERTS = "unassignedTaskAlerts"
    CLIENT_TASK_COMPLETIONS = "clientTaskCompletions"
    NOTIFICATION_ADDED = "notificationAdded"


def require_subscriber(viewer: Viewer | None, feed: Feed) -> StaffViewer:
    """unassignedTaskAlerts: staff of the receiving provider with the Tasks permission.
    clientTaskCompletions: staff (the client's caseworker, the task's responsible staff).
    notificationAdded: the Dashboard Notifications Widget's owner, a staff member.
    Checked when the subscription starts, and again whenever the viewer's access changes."""
    if feed is Feed.UNASSIGNED_TASK_ALERTS:
        return require_tasks(viewer)
    return require_staff(viewer)
