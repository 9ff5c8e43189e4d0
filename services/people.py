"""Providers, their groups, staff and clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AuthSession, Client, ServiceProvider, ServiceProviderGroup, Staff
from services import permissions
from services.auth import normalise_email
from services.clock import Clock
from services.errors import BadRequest, NotFound, Problems
from services.outbox import outbox
from services.pagination import Page, check_page_size, decode_cursor, encode_cursor
from services.passwords import hash_password, password_problem
from services.validation import KEEP, NAME_MAX, Keep, blank, clean, contains_pattern, email_problem
from services.viewer import ClientViewer, StaffViewer, Viewer

TASKS = "TASKS"


def timezone_problem(timezone: str | None) -> str | None:
    if blank(timezone):
        return "Timezone must be entered"
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return f"Timezone {timezone!r} is not an IANA timezone name (e.g. Australia/Sydney)"
    return None


async def _email_taken(session: AsyncSession, email: str, client_id: int | None = None) -> bool:
    """Whether a staff member or (another) client already signs in with this email."""
    if await session.scalar(select(exists().where(col(Staff.email) == email))):
        return True
    clients = select(
        exists().where(col(Client.login_email) == email, col(Client.id) != (client_id or 0))
    )
    return bool(await session.scalar(clients))


def _check_name(problems: Problems, name: str | None, label: str = "Name") -> None:
    if blank(name):
        problems.required("name", f"{label} must be entered")
    elif len(name or "") > NAME_MAX:
        problems.invalid("name", f"{label} must be at most {NAME_MAX} characters")


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
    _check_name(problems, name, "Provider name")
    if problem := timezone_problem(timezone):
        problems.invalid("timezone", problem)
    if blank(admin_name):
        problems.required("adminName", "Administrator name must be entered")
    if problem := email_problem(admin_email):
        problems.invalid("adminEmail", problem)
    elif await _email_taken(session, normalise_email(admin_email)):
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
    _check_name(problems, name)
    if problem := email_problem(email):
        (problems.required if blank(email) else problems.invalid)("email", problem)
    elif await _email_taken(session, normalise_email(str(email))):
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
    staff = await session.get(Staff, staff_id, with_for_update=True)
    if staff is None:
        raise NotFound()
    permissions.require_same_provider(admin, staff.provider_id)
    problems = Problems()
    if name_given:
        _check_name(problems, name)
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
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise NotFound()
    permissions.require_same_provider(staff_viewer, staff.provider_id)
    return staff


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
        query = query.where(Staff.active.is_(True))  # type: ignore[attr-defined]
    return list((await session.scalars(query.order_by(Staff.name, col(Staff.id)))).all())


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
    staff = permissions.require_staff(viewer)
    if group_id != staff.group_id:
        raise NotFound()
    group = await session.get(ServiceProviderGroup, group_id)
    if group is None:
        raise NotFound()
    return group


async def group_providers(session: AsyncSession, group_id: int) -> list[ServiceProvider]:
    query = select(ServiceProvider).where(col(ServiceProvider.group_id) == group_id)
    return list((await session.scalars(query.order_by(ServiceProvider.name))).all())


async def _check_client(
    session: AsyncSession,
    problems: Problems,
    staff: StaffViewer,
    email: str | None,
    caseworker_id: int | None,
    portal_password: str | None,
    client_id: int | None = None,
) -> None:
    if not blank(email) and (problem := email_problem(email)):
        problems.invalid("email", problem)
    if caseworker_id is not None:
        caseworker = await session.get(Staff, caseworker_id) if caseworker_id else None
        if caseworker is None or caseworker.provider_id != staff.provider_id:
            problems.invalid("caseworkerId", "Caseworker must be staff of your provider")
        elif not caseworker.active:
            problems.invalid("caseworkerId", "Caseworker must be active staff")
    if portal_password is not None:
        if problem := password_problem(portal_password):
            problems.invalid("portalPassword", problem)
        if blank(email):
            problems.required("email", "Email must be entered for a client to sign in")
        elif not email_problem(email) and await _email_taken(
            session, normalise_email(str(email)), client_id
        ):
            problems.invalid("email", "Email is already used to sign in")


async def create_client(
    session: AsyncSession,
    viewer: Viewer | None,
    clock: Clock,
    *,
    name: str | None,
    email: str | None,
    caseworker_id: int | None,
    caseworker_given: bool,
    portal_password: str | None = None,
) -> Client:
    """portal_password gives the client a login (their email) for the client dashboard."""
    staff = permissions.require_staff(viewer)
    problems = Problems()
    _check_name(problems, name)
    await _check_client(
        session,
        problems,
        staff,
        email,
        caseworker_id if caseworker_given else None,
        portal_password,
    )
    problems.raise_any()
    address = normalise_email(email) if email and not blank(email) else None
    client = Client(
        provider_id=staff.provider_id,
        name=str(name).strip(),
        email=address,
        caseworker_id=caseworker_id if caseworker_given else None,
        portal_password_hash=hash_password(portal_password) if portal_password else None,
        login_email=address if portal_password else None,
        created_at=clock.now(),
    )
    session.add(client)
    await session.flush()
    return client


async def update_client(
    session: AsyncSession,
    viewer: Viewer | None,
    client_id: int,
    *,
    name: str | Keep | None = KEEP,
    email: str | Keep | None = KEEP,
    caseworker_id: int | Keep | None = KEEP,
    portal_password: str | Keep | None = KEEP,
) -> Client:
    """portal_password None withdraws portal access; a new one replaces the old."""
    staff = permissions.require_staff(viewer)
    client = await session.get(Client, client_id, with_for_update=True)
    if client is None:
        raise NotFound()
    permissions.require_same_provider(staff, client.provider_id)
    new_email = client.email if email is KEEP else email
    new_password = None if portal_password is KEEP else portal_password
    problems = Problems()
    if name is not KEEP:
        _check_name(problems, name)
    signs_in = new_password is not None or (
        portal_password is KEEP and client.portal_password_hash is not None
    )
    await _check_client(
        session,
        problems,
        staff,
        # A new portal password alone signs the client in with the email already stored.
        new_email if new_password is not None else None if email is KEEP else email,
        None if caseworker_id is KEEP else caseworker_id,
        new_password,
        client.id,
    )
    if signs_in and new_password is None and blank(new_email):
        problems.required("email", "Email must be entered for a client to sign in")
    elif (
        signs_in
        and new_password is None
        and email is not KEEP
        and await _email_taken(session, normalise_email(str(new_email)), client.id)
    ):
        problems.invalid("email", "Email is already used to sign in")
    problems.raise_any()
    if name is not KEEP:
        client.name = str(name).strip()
    if email is not KEEP:
        client.email = normalise_email(email) if email and not blank(email) else None
    if caseworker_id is not KEEP:
        client.caseworker_id = caseworker_id
    if portal_password is not KEEP:
        client.portal_password_hash = hash_password(portal_password) if portal_password else None
    client.login_email = client.email if client.portal_password_hash else None
    await session.flush()
    return client


async def get_client(session: AsyncSession, viewer: Viewer | None, client_id: int) -> Client:
    """Staff: their provider's clients. A signed-in client: only themselves."""
    viewer = permissions.require_signed_in(viewer)
    client = await session.get(Client, client_id)
    if client is None or client.provider_id != viewer.provider_id:
        raise NotFound()
    if isinstance(viewer, ClientViewer) and viewer.client_id != client.id:
        raise NotFound()
    return client


async def list_clients(
    session: AsyncSession,
    viewer: Viewer | None,
    search: str | None,
    first: int | None,
    after: str | None,
) -> tuple[Page[Client], int]:
    """Clients of the viewer's provider by name, with the total matching the search."""
    staff = permissions.require_staff(viewer)
    limit = check_page_size(first)
    conditions: list[Any] = [Client.provider_id == staff.provider_id]
    if text := clean(search):
        pattern = contains_pattern(text)
        conditions.append(
            or_(
                func.lower(Client.name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Client.email, "")).like(pattern, escape="\\"),
            )
        )
    # Alphabetical as a person reads it ("de Souza" among the Ds), whatever the collation; the
    # cursor keeps the database's own folded name, so pages meet exactly.
    sort_name = func.lower(Client.name)
    query = select(Client, sort_name).where(*conditions).order_by(sort_name, col(Client.id))
    if after is not None:
        name, last_id = decode_cursor(after, "CLIENT_NAME", 2)
        if not isinstance(name, str) or type(last_id) is not int or not 0 <= last_id < 2**31:
            raise BadRequest("after is not a cursor returned by this list")
        query = query.where(tuple_(sort_name, Client.id) > tuple_(name, last_id))
    rows = list((await session.execute(query.limit(limit + 1))).all())
    total = int(
        await session.scalar(select(func.count()).select_from(Client).where(*conditions)) or 0
    )
    page_rows = rows[:limit]
    cursors = [encode_cursor("CLIENT_NAME", [folded, c.id]) for c, folded in page_rows]
    clients = [c for c, _folded in page_rows]
    return Page(rows=clients, cursors=cursors, has_next_page=len(rows) > limit), total
