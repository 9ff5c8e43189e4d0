"""Clients of a provider, and their access to the client dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AuthSession, Client, Staff
from services import permissions
from services.auth import email_taken, normalise_email
from services.clock import Clock
from services.errors import BadRequest, NotFound, Problems
from services.pagination import Page, check_page_size, decode_cursor, encode_cursor
from services.passwords import hash_password, password_problem
from services.rows import visible_row
from services.validation import (
    KEEP,
    Keep,
    blank,
    check_person_name,
    clean,
    contains_pattern,
    email_problem,
)
from services.viewer import ClientViewer, StaffViewer, Viewer


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
        elif not email_problem(email) and await email_taken(
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
    check_person_name(problems, name)
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
    client = await visible_row(
        session, Client, client_id, permissions.own_provider_of(staff), lock=True
    )
    new_email = client.email if email is KEEP else email
    new_password = None if portal_password is KEEP else portal_password
    problems = Problems()
    if name is not KEEP:
        check_person_name(problems, name)
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
        and await email_taken(session, normalise_email(str(new_email)), client.id)
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
        # A new password (or none) signs the client out everywhere.
        await session.execute(
            update(AuthSession)
            .where(col(AuthSession.client_id) == client.id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=func.now())
        )
    client.login_email = client.email if client.portal_password_hash else None
    await session.flush()
    return client


async def get_client(session: AsyncSession, viewer: Viewer | None, client_id: int) -> Client:
    """Staff: their provider's clients. A signed-in client: only themselves."""
    viewer = permissions.require_signed_in(viewer)
    client = await visible_row(session, Client, client_id, permissions.own_provider_of(viewer))
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
