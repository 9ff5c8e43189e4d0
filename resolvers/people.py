"""Sign-in, staff, clients and providers: sessions around the people services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models import Client, ServiceProvider, ServiceProviderGroup, Staff
from resolvers.changes import change
from resolvers.context import Context
from services import auth, permissions
from services import clients as client_service
from services import providers as provider_service
from services import staff as staff_service
from services.pagination import Page
from services.viewer import ClientViewer, StaffViewer


async def login(ctx: Context, email: str, password: str) -> auth.SignedIn:
    async with change(ctx) as session:
        return await auth.login(
            session,
            email,
            password,
            ctx.services.tokens,
            ctx.clock,
            throttle=ctx.services.login_throttle,
            address=ctx.address,
        )


async def logout(ctx: Context) -> bool:
    if ctx.viewer is None:
        return False
    async with change(ctx) as session:
        await auth.logout(session, ctx.viewer, ctx.clock)
    return True


async def create_staff(
    ctx: Context,
    *,
    name: str | None,
    email: str | None,
    password: str | None,
    is_administrator: bool,
    permissions_granted: Sequence[str],
) -> Staff:
    async with change(ctx) as session:
        return await staff_service.create_staff(
            session,
            ctx.viewer,
            ctx.clock,
            name=name,
            email=email,
            password=password,
            is_administrator=is_administrator,
            permissions_granted=permissions_granted,
        )


async def update_staff(
    ctx: Context,
    staff_id: int,
    *,
    name: str | None,
    name_given: bool,
    is_administrator: bool | None,
    permissions_granted: Sequence[str] | None,
    active: bool | None,
    is_group_administrator: bool | None = None,
) -> Staff:
    ctx.forget(staff_id=staff_id)
    async with change(ctx) as session:
        return await staff_service.update_staff(
            session,
            ctx.viewer,
            staff_id,
            name=name,
            name_given=name_given,
            is_administrator=is_administrator,
            permissions_granted=permissions_granted,
            active=active,
            is_group_administrator=is_group_administrator,
        )


async def create_client(
    ctx: Context,
    *,
    name: str | None,
    email: str | None,
    caseworker_id: int | None,
    caseworker_given: bool,
    portal_password: str | None,
) -> Client:
    async with change(ctx) as session:
        return await client_service.create_client(
            session,
            ctx.viewer,
            ctx.clock,
            name=name,
            email=email,
            caseworker_id=caseworker_id,
            caseworker_given=caseworker_given,
            portal_password=portal_password,
        )


async def update_client(ctx: Context, client_id: int, **changes: Any) -> Client:
    ctx.forget(client_id=client_id)
    async with change(ctx) as session:
        return await client_service.update_client(session, ctx.viewer, client_id, **changes)


async def viewer_row(ctx: Context) -> Staff | Client | None:
    """The signed-in staff member's or client's own row."""
    viewer = ctx.viewer
    if isinstance(viewer, StaffViewer):
        return await ctx.loaders.staff.load(viewer.staff_id)
    if isinstance(viewer, ClientViewer):
        return await ctx.loaders.client.load(viewer.client_id)
    return None


async def staff(ctx: Context, staff_id: int) -> Staff:
    async with ctx.session_factory() as session:
        return await staff_service.get_staff(session, ctx.viewer, staff_id)


async def client(ctx: Context, client_id: int) -> Client:
    async with ctx.session_factory() as session:
        return await client_service.get_client(session, ctx.viewer, client_id)


async def clients(
    ctx: Context, search: str | None, first: int | None, after: str | None
) -> tuple[Page[Client], int]:
    async with ctx.session_factory() as session:
        return await client_service.list_clients(session, ctx.viewer, search, first, after)


async def provider(ctx: Context, provider_id: int) -> ServiceProvider:
    async with ctx.session_factory() as session:
        return await provider_service.get_provider(session, ctx.viewer, provider_id)


async def group(ctx: Context, group_id: int) -> ServiceProviderGroup:
    async with ctx.session_factory() as session:
        return await provider_service.get_group(session, ctx.viewer, group_id)


async def provider_staff(ctx: Context, provider_id: int, include_inactive: bool) -> list[Staff]:
    viewer = permissions.require_staff(ctx.viewer)
    async with ctx.session_factory() as session:
        return await staff_service.list_staff(session, viewer, provider_id, include_inactive)


async def task_recipients(ctx: Context) -> list[ServiceProvider]:
    viewer = permissions.require_staff(ctx.viewer)
    async with ctx.session_factory() as session:
        return await provider_service.task_recipients(session, viewer)


async def set_group_tasks_permission(ctx: Context, staff_id: int, enabled: bool) -> Staff:
    ctx.forget(staff_id=staff_id)
    async with change(ctx) as session:
        return await provider_service.set_group_tasks_permission(
            session, ctx.viewer, staff_id, enabled
        )


async def group_providers(ctx: Context, group_id: int) -> list[ServiceProvider]:
    async with ctx.session_factory() as session:
        return await provider_service.group_providers(session, group_id)
