"""Service providers, their groups, staff and clients, resolved from ORM rows."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from models import Client as ClientRow
from models import ServiceProvider as ServiceProviderRow
from models import ServiceProviderGroup as GroupRow
from models import Staff as StaffRow
from resolvers import people as resolve
from resolvers import tasks as resolve_tasks
from schema import reminders
from schema.enums import Permission
from schema.node import GraphQLInfo, Node, row_type_check
from schema.pages import TaskConnection
from schema.prefetch import node_fields, prefetch_tasks
from schema.reminders import ReminderSettings, StaffPreferences
from services import permissions, task_queries


@strawberry.type
class ServiceProviderGroup(Node):
    is_type_of = row_type_check(GroupRow)
    name: str

    @strawberry.field
    async def providers(
        self, root: strawberry.Parent[GroupRow], info: GraphQLInfo
    ) -> list[ServiceProvider]:
        return await resolve.group_providers(info.context, root.id or 0)  # type: ignore[return-value]


@strawberry.type
class ServiceProvider(Node):
    is_type_of = row_type_check(ServiceProviderRow)
    name: str
    timezone: str = strawberry.field(description="IANA timezone name, e.g. Australia/Sydney.")

    @strawberry.field
    async def group(
        self, root: strawberry.Parent[ServiceProviderRow], info: GraphQLInfo
    ) -> ServiceProviderGroup | None:
        if root.group_id is None:
            return None
        # As node(id) answers for a group: the group and its providers are for its staff.
        if not permissions.sees_group(info.context.viewer, root.group_id):
            return None
        return await info.context.loaders.group.load(root.group_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Providers this viewer may send tasks to (same group, viewer holds the "
        "group Tasks permission)."
    )
    async def task_recipients(
        self, root: strawberry.Parent[ServiceProviderRow], info: GraphQLInfo
    ) -> list[ServiceProvider]:
        viewer = info.context.viewer
        if viewer is None or root.id != viewer.provider_id:
            return []
        return await resolve.task_recipients(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description="Staff of the viewer's own provider; for a viewer holding "
        "groupTasksPermission, also of a provider in taskRecipients (to fill in Who's "
        "Responsible), active only."
    )
    async def staff(
        self,
        root: strawberry.Parent[ServiceProviderRow],
        info: GraphQLInfo,
        include_inactive: bool | None = False,
    ) -> list[Staff]:
        rows = await resolve.provider_staff(info.context, root.id or 0, bool(include_inactive))
        return rows  # type: ignore[return-value]

    @strawberry.field(description="(v2) When reminders go out. Staff of this provider only.")
    def reminder_settings(
        self, root: strawberry.Parent[ServiceProviderRow], info: GraphQLInfo
    ) -> ReminderSettings:
        return reminders.reminder_settings_of(info, root)


def _colleague(info: GraphQLInfo, staff: StaffRow) -> bool:
    return permissions.sees_staff_details(info.context.viewer, staff.provider_id)


@strawberry.type
class Staff(Node):
    is_type_of = row_type_check(StaffRow)
    name: str

    @strawberry.field(description="Empty for staff of another provider.")
    def email(self, root: strawberry.Parent[StaffRow], info: GraphQLInfo) -> str:
        return root.email if _colleague(info, root) else ""

    @strawberry.field
    def is_administrator(self, root: strawberry.Parent[StaffRow], info: GraphQLInfo) -> bool:
        return root.is_administrator and _colleague(info, root)

    @strawberry.field(
        description="Administers the provider group's settings (only meaningful when the "
        "provider is in a group)."
    )
    def is_group_administrator(self, root: strawberry.Parent[StaffRow], info: GraphQLInfo) -> bool:
        return root.is_group_administrator and _colleague(info, root)

    @strawberry.field(
        description="The Tasks permission in the Service Provider Group Administration "
        "settings: may assign tasks to other providers of the group."
    )
    async def group_tasks_permission(
        self, root: strawberry.Parent[StaffRow], info: GraphQLInfo
    ) -> bool:
        if not root.group_tasks_permission:
            return False
        if _colleague(info, root):
            return True
        provider = await info.context.loaders.provider.load(root.provider_id)
        group_id = provider.group_id if provider is not None else None
        return permissions.sees_group_tasks_permission(
            info.context.viewer, root.provider_id, group_id
        )

    @strawberry.field
    def active(self, root: strawberry.Parent[StaffRow]) -> bool:
        return root.active

    @strawberry.field
    async def provider(
        self, root: strawberry.Parent[StaffRow], info: GraphQLInfo
    ) -> ServiceProvider:
        return await info.context.loaders.provider.load(root.provider_id)  # type: ignore[return-value]

    @strawberry.field
    def permissions(self, root: strawberry.Parent[StaffRow], info: GraphQLInfo) -> list[Permission]:
        return [Permission.TASKS] if root.tasks_permission and _colleague(info, root) else []

    @strawberry.field(description="(v2) The viewer's own preferences; null for anyone else.")
    def preferences(
        self, root: strawberry.Parent[StaffRow], info: GraphQLInfo
    ) -> StaffPreferences | None:
        return reminders.preferences_of(info, root)

    @strawberry.field(
        description="(v2) The viewer's own private iCalendar (RFC 5545) address listing their "
        "open tasks; null until enabled with setCalendarFeed, and for anyone else."
    )
    def calendar_feed_url(self, root: strawberry.Parent[StaffRow], info: GraphQLInfo) -> str | None:
        return reminders.calendar_feed_url_of(info, root)


@strawberry.type
class Employment:
    id: strawberry.ID
    employer: str
    start_date: date
    end_date: date | None


@strawberry.type
class Client(Node):
    is_type_of = row_type_check(ClientRow)
    name: str
    email: str | None

    @strawberry.field
    async def provider(
        self, root: strawberry.Parent[ClientRow], info: GraphQLInfo
    ) -> ServiceProvider:
        return await info.context.loaders.provider.load(root.provider_id)  # type: ignore[return-value]

    @strawberry.field
    async def caseworker(
        self, root: strawberry.Parent[ClientRow], info: GraphQLInfo
    ) -> Staff | None:
        if root.caseworker_id is None:
            return None
        return await info.context.loaders.staff.load(root.caseworker_id)  # type: ignore[return-value]

    @strawberry.field
    def employments(
        self, root: strawberry.Parent[ClientRow], info: GraphQLInfo
    ) -> list[Employment]:
        return info.context.loaders.employments.get(root.id or 0)  # type: ignore[return-value]

    @strawberry.field(description="True when the client can sign in to the client dashboard.")
    def has_portal_access(self, root: strawberry.Parent[ClientRow]) -> bool:
        return root.portal_password_hash is not None

    @strawberry.field
    async def tasks(
        self,
        root: strawberry.Parent[ClientRow],
        info: GraphQLInfo,
        include_completed: bool | None = False,
        first: int | None = 50,
        after: str | None = None,
    ) -> TaskConnection:
        task_filter = task_queries.TaskFilter(
            client_id=root.id, include_completed=bool(include_completed)
        )
        page = await resolve_tasks.task_page(
            info.context, task_filter, task_queries.TaskOrder.DUE_DATE_ASC, first, after
        )
        await prefetch_tasks(info.context, page.page.rows, node_fields(info))
        return TaskConnection.of(page.page, page.total_count)


Viewer = Annotated[Staff | Client, strawberry.union("Viewer")]
