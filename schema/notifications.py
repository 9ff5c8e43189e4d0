"""The Dashboard Notifications Widget and the live alerts built on it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Client as ClientRow
from models import Notification as NotificationRow
from models import Task as TaskRow
from schema.enums import NotificationKind
from schema.node import GraphQLInfo, Node, row_type_check
from schema.pages import PageInfo, edges
from schema.people import Client
from schema.tasks import Task, visible_task
from services.notifications import notification_cursor
from services.pagination import Page


@strawberry.type(
    description="An entry in the Dashboard Notifications Widget. Kept until read; never lost "
    "when no dashboard is connected."
)
class Notification(Node):
    is_type_of = row_type_check(NotificationRow)
    kind: NotificationKind
    message: str
    created_at: datetime

    @strawberry.field
    def task(self, root: strawberry.Parent[NotificationRow], info: GraphQLInfo) -> Task | None:
        if root.task_id is None:
            return None
        return visible_task(info.context, root.task_id)  # type: ignore[return-value]

    @strawberry.field
    def read(self, root: strawberry.Parent[NotificationRow]) -> bool:
        return root.read_at is not None

    @strawberry.field(
        description="Pass to a subscription's after argument to resume after this notification."
    )
    def cursor(self, root: strawberry.Parent[NotificationRow]) -> str:
        return notification_cursor(root.id or 0)


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    unread_count: int

    @classmethod
    def of(cls, page: Page[NotificationRow], unread_count: int) -> NotificationConnection:
        return cls(
            edges=edges(page, NotificationEdge),
            page_info=PageInfo.of(page),
            unread_count=unread_count,
        )


@strawberry.type(
    description="Pushed to staff of the receiving provider when a task arrives with no "
    "caseworker responsible."
)
class UnassignedTaskAlert:
    notification: Notification
    task: Task


@strawberry.type(
    description="Pushed to the client's caseworker and the task's responsible staff when a "
    "client completes a task."
)
class ClientTaskCompletion:
    notification: Notification
    task: Task
    client: Client


@strawberry.type
class MarkNotificationsReadPayload:
    unread_count: int


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Omit to mark all of the viewer's notifications read."
    )


def client_completion(
    notification: NotificationRow, task: TaskRow, client: ClientRow
) -> ClientTaskCompletion:
    return ClientTaskCompletion(notification=notification, task=task, client=client)  # type: ignore[arg-type]


def unassigned_alert(notification: NotificationRow, task: TaskRow) -> UnassignedTaskAlert:
    return UnassignedTaskAlert(notification=notification, task=task)  # type: ignore[arg-type]
