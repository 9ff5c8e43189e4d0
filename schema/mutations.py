"""The Mutation root, one mixin per aggregate: GraphQL input -> domain call -> payload."""

from __future__ import annotations

import strawberry

from resolvers import notifications as resolve_notifications
from resolvers import people as resolve_people
from resolvers import tasks as resolve_tasks
from schema.caseload import CaseloadMutations
from schema.enums import ChangeScope
from schema.errors import UserError
from schema.ids import key_of, to_global_id
from schema.inputs import (
    CompleteTaskInput,
    CreateClientInput,
    CreateStaffInput,
    CreateTaskInput,
    DeleteTaskInput,
    EndEmploymentInput,
    PostponeTaskInput,
    ReassignTaskInput,
    RecordEmploymentInput,
    RecurrenceInput,
    SetGroupTasksPermissionInput,
    UpdateClientInput,
    UpdateStaffInput,
    UpdateTaskInput,
)
from schema.node import GraphQLInfo
from schema.notifications import MarkNotificationsReadInput, MarkNotificationsReadPayload
from schema.payloads import (
    ClientPayload,
    DeletePayload,
    EmploymentPayload,
    LoginPayload,
    StaffPayload,
    TaskPayload,
    attempt,
)
from schema.reminder_mutations import ReminderMutations
from services.outreach import EmploymentResult
from services.recurrence import Frequency, Recurrence, Weekday
from services.task_forms import NewTask, PostponeBy, TaskEdit
from services.validation import KEEP


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def _employment_payload(
    result: EmploymentResult | None, errors: list[UserError]
) -> EmploymentPayload:
    if result is None:
        return EmploymentPayload(employment=None, outreach_tasks=[], errors=errors)
    return EmploymentPayload(
        employment=result.employment,  # type: ignore[arg-type]
        outreach_tasks=result.tasks,  # type: ignore[arg-type]
        errors=[],
    )


def _recurrence(given: RecurrenceInput) -> Recurrence:
    return Recurrence(
        frequency=Frequency(given.frequency),
        interval=given.interval,
        by_weekday=[Weekday(d) for d in given.by_weekday] if given.by_weekday else None,
        until=given.until,
        count=given.count,
    )


@strawberry.type
class PeopleMutations:
    """Sign-in, staff and the provider group's settings."""

    @strawberry.mutation
    async def login(self, info: GraphQLInfo, email: str, password: str) -> LoginPayload:
        signed_in, errors = await attempt(resolve_people.login(info.context, email, password))
        if signed_in is None:
            return LoginPayload(token=None, viewer=None, errors=errors)
        ctx = info.context
        ctx.viewer, ctx.token = signed_in.viewer, signed_in.token
        viewer = await resolve_people.viewer_row(ctx)
        return LoginPayload(token=signed_in.token, viewer=viewer, errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Ends the session of the token used: it and subscriptions opened with it "
        "stop working."
    )
    async def logout(self, info: GraphQLInfo) -> bool:
        return await resolve_people.logout(info.context)

    @strawberry.mutation(description="Administrators: staff of their own provider.")
    async def create_staff(self, info: GraphQLInfo, input: CreateStaffInput) -> StaffPayload:
        staff, errors = await attempt(
            resolve_people.create_staff(
                info.context,
                name=input.name,
                email=input.email,
                password=input.password,
                is_administrator=bool(input.is_administrator),
                permissions_granted=[p.name for p in input.permissions or []],
            )
        )
        return StaffPayload(staff=staff, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def update_staff(self, info: GraphQLInfo, input: UpdateStaffInput) -> StaffPayload:
        permissions = input.permissions if _given(input.permissions) else None
        staff, errors = await attempt(
            resolve_people.update_staff(
                info.context,
                key_of(input.id, "Staff"),
                name=input.name if _given(input.name) else None,
                name_given=_given(input.name),
                is_administrator=(
                    input.is_administrator if _given(input.is_administrator) else None
                ),
                permissions_granted=(
                    [p.name for p in permissions] if permissions is not None else None
                ),
                active=input.active if _given(input.active) else None,
                is_group_administrator=(
                    input.is_group_administrator if _given(input.is_group_administrator) else None
                ),
            )
        )
        return StaffPayload(staff=staff, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Group administrators only.")
    async def set_group_tasks_permission(
        self, info: GraphQLInfo, input: SetGroupTasksPermissionInput
    ) -> StaffPayload:
        staff, errors = await attempt(
            resolve_people.set_group_tasks_permission(
                info.context, key_of(input.staff_id, "Staff"), input.enabled
            )
        )
        return StaffPayload(staff=staff, errors=errors)  # type: ignore[arg-type]


@strawberry.type
class ClientMutations:
    """Clients and their employments (which start Post-Employment Outreach)."""

    @strawberry.mutation
    async def create_client(self, info: GraphQLInfo, input: CreateClientInput) -> ClientPayload:
        caseworker_given = _given(input.caseworker_id) and input.caseworker_id is not None
        client, errors = await attempt(
            resolve_people.create_client(
                info.context,
                name=input.name,
                email=input.email,
                caseworker_id=key_of(input.caseworker_id, "Staff") if caseworker_given else None,
                caseworker_given=caseworker_given,
                portal_password=input.portal_password,
            )
        )
        return ClientPayload(client=client, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Staff: change a client of their provider.")
    async def update_client(self, info: GraphQLInfo, input: UpdateClientInput) -> ClientPayload:
        changes: dict[str, object] = {}
        for field in ("name", "email", "portal_password"):
            if _given(getattr(input, field)):
                changes[field] = getattr(input, field)
        if _given(input.caseworker_id):
            changes["caseworker_id"] = (
                key_of(input.caseworker_id, "Staff") if input.caseworker_id is not None else None
            )
        client, errors = await attempt(
            resolve_people.update_client(info.context, key_of(input.id, "Client"), **changes)
        )
        return ClientPayload(client=client, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Creates four separate POST_EMPLOYMENT_OUTREACH tasks due 1, 3, 6 and 12 "
        "months after startDate, responsible: the client's caseworker."
    )
    async def record_employment(
        self, info: GraphQLInfo, input: RecordEmploymentInput
    ) -> EmploymentPayload:
        result, errors = await attempt(
            resolve_tasks.record_employment(
                info.context, key_of(input.client_id, "Client"), input.employer, input.start_date
            )
        )
        return _employment_payload(result, errors)

    @strawberry.mutation
    async def end_employment(
        self, info: GraphQLInfo, input: EndEmploymentInput
    ) -> EmploymentPayload:
        result, errors = await attempt(
            resolve_tasks.end_employment(
                info.context,
                key_of(input.employment_id, "Employment"),
                input.end_date,
                bool(input.cancel_remaining_outreach),
            )
        )
        return _employment_payload(result, errors)


@strawberry.type
class TaskMutations:
    """The Tasks screen's changes."""

    @strawberry.mutation
    async def create_task(self, info: GraphQLInfo, input: CreateTaskInput) -> TaskPayload:
        new = NewTask(
            name=input.name,
            due_date=input.due_date,
            responsible_ids=[key_of(i, "Staff") for i in input.responsible_ids or []],
            client_id=key_of(input.client_id, "Client") if input.client_id is not None else None,
            details=input.details,
            assigned_to_client=bool(input.assigned_to_client),
            recurrence=_recurrence(input.recurrence) if input.recurrence else None,
            service_provider_id=(
                key_of(input.service_provider_id, "ServiceProvider")
                if input.service_provider_id is not None
                else None
            ),
        )
        task, errors = await attempt(resolve_tasks.create_task(info.context, new))
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def update_task(self, info: GraphQLInfo, input: UpdateTaskInput) -> TaskPayload:
        recurrence = input.recurrence if _given(input.recurrence) else None
        responsible = input.responsible_ids if _given(input.responsible_ids) else None
        edit = TaskEdit(
            recurrence=_recurrence(recurrence) if recurrence else KEEP,
            responsible_ids=(
                [key_of(i, "Staff") for i in responsible or []]
                if _given(input.responsible_ids)
                else KEEP
            ),
            name=input.name if _given(input.name) else KEEP,
            details=input.details if _given(input.details) else KEEP,
            due_date=input.due_date if _given(input.due_date) else KEEP,
            client_id=(
                (key_of(input.client_id, "Client") if input.client_id is not None else None)
                if _given(input.client_id)
                else KEEP
            ),
        )
        task, errors = await attempt(
            resolve_tasks.update_task(
                info.context,
                key_of(input.id, "Task"),
                edit,
                input.expected_version,
                ChangeScope(input.scope or ChangeScope.THIS),
            )
        )
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def postpone_task(self, info: GraphQLInfo, input: PostponeTaskInput) -> TaskPayload:
        task, errors = await attempt(
            resolve_tasks.postpone_task(
                info.context,
                key_of(input.id, "Task"),
                PostponeBy(input.by),
                input.custom_date,
                input.expected_version,
            )
        )
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def reassign_task(self, info: GraphQLInfo, input: ReassignTaskInput) -> TaskPayload:
        task, errors = await attempt(
            resolve_tasks.reassign_task(
                info.context,
                key_of(input.id, "Task"),
                [key_of(i, "Staff") for i in input.responsible_ids],
                input.expected_version,
                input.assigned_to_client,
            )
        )
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Staff with Tasks permission, or the client the task is assigned to."
    )
    async def complete_task(self, info: GraphQLInfo, input: CompleteTaskInput) -> TaskPayload:
        task, errors = await attempt(
            resolve_tasks.complete_task(
                info.context, key_of(input.id, "Task"), input.expected_version
            )
        )
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def reopen_task(self, info: GraphQLInfo, input: CompleteTaskInput) -> TaskPayload:
        task, errors = await attempt(
            resolve_tasks.reopen_task(
                info.context, key_of(input.id, "Task"), input.expected_version
            )
        )
        return TaskPayload(task=task, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def delete_task(self, info: GraphQLInfo, input: DeleteTaskInput) -> DeletePayload:
        deleted, errors = await attempt(
            resolve_tasks.delete_task(
                info.context, key_of(input.id, "Task"), ChangeScope(input.scope or ChangeScope.THIS)
            )
        )
        ids = [strawberry.ID(to_global_id("Task", i)) for i in deleted or []]
        return DeletePayload(deleted_ids=ids, errors=errors)


@strawberry.type
class NotificationMutations:
    """The Dashboard Notifications Widget."""

    @strawberry.mutation
    async def mark_notifications_read(
        self, info: GraphQLInfo, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        ids = None if input.ids is None else [key_of(i, "Notification") for i in input.ids]
        unread = await resolve_notifications.mark_read(info.context, ids)
        return MarkNotificationsReadPayload(unread_count=unread)


@strawberry.type
class Mutation(
    PeopleMutations,
    ClientMutations,
    TaskMutations,
    NotificationMutations,
    CaseloadMutations,
    ReminderMutations,
):
    pass
