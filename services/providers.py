"""Service providers and their groups: who may send tasks where."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import ServiceProvider, ServiceProviderGroup, Staff
from services import permissions
from services.auth import email_taken, normalise_email
from services.clock import Clock
from services.errors import NotFound, Problems
from services.passwords import hash_password, password_problem
from services.validation import (
    blank,
    check_person_name,
    clean,
    email_problem,
    text_problem,
)
from services.viewer import StaffViewer, Viewer


def timezone_problem(timezone: str | None) -> str | None:
    if blank(timezone):
        return "Timezone must be entered"
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return f"Timezone {timezone!r} is not an IANA timezone name (e.g. Australia/Sydney)"
    return None


@dataclass(frozen=True)
class NewProvider:
    provider: ServiceProvider
    group: ServiceProviderGroup | None
    administrator: Staff


async def create_provider(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    timezone: str,
    group_name: str | None,
    admin_name: str,
    admin_email: str,
    admin_password: str,
    group_admin: bool,
) -> NewProvider:
    """The operator's way in (the CLI): a provider, its group when new, and its first admin."""
    problems = Problems()
    check_person_name(problems, name, "Provider name")
    if problem := timezone_problem(timezone):
        problems.invalid("timezone", problem)
    check_person_name(problems, admin_name, "Administrator name", "adminName")
    if problem := text_problem(group_name, "Group name"):
        problems.invalid("group", problem)
    if problem := email_problem(admin_email):
        problems.invalid("adminEmail", problem)
    elif await email_taken(session, normalise_email(admin_email)):
        problems.invalid("adminEmail", "Email is already in use")
    if problem := password_problem(admin_password):
        problems.invalid("adminPassword", problem)
    problems.raise_any()

    group = None
    if clean(group_name):
        group = await session.scalar(
            select(ServiceProviderGroup).where(col(ServiceProviderGroup.name) == clean(group_name))
        )
        if group is None:
            group = ServiceProviderGroup(name=str(clean(group_name)))
            session.add(group)
            await session.flush()
    provider = ServiceProvider(
        name=name.strip(), timezone=timezone.strip(), group_id=group.id if group else None
    )
    session.add(provider)
    await session.flush()
    assert provider.id is not None
    admin = Staff(
        provider_id=provider.id,
        name=admin_name.strip(),
        email=normalise_email(admin_email),
        password_hash=hash_password(admin_password),
        is_administrator=True,
        is_group_administrator=group_admin and group is not None,
        tasks_permission=True,
        created_at=clock.now(),
    )
    session.add(admin)
    await session.flush()
    return NewProvider(provider=provider, group=group, administrator=admin)


async def get_provider(
    session: AsyncSession, viewer: Viewer | None, provider_id: int
) -> ServiceProvider:
    """The viewer's own provider, or (for staff) another provider of the same group."""
    viewer = permissions.require_signed_in(viewer)
    provider = await session.get(ServiceProvider, provider_id)
    if provider is None:
        raise NotFound()
    same_group = (
        isinstance(viewer, StaffViewer)
        and viewer.group_id is not None
        and provider.group_id == viewer.group_id
    )
    if provider_id != viewer.provider_id and not same_group:
        raise NotFound()
    return provider


async def task_recipients(session: AsyncSession, viewer: StaffViewer) -> list[ServiceProvider]:
    """The other providers of the group, for a viewer holding the group Tasks permission."""
    if not permissions.may_send_to_group(viewer):
        return []
    query = select(ServiceProvider).where(
        col(ServiceProvider.group_id) == viewer.group_id,
        col(ServiceProvider.id) != viewer.provider_id,
    )
    return list((await session.scalars(query.order_by(ServiceProvider.name))).all())


async def set_group_tasks_permission(
    session: AsyncSession, viewer: Viewer | None, staff_id: int, enabled: bool
) -> Staff:
    """Group administrators: who may send tasks to the group's other providers."""
    admin = permissions.require_group_administrator(viewer)
    staff = await session.get(Staff, staff_id, with_for_update=True)
    provider = await session.get(ServiceProvider, staff.provider_id) if staff else None
    if staff is None or provider is None or provider.group_id != admin.group_id:
        raise NotFound()
    staff.group_tasks_permission = enabled
    await session.flush()
    return staff


async def get_group(
    session: AsyncSession, viewer: Viewer | None, group_id: int
) -> ServiceProviderGroup:
    if not permissions.sees_group(viewer, group_id):
        raise NotFound()
    group = await session.get(ServiceProviderGroup, group_id)
    if group is None:
        raise NotFound()
    return group


async def group_providers(session: AsyncSession, group_id: int) -> list[ServiceProvider]:
    query = select(ServiceProvider).where(col(ServiceProvider.group_id) == group_id)
    return list((await session.scalars(query.order_by(ServiceProvider.name))).all())
