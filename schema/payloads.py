"""Mutation payloads: the result, or every user error at once (and then nothing was saved)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry

from schema.errors import UserError, user_errors
from schema.people import Client, Employment, Staff, Viewer
from schema.tasks import Task
from services.errors import InvalidInput

T = TypeVar("T")


async def attempt(action: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    try:
        return await action, []
    except InvalidInput as invalid:
        return None, user_errors(invalid.problems)


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        description="Bearer token for the Authorization header and for connection_init's "
        'payload {"Authorization": "Bearer ..."}.'
    )
    viewer: Viewer | None
    errors: list[UserError]


@strawberry.type
class StaffPayload:
    staff: Staff | None
    errors: list[UserError]


@strawberry.type
class ClientPayload:
    client: Client | None
    errors: list[UserError]


@strawberry.type
class TaskPayload:
    task: Task | None
    errors: list[UserError]


@strawberry.type
class DeletePayload:
    deleted_ids: list[strawberry.ID]
    errors: list[UserError]


@strawberry.type
class EmploymentPayload:
    employment: Employment | None
    outreach_tasks: list[Task] = strawberry.field(
        description="The tasks created (recordEmployment) or deleted (endEmployment)."
    )
    errors: list[UserError]
