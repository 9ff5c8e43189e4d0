"""Signing in and out, and turning a bearer token back into a viewer."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, and_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AuthSession, Client, ServiceProvider, Staff
from models.types import table_of
from services.clock import Clock
from services.errors import InvalidInput, Problem, ProblemCode
from services.login_throttle import LoginThrottle
from services.outbox import outbox
from services.passwords import verify_password
from services.recent import Recent
from services.viewer import ClientViewer, StaffViewer, Viewer

WRONG_CREDENTIALS = "Email or password is incorrect"


@dataclass(frozen=True)
class TokenPolicy:
    secret_key: str
    ttl: timedelta

    def digest(self, token: str) -> str:
        return hmac.new(self.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str
    viewer: Viewer


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def _identity(session: AsyncSession, email: str) -> Staff | Client | None:
    """Staff first, then a client with portal access: one email names one login."""
    address = normalise_email(email)
    staff = await session.scalar(select(Staff).where(col(Staff.email) == address))
    if staff is not None:
        return staff
    return await session.scalar(select(Client).where(col(Client.login_email) == address))


async def login(
    session: AsyncSession,
    email: str,
    password: str,
    policy: TokenPolicy,
    clock: Clock,
    throttle: LoginThrottle | None = None,
    address: str | None = None,
) -> SignedIn:
    """The same answer, in the same time, for an unknown email and a wrong password.

    With a throttle, attempts past its limits are refused (RateLimited) before the password
    is looked at, for known and unknown e-mails alike."""
    if throttle is not None:
        throttle.check(email, address)
    try:
        signed_in = await _sign_in(session, email, password, policy, clock)
    except InvalidInput:
        if throttle is not None:
            throttle.failed(email, address)
        raise
    if throttle is not None:
        throttle.succeeded(email)
    return signed_in


async def _sign_in(
    session: AsyncSession, email: str, password: str, policy: TokenPolicy, clock: Clock
) -> SignedIn:
    who = await _identity(session, email)
    password_hash = (
        who.password_hash if isinstance(who, Staff) else who.portal_password_hash if who else None
    )
    password_ok = verify_password(password_hash, password)
    allowed = who.active if isinstance(who, Staff) else who is not None
    if who is None or not password_ok or not allowed:
        raise InvalidInput([Problem(None, ProblemCode.INVALID, WRONG_CREDENTIALS)])
    token = secrets.token_urlsafe(32)
    now = clock.now()
    auth = AuthSession(
        token_hash=policy.digest(token),
        staff_id=who.id if isinstance(who, Staff) else None,
        client_id=who.id if isinstance(who, Client) else None,
        created_at=now,
        expires_at=now + policy.ttl,
    )
    session.add(auth)
    await session.flush()
    viewer = await viewer_for_token(session, token, policy, clock)
    assert viewer is not None
    return SignedIn(token=token, viewer=viewer)


async def logout(session: AsyncSession, viewer: Viewer, clock: Clock) -> None:
    """Revokes the token used; subscriptions opened with it close."""
    if isinstance(viewer, StaffViewer):
        outbox(session).access_changes.append((viewer.staff_id, viewer.session_id))
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == viewer.session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=clock.now())
    )


def _viewer_statement() -> Select[Any]:
    """Built once: the same statement object on every request, so SQLAlchemy's compiled cache
    and the driver's prepared statement are both reused. Plain table columns, no ORM rows."""
    sessions = table_of(AuthSession)
    staff = table_of(Staff)
    clients = table_of(Client)
    providers = table_of(ServiceProvider)
    return (
        select(
            sessions.c.id,
            staff.c.id,
            staff.c.name,
            staff.c.is_administrator,
            staff.c.is_group_administrator,
            staff.c.tasks_permission,
            staff.c.group_tasks_permission,
            clients.c.id,
            clients.c.name,
            providers.c.id,
            providers.c.timezone,
            providers.c.group_id,
        )
        .select_from(sessions)
        # An inactive staff member, or a client whose portal access was withdrawn, joins
        # nothing here and so no provider below: no row, no viewer.
        .outerjoin(staff, and_(staff.c.id == sessions.c.staff_id, staff.c.active.is_(True)))
        .outerjoin(
            clients,
            and_(
                clients.c.id == sessions.c.client_id,
                clients.c.portal_password_hash.is_not(None),
            ),
        )
        .join(
            providers, providers.c.id == func.coalesce(staff.c.provider_id, clients.c.provider_id)
        )
        .where(
            sessions.c.token_hash == bindparam("token_hash"),
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > bindparam("now"),
        )
    )


_VIEWER = _viewer_statement()


class RowReader(Protocol):
    """A connection that sends SQL text and returns its first row (casetasks.db.ReadConnection,
    a request's read connection)."""

    dialect: Any

    async def fetch_row(self, sql: str, values: tuple[Any, ...]) -> tuple[Any, ...] | None: ...


@dataclass(frozen=True)
class ViewerLookup:
    """_VIEWER compiled once for a dialect and sent as SQL text: a bearer request spends nothing
    on SQLAlchemy's cache key, compilation lookup and result processing.
    The same text also goes inside a larger statement (the read planner's, which confirms the
    viewer it was planned for in the statement that reads the page), numbered from `first`."""

    dialect: str
    sql: str
    order: tuple[str, ...]
    converters: dict[str, Any]

    def numbered_from(self, first: int) -> str:
        """The SQL with its placeholders numbered first, first + 1, ... ($n or ?n)."""
        if self.dialect == "sqlite":
            numbers = iter(range(first, first + len(self.order)))
            return re.sub(r"\?", lambda _match: f"?{next(numbers)}", self.sql)
        return re.sub(r"\$(\d+)", lambda match: f"${int(match[1]) + first - 1}", self.sql)

    def parameters(self, token_hash: str, now: datetime) -> tuple[Any, ...]:
        values = {"token_hash": token_hash, "now": now}
        return tuple(
            self.converters[name](values[name]) if name in self.converters else values[name]
            for name in self.order
        )


_LOOKUPS: dict[str, ViewerLookup] = {}


def viewer_lookup(dialect: Any) -> ViewerLookup:
    found = _LOOKUPS.get(dialect.name)
    if found is None:
        compiled = _VIEWER.compile(dialect=dialect)
        converters = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if processor is not None and isinstance(name, str)
        }
        order = tuple(compiled.positiontup or ())
        found = _LOOKUPS[dialect.name] = ViewerLookup(
            dialect.name, compiled.string, order, converters
        )
    return found


async def viewer_for_token(
    db: AsyncSession | RowReader,
    token: str,
    policy: TokenPolicy,
    clock: Clock,
) -> Viewer | None:
    """None for an unknown, expired or revoked token, a deactivated staff member, or a client
    whose portal access was withdrawn.

    Read on every request (one statement, on a session or a request's read connection, or inside the
    read planner's statement), so that a deactivation or a removed permission takes effect at
    once.
    """
    token_hash, now = policy.digest(token), clock.now()
    row: Sequence[Any] | None
    if isinstance(db, AsyncSession):
        row = (await db.execute(_VIEWER, {"token_hash": token_hash, "now": now})).first()
    else:
        lookup = viewer_lookup(db.dialect)
        row = await db.fetch_row(lookup.sql, lookup.parameters(token_hash, now))
    return viewer_from_row(row)


def viewer_from_row(row: Sequence[Any] | None) -> Viewer | None:
    """The viewer a row of _VIEWER names; None for no row (or a row of nulls: no match)."""
    if row is None or row[0] is None:
        return None
    (
        session_id,
        staff_id,
        staff_name,
        is_administrator,
        is_group_administrator,
        tasks_permission,
        group_tasks_permission,
        client_id,
        client_name,
        provider_id,
        timezone,
        group_id,
    ) = row
    if client_id is not None:
        return ClientViewer(
            client_id=client_id,
            provider_id=provider_id,
            provider_timezone=timezone,
            name=client_name,
            session_id=session_id,
        )
    # bool(): SQLite's driver-level rows carry 0 and 1.
    return StaffViewer(
        staff_id=staff_id,
        provider_id=provider_id,
        provider_timezone=timezone,
        group_id=group_id,
        name=staff_name,
        is_administrator=bool(is_administrator),
        is_group_administrator=bool(is_group_administrator),
        tasks_permission=bool(tasks_permission),
        group_tasks_permission=bool(group_tasks_permission),
        session_id=session_id,
    )


class RecentViewers:
    """The viewer each recent token was last confirmed as (by token digest, per process).

    Never trusted on its own: a query the read planner answers is planned for the remembered
    viewer and its statement reads the viewer row again beside the page, so the answer is used
    only if the row still names the same viewer (a revoked token, a deactivation or a changed
    permission shows at once, and the query is answered again for who the token is now).
    Everything else looks the viewer up first, as before."""

    def __init__(self, size: int = 10_000) -> None:
        self._viewers: Recent[str, Viewer] = Recent(size)

    def get(self, token_hash: str) -> Viewer | None:
        return self._viewers.get(token_hash)

    def remember(self, token_hash: str, viewer: Viewer | None) -> None:
        if viewer is None:
            self._viewers.forget(token_hash)
        else:
            self._viewers.put(token_hash, viewer)


async def email_taken(session: AsyncSession, email: str, client_id: int | None = None) -> bool:
    """Whether a staff member or (another) client already signs in with this email."""
    if await session.scalar(select(exists().where(col(Staff.email) == email))):
        return True
    clients = select(
        exists().where(col(Client.login_email) == email, col(Client.id) != (client_id or 0))
    )
    return bool(await session.scalar(clients))
