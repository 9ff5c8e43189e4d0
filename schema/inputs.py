"""The contract's input objects (the parts built so far)."""

from __future__ import annotations

from datetime import date

import strawberry

from schema.enums import ChangeScope, Frequency, Permission, PostponeBy, TaskKind, Weekday


@strawberry.input
class TaskFilter:
    client_id: strawberry.ID | None = None
    responsible_id: strawberry.ID | None = None
    unassigned: bool | None = strawberry.field(
        default=None,
        description="Only tasks with no one responsible (and not assigned to the client).",
    )
    assigned_to_client: bool | None = strawberry.field(
        default=None, description="Only tasks assigned to the client."
    )
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    kind: TaskKind | None = None
    include_completed: bool | None = strawberry.field(
        default=False, description="The Tasks screen's 'Include Completed Tasks' option."
    )
    search: str | None = strawberry.field(
        default=None, description="Words to find in name or details, case-insensitive."
    )


@strawberry.input
class CreateStaffInput:
    name: str | None = None
    email: str | None = None
    password: str | None = None
    is_administrator: bool | None = False
    permissions: list[Permission] | None = strawberry.field(
        default_factory=lambda: [Permission.TASKS]
    )


@strawberry.input
class UpdateStaffInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    is_administrator: bool | None = strawberry.UNSET
    permissions: list[Permission] | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    is_group_administrator: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Group administrators only: appoint or remove a group administrator.",
    )


@strawberry.input
class SetGroupTasksPermissionInput:
    staff_id: strawberry.ID
    enabled: bool


@strawberry.input
class CreateClientInput:
    name: str | None = None
    email: str | None = None
    caseworker_id: strawberry.ID | None = strawberry.UNSET
    portal_password: str | None = strawberry.field(
        default=None, description="Gives the client a login for the client dashboard."
    )


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateClientInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    caseworker_id: strawberry.ID | None = strawberry.UNSET
    portal_password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new portal password (the client signs in with their email); null "
        "withdraws portal access.",
    )


@strawberry.input
class RecurrenceInput:
    frequency: Frequency
    interval: int | None = strawberry.field(
        default=1, description="Every N days/weeks/months/years."
    )
    by_weekday: list[Weekday] | None = strawberry.field(
        default=None,
        description="WEEKLY only: the days of the week; default the weekday of the first due date.",
    )
    until: date | None = strawberry.field(
        default=None, description="Last possible date (inclusive). At most one of until and count."
    )
    count: int | None = strawberry.field(default=None, description="Number of occurrences.")


@strawberry.input
class CreateTaskInput:
    name: str | None = strawberry.field(default=None, description="Task Name: mandatory.")
    due_date: date | None = strawberry.field(default=None, description="Due Date: mandatory.")
    responsible_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Who's Responsible: mandatory (one or more staff of the receiving provider) "
        "unless assignedToClient or sent to another provider.",
    )
    client_id: strawberry.ID | None = None
    details: str | None = None
    assigned_to_client: bool | None = strawberry.field(
        default=False,
        description="Assign the task to the client (clientId then mandatory); responsibleIds "
        "may then be empty.",
    )
    service_provider_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Send the task to another provider of the group: needs "
        "groupTasksPermission. It arrives Unassigned unless responsibleIds name that "
        "provider's staff.",
    )
    recurrence: RecurrenceInput | None = strawberry.field(
        default=None, description="Makes it a repeating task; dueDate is the first occurrence."
    )


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    details: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    client_id: strawberry.ID | None = strawberry.UNSET
    scope: ChangeScope | None = ChangeScope.THIS
    recurrence: RecurrenceInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="THIS_AND_FOLLOWING on an occurrence: the repeating task's new rule from "
        "this occurrence on.",
    )
    responsible_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="THIS_AND_FOLLOWING on an occurrence: Who's Responsible from this "
        "occurrence on.",
    )


@strawberry.input
class PostponeTaskInput:
    id: strawberry.ID
    by: PostponeBy = strawberry.field(
        description="N weeks past the task's current due date, or customDate."
    )
    custom_date: date | None = None
    expected_version: int | None = None


@strawberry.input
class ReassignTaskInput:
    id: strawberry.ID
    responsible_ids: list[strawberry.ID] = strawberry.field(
        description="The new Who's Responsible (staff of the task's serviceProvider). Empty "
        "leaves it Unassigned."
    )
    assigned_to_client: bool | None = None
    expected_version: int | None = None


@strawberry.input
class CompleteTaskInput:
    id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class DeleteTaskInput:
    id: strawberry.ID
    scope: ChangeScope | None = strawberry.field(
        default=ChangeScope.THIS,
        description="THIS deletes one task. THIS_AND_FOLLOWING on an occurrence deletes the "
        "repeating task: this and every later occurrence not completed; completed occurrences "
        "stay. A POST_EMPLOYMENT_OUTREACH task is always deleted alone.",
    )


@strawberry.input
class RecordEmploymentInput:
    client_id: strawberry.ID
    employer: str | None = None
    start_date: date | None = None


@strawberry.input
class EndEmploymentInput:
    employment_id: strawberry.ID
    end_date: date
    cancel_remaining_outreach: bool | None = strawberry.field(
        default=False,
        description="Delete the open Post-Employment Outreach tasks of this employment that are "
        "due after endDate.",
    )
