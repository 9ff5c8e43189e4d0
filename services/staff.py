"""Staff of a provider: administrators add them and change what they may do."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AuthSession, Staff
from services import calendar_feed, permissions
from services.auth import email_taken, normalise_email
from services.clock import Clock
from services.errors import Problems
from services.outbox import outbox
from services.passwords import hash_password, password_problem
from services.providers import task_recipients
from services.rows import visible_row
from services.validation import (
    blank,
    check_person_name,
    email_problem,
)
from services.viewer import StaffViewer, Viewer

TASKS = "TASKS"


async def create_staff(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    *,
    name: str | None,
    email: str | None,
    password: str | None,
    is_administrator: bool,
    permissions_granted: Sequence[str],
) -> Staff:
    admin = permissions.require_administrator(viewer)
    problems = Problems()
    check_person_name(problems, name)
    if problem := email_problem(email):
        (problems.required if blank(email) else problems.invalid)("email", problem)
    elif await email_taken(session, normalise_email(str(email))):
        problems.invalid("email", "Email is already in use")
    if problem := password_problem(password):
        (problems.required if not password else problems.invalid)("password", problem)
    problems.raise_any()
    staff = Staff(
        provider_id=admin.provider_id,
        name=str(name).strip(),
        email=normalise_email(str(email)),
        password_hash=hash_password(str(password)),
        is_administrator=is_administrator,
        tasks_permission=TASKS in permissions_granted,
        created_at=clock.now(),
    )
    session.add(staff)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent request took the email between the check above and this insert.
        problems.invalid("email", "Email is already in use")
        problems.raise_any()
    return staff


async def update_staff(
    session: AsyncSession,
    viewer: Viewer | None,
    staff_id: int,
    *,
    name: str | None = None,
    is_administrator: bool | None = None,
    permissions_granted: Sequence[str] | None = None,
    active: bool | None = None,
    name_given: bool = False,
    is_group_administrator: bool | None = None,
) -> Staff:
    """Takes effect from the member's very next request: the token check reads these flags."""
    admin = permissions.require_administrator(viewer)
    staff = await visible_row(
        session, Staff, staff_id, permissions.own_provider_of(admin), lock=True
    )
    problems = Problems()
    if name_given:
        check_person_name(problems, name)
    if is_group_administrator is not None and not (
        admin.is_group_administrator and admin.group_id is not None
    ):
        problems.invalid(
            "isGroupAdministrator", "Only a group administrator can appoint group administrators"
        )
    if staff.id == admin.staff_id:
        if is_administrator is False:
            problems.invalid("isAdministrator", "You cannot remove your own administrator rights")
        if active is False:
            problems.invalid("active", "You cannot deactivate yourself")
    problems.raise_any()
    if name_given and name is not None:
        staff.name = name.strip()
    if is_administrator is not None:
        staff.is_administrator = is_administrator
    if permissions_granted is not None:
        staff.tasks_permission = TASKS in permissions_granted
    if active is not None:
        staff.active = active
    if is_group_administrator is not None:
        staff.is_group_administrator = is_group_administrator
    if active is False:
        # The calendar address stops working; a reactivated person enables a new one.
        calendar_feed.turn_off(staff)
        # Signed out everywhere: a later reactivation must not revive old tokens.
        await session.execute(
            update(AuthSession)
            .where(col(AuthSession.staff_id) == staff.id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=func.now())
        )
    if not staff.active or not (staff.tasks_permission or staff.is_administrator):
        # Open subscriptions re-check their viewer and close.
        outbox(session).access_changes.append((staff.id or 0, None))
    await session.flush()
    return staff


async def get_staff(session: AsyncSession, viewer: Viewer | None, staff_id: int) -> Staff:
    staff_viewer = permissions.require_staff(viewer)
    return await visible_row(session, Staff, staff_id, permissions.own_provider_of(staff_viewer))


async def list_staff(
    session: AsyncSession, viewer: StaffViewer, provider_id: int, include_inactive: bool
) -> list[Staff]:
    """Own staff; for a sender holding the group Tasks permission, a recipient's active staff."""
    if provider_id != viewer.provider_id:
        if provider_id not in {p.id for p in await task_recipients(session, viewer)}:
            return []
        include_inactive = False
    query = select(Staff).where(col(Staff.provider_id) == provider_id)
    if not include_inactive:
        query = query.where(col(Staff.active).is_(True))
    return list((await session.scalars(query.order_by(Staff.name, col(Staff.id)))).all())
