"""Signing in and out: argon2 passwords, bearer tokens, revocation and expiry."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from casetasks.app import create_app
from casetasks.settings import Settings
from models import AuthSession
from models import Staff as StaffRow
from schema.ids import key_of
from tests.conftest import Env
from tests.factories import PASSWORD
from tests.graphql_client import Api

LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    viewer { __typename ... on Staff { id name email } }
    errors { field code message }
  }
}
"""
LOGOUT = "mutation { logout }"
ME = "{ me { __typename ... on Staff { id name email } } }"
TASKS = "{ tasks { totalCount } }"
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } errors { message } }
}
"""


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def login(env: Env, email: str, password: str) -> dict[str, Any]:
    return await env.api.mutate("login", LOGIN, {"email": email, "password": password})


async def assert_signed_out(api: Api, token: str) -> None:
    """The token no longer identifies anyone: me is null and protected fields refuse."""
    me = await api.post(ME, token=token)
    assert me["data"] == {"me": None} and "errors" not in me
    tasks = await api.post(TASKS, token=token)
    assert codes(tasks) == ["UNAUTHENTICATED"]
    assert tasks["data"] is None


async def assert_signed_in_as(api: Api, token: str, staff_id: str) -> None:
    me = await api.data(ME, token=token)
    assert me["me"]["id"] == staff_id
    await api.data(TASKS, token=token)


# ---------------------------------------------------------------- login


async def test_login_returns_a_bearer_token_whose_viewer_is_the_staff_member(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin

    payload = await login(env, admin.email, PASSWORD)

    assert payload["errors"] == []
    assert payload["viewer"] == {
        "__typename": "Staff",
        "id": admin.id,
        "name": admin.name,
        "email": admin.email,
    }
    token = payload["token"]
    assert isinstance(token, str) and len(token) >= 32
    await assert_signed_in_as(env.api, token, admin.id)
    # The scheme is case-insensitive, as HTTP has it.
    response = await env.api.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"bearer {token}"}
    )
    assert response.json()["data"]["me"]["id"] == admin.id


async def test_email_is_case_insensitive_and_trimmed(env: Env) -> None:
    provider = await env.world.provider()
    shouted = "  " + provider.admin.email.upper() + " "

    payload = await login(env, shouted, PASSWORD)

    assert payload["errors"] == []
    assert payload["viewer"]["id"] == provider.admin.id


async def test_wrong_password_and_unknown_email_give_the_same_user_error(env: Env) -> None:
    provider = await env.world.provider()

    wrong_password = await login(env, provider.admin.email, "not the password")
    password_in_other_case = await login(env, provider.admin.email, PASSWORD.upper())
    unknown_email = await login(env, "nobody@nowhere.example", PASSWORD)

    for payload in (wrong_password, password_in_other_case, unknown_email):
        assert payload["token"] is None
        assert payload["viewer"] is None
        assert len(payload["errors"]) == 1
    assert wrong_password["errors"] == unknown_email["errors"]
    assert password_in_other_case["errors"] == unknown_email["errors"]
    error = unknown_email["errors"][0]
    assert error["code"] == "INVALID"
    assert error["message"]

    # Blank fields are the same user error, not a crash; no answer echoes the password tried.
    for email, password in (("", ""), (provider.admin.email, ""), ("", PASSWORD)):
        payload = await login(env, email, password)
        assert payload["token"] is None
        assert payload["errors"] == unknown_email["errors"]
    secret = "Sup3r-Secret-Attempt!"
    for email in (provider.admin.email, "nobody@nowhere.example"):
        response = await env.api.http.post(
            "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": secret}}
        )
        assert secret.lower() not in response.text.lower()


async def test_passwords_are_stored_as_argon2_hashes_and_tokens_only_as_digests(env: Env) -> None:
    provider = await env.world.provider()
    admin_key = key_of(provider.admin.id, "Staff")

    async with env.world.session_factory() as session:
        staff = await session.get(StaffRow, admin_key)
        assert staff is not None
        assert staff.password_hash.startswith("$argon2id$")
        assert PASSWORD not in staff.password_hash
        stored = list(await session.scalars(select(AuthSession.token_hash)))

    assert stored, "a session row per login"
    assert provider.admin.token not in stored
    assert all(provider.admin.token not in digest for digest in stored)


# ---------------------------------------------------------------- logout


async def test_logout_revokes_the_token_from_the_next_request_on(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    await assert_signed_in_as(env.api, token, provider.admin.id)

    assert await env.api.data(LOGOUT, token=token) == {"logout": True}

    await assert_signed_out(env.api, token)
    created = await env.api.post(
        CREATE_TASK,
        {"input": {"name": "x", "dueDate": "2027-03-15", "responsibleIds": [provider.admin.id]}},
        token,
    )
    assert codes(created) == ["UNAUTHENTICATED"]
    assert token not in json.dumps(created)
    # Logging out again with the dead token changes nothing.
    assert await env.api.data(LOGOUT, token=token) == {"logout": False}


async def test_logout_ends_only_the_session_of_the_token_used(env: Env) -> None:
    provider = await env.world.provider()
    other_device = await env.world.login(provider.admin.email)
    assert other_device != provider.admin.token
    await assert_signed_in_as(env.api, other_device, provider.admin.id)

    await env.api.data(LOGOUT, token=provider.admin.token)

    await assert_signed_out(env.api, provider.admin.token)
    await assert_signed_in_as(env.api, other_device, provider.admin.id)


# ---------------------------------------------------------------- expiry


async def test_token_expires_after_the_default_ttl_of_twelve_hours(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token

    env.clock.advance(timedelta(hours=11, minutes=59))
    await assert_signed_in_as(env.api, token, provider.admin.id)

    env.clock.advance(timedelta(hours=1, minutes=1))  # 13 hours after signing in
    await assert_signed_out(env.api, token)

    fresh = await env.world.login(provider.admin.email)
    await assert_signed_in_as(env.api, fresh, provider.admin.id)


async def test_token_lifetime_follows_the_configured_ttl(env: Env, settings: Settings) -> None:
    provider = await env.world.provider()
    short_lived = settings.model_copy(update={"token_ttl_hours": 2.0})
    app = create_app(short_lived, clock=env.clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http,
    ):
        api = Api(http)
        payload = await api.mutate(
            "login", LOGIN, {"email": provider.admin.email, "password": PASSWORD}
        )
        token = payload["token"]

        env.clock.advance(timedelta(hours=1, minutes=59))
        await assert_signed_in_as(api, token, provider.admin.id)
        env.clock.advance(timedelta(minutes=2))
        await assert_signed_out(api, token)


# ---------------------------------------------------------------- missing or bad tokens

PROTECTED = {
    "tasks": ("{ tasks { totalCount } }", {}),
    "clients": ("{ clients { totalCount } }", {}),
    "createStaff": (
        "mutation($i: CreateStaffInput!) { createStaff(input: $i) { staff { id } } }",
        {"i": {"name": "Eve", "email": "eve@example.org", "password": PASSWORD}},
    ),
    "createClient": (
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
        {"i": {"name": "Someone"}},
    ),
}


async def test_requests_without_a_token_are_unauthenticated(env: Env) -> None:
    provider = await env.world.provider()

    assert await env.api.data(ME) == {"me": None}
    assert await env.api.data(LOGOUT) == {"logout": False}
    for name, (query, variables) in PROTECTED.items():
        body = await env.api.post(query, variables)
        assert codes(body) == ["UNAUTHENTICATED"], name
    node = await env.api.post("query($id: ID!) { node(id: $id) { id } }", {"id": provider.id})
    assert codes(node) == ["UNAUTHENTICATED"]
    assert node["data"] == {"node": None}

    staff = await env.api.data(
        "{ me { ... on Staff { id } } }", token=provider.admin.token
    )  # nothing was created by the refused calls
    assert staff["me"]["id"] == provider.admin.id
    clients = await env.api.data("{ clients { totalCount } }", token=provider.admin.token)
    assert clients["clients"]["totalCount"] == 0


async def test_garbage_authorization_headers_are_unauthenticated(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token
    headers = [
        "Bearer garbage",
        "Bearer ",
        "Bearer",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        f"Basic {token}",
        f"Bearer {token}x",
        f"Bearer {token[:-1]}",
        token,
    ]

    for header in headers:
        for query, expected in ((ME, []), (TASKS, ["UNAUTHENTICATED"])):
            response = await env.api.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": header}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert codes(body) == expected, header
            assert token not in response.text
            if query == ME:
                assert body["data"] == {"me": None}
            else:
                assert body["data"] is None
    await assert_signed_in_as(env.api, token, provider.admin.id)


# ---------------------------------------------------------------- secrets


async def test_deactivated_staff_cannot_log_in(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider)
    unknown = await login(env, "nobody@nowhere.example", PASSWORD)

    deactivated = await env.api.mutate(
        "updateStaff",
        "mutation($i: UpdateStaffInput!) { updateStaff(input: $i) { errors { message } } }",
        {"i": {"id": member.id, "active": False}},
        provider.admin.token,
    )
    assert deactivated["errors"] == []

    payload = await login(env, member.email, PASSWORD)
    assert payload["token"] is None
    assert payload["viewer"] is None
    assert payload["errors"] == unknown["errors"]
