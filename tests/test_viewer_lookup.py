"""services.auth.viewer_for_token: one prebuilt statement, on a session or a request's read
connection (casetasks.db.ReadConnection), with every rule applied on each lookup (expiry,
revocation, deactivation, portal access)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from casetasks.db import ReadConnection
from schema.ids import from_global_id
from services.auth import TokenPolicy, viewer_for_token
from services.viewer import ClientViewer, StaffViewer, Viewer
from tests.conftest import Env
from tests.test_client_portal import portal_client

Lookup = Callable[[Env, str], AbstractAsyncContextManager[AsyncSession | ReadConnection]]


@asynccontextmanager
async def on_session(env: Env, _token: str) -> AsyncIterator[AsyncSession | ReadConnection]:
    async with env.app.state.services.session_factory() as session:
        yield session


@asynccontextmanager
async def on_connection(env: Env, _token: str) -> AsyncIterator[AsyncSession | ReadConnection]:
    async with env.engine.connect() as connection:
        yield ReadConnection(connection)


@pytest.fixture(params=[on_session, on_connection], ids=["session", "connection"])
def where(request: pytest.FixtureRequest) -> Lookup:
    return request.param  # type: ignore[no-any-return]


def policy(env: Env) -> TokenPolicy:
    return env.app.state.services.tokens  # type: ignore[no-any-return]


async def lookup(env: Env, where: Lookup, token: str) -> Viewer | None:
    async with where(env, token) as db:
        return await viewer_for_token(db, token, policy(env), env.clock)


def key_of(global_id: str | None) -> int:
    decoded = from_global_id(global_id or "")
    assert decoded is not None, global_id
    return decoded[1]


async def sql(env: Env, statement: str, **values: Any) -> None:
    async with env.engine.begin() as connection:
        await connection.execute(text(statement), values)


async def session_id_of(env: Env, token: str) -> int:
    async with env.engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT id FROM auth_session WHERE token_hash = :h"),
            {"h": policy(env).digest(token)},
        )
    assert isinstance(found, int)
    return found


async def test_a_staff_token_gives_the_whole_staff_viewer(env: Env, where: Lookup) -> None:
    provider = await env.world.provider(timezone="Australia/Perth", group="West", group_admin=True)
    viewer = await lookup(env, where, provider.admin.token)
    assert viewer == StaffViewer(
        staff_id=key_of(provider.admin.id),
        provider_id=key_of(provider.id),
        provider_timezone="Australia/Perth",
        group_id=key_of(provider.group_id or ""),
        name=provider.admin.name,
        is_administrator=True,
        is_group_administrator=True,
        tasks_permission=True,
        group_tasks_permission=False,
        session_id=await session_id_of(env, provider.admin.token),
    )
    member = await env.world.staff(provider, tasks=False)
    seen = await lookup(env, where, member.token)
    assert isinstance(seen, StaffViewer)
    assert (seen.staff_id, seen.is_administrator, seen.tasks_permission) == (
        key_of(member.id),
        False,
        False,
    )


async def test_a_portal_clients_token_gives_the_client_viewer(env: Env, where: Lookup) -> None:
    provider = await env.world.provider(timezone="Europe/Paris")
    client = await portal_client(env.world, provider, "Émile Zola")
    viewer = await lookup(env, where, client.token)
    assert viewer == ClientViewer(
        client_id=key_of(client.id),
        provider_id=key_of(provider.id),
        provider_timezone="Europe/Paris",
        name="Émile Zola",
        session_id=await session_id_of(env, client.token),
    )


async def test_unknown_expired_and_revoked_tokens_give_no_viewer(env: Env, where: Lookup) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    assert await lookup(env, where, "not-a-token") is None
    assert await lookup(env, where, token) is not None

    env.clock.advance(timedelta(hours=12, seconds=1))  # the default TTL is twelve hours
    assert await lookup(env, where, token) is None
    env.clock.advance(-timedelta(hours=12, seconds=1))
    assert await lookup(env, where, token) is not None

    await sql(
        env,
        "UPDATE auth_session SET revoked_at = created_at WHERE token_hash = :h",
        h=policy(env).digest(token),
    )
    assert await lookup(env, where, token) is None


async def test_deactivation_and_withdrawn_portal_access_apply_to_the_next_lookup(
    env: Env, where: Lookup
) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider)
    client = await portal_client(env.world, provider)
    assert await lookup(env, where, member.token) is not None
    assert await lookup(env, where, client.token) is not None

    await sql(env, "UPDATE staff SET active = :no WHERE id = :i", no=False, i=key_of(member.id))
    await sql(
        env, "UPDATE client SET portal_password_hash = NULL WHERE id = :i", i=key_of(client.id)
    )
    assert await lookup(env, where, member.token) is None
    assert await lookup(env, where, client.token) is None
    assert await lookup(env, where, provider.admin.token) is not None

    await sql(env, "UPDATE staff SET active = :yes WHERE id = :i", yes=True, i=key_of(member.id))
    assert await lookup(env, where, member.token) is not None


async def test_one_statement_compiled_once(env: Env, where: Lookup) -> None:
    """The same compiled form on every lookup (SQLAlchemy's cache, so also one prepared
    statement per connection), and no other statement on the way."""
    provider = await env.world.provider()
    compiled: list[Any] = []

    def seen(*args: Any) -> None:
        statement, context = args[2], args[4]
        if "auth_session" in statement:  # no execution context when asyncpg sends it directly
            compiled.append(context.compiled if context is not None else None)

    event.listen(env.engine.sync_engine, "before_cursor_execute", seen)
    try:
        env.sql.reset()
        for _ in range(3):
            assert await lookup(env, where, provider.admin.token) is not None
    finally:
        event.remove(env.engine.sync_engine, "before_cursor_execute", seen)
    assert env.sql.count == 3, env.sql.statements
    assert len(compiled) == 3
    assert all(item is compiled[0] for item in compiled)
    assert "auth_session" in env.sql.statements[0]
