"""node(id) for every Node type, me, opaque IDs, and errors that never leak internals."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import Env
from tests.factories import PASSWORD

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Task { name dueDate responsible { id } }
    ... on Staff { name email isAdministrator provider { id } }
    ... on Client { name caseworker { id } provider { id } }
    ... on ServiceProvider { name timezone group { id name } }
    ... on ServiceProviderGroup { name providers { id name } }
  }
}
"""
ME = (
    "{ me { __typename ... on Staff { id name email isAdministrator isGroupAdministrator"
    " groupTasksPermission permissions active provider { id name timezone } } } }"
)


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def raw_id(text_id: str) -> str:
    """An ID built by hand, as a misbehaving client might."""
    return base64.urlsafe_b64encode(text_id.encode()).decode().rstrip("=")


async def node(env: Env, token: str, node_id: str) -> dict[str, Any]:
    return await env.api.post(NODE, {"id": node_id}, token)


def only_error(body: dict[str, Any]) -> tuple[str, str]:
    assert body["data"] == {"node": None}, body
    [error] = body["errors"]
    return error["message"], error["extensions"]["code"]


# ---------------------------------------------------------------- node(id)


async def test_node_resolves_every_node_type(env: Env) -> None:
    provider = await env.world.provider(name="Northside", group="North Group")
    caseworker = await env.world.staff(provider, name="Ben")
    client_id = await env.world.client(provider, name="Hannah", caseworker=caseworker)
    task = await env.world.task(caseworker, name="Call Hannah", clientId=client_id)
    token = provider.admin.token
    assert provider.group_id is not None

    expected = {
        task["id"]: {
            "__typename": "Task",
            "name": "Call Hannah",
            "dueDate": "2027-03-15",
            "responsible": [{"id": caseworker.id}],
        },
        caseworker.id: {
            "__typename": "Staff",
            "name": "Ben",
            "email": caseworker.email,
            "isAdministrator": False,
            "provider": {"id": provider.id},
        },
        client_id: {
            "__typename": "Client",
            "name": "Hannah",
            "caseworker": {"id": caseworker.id},
            "provider": {"id": provider.id},
        },
        provider.id: {
            "__typename": "ServiceProvider",
            "name": "Northside",
            "timezone": "Australia/Sydney",
            "group": {"id": provider.group_id, "name": "North Group"},
        },
        provider.group_id: {
            "__typename": "ServiceProviderGroup",
            "name": "North Group",
            "providers": [{"id": provider.id, "name": "Northside"}],
        },
    }
    for node_id, fields in expected.items():
        data = await env.api.data(NODE, {"id": node_id}, token)
        assert data["node"] == {"id": node_id} | fields


async def test_ids_are_globally_unique_across_types(env: Env) -> None:
    provider = await env.world.provider(group="Unique Group")
    client_id = await env.world.client(provider)
    task = await env.world.task(provider.admin)

    ids = [provider.id, provider.group_id, provider.admin.id, client_id, task["id"]]

    assert len(set(ids)) == len(ids)
    for node_id in ids:
        assert (await env.api.data(NODE, {"id": node_id}, provider.admin.token))["node"][
            "id"
        ] == node_id


async def test_group_lists_its_providers(env: Env) -> None:
    first = await env.world.provider(name="Alpha Services", group="Shared")
    second = await env.world.provider(name="Beta Services", group="Shared")
    assert first.group_id == second.group_id and first.group_id is not None

    data = await env.api.data(NODE, {"id": first.group_id}, second.admin.token)

    assert data["node"]["providers"] == [
        {"id": first.id, "name": "Alpha Services"},
        {"id": second.id, "name": "Beta Services"},
    ]
    loner = await env.world.provider()
    alone = await env.api.data(NODE, {"id": loner.id}, loner.admin.token)
    assert alone["node"]["group"] is None


async def test_malformed_or_unknown_ids_are_not_found_like_a_missing_record(env: Env) -> None:
    provider = await env.world.provider()
    missing = await node(env, provider.admin.token, raw_id("Task:99999"))
    assert only_error(missing) == ("Not found", "NOT_FOUND")

    for bogus in [
        "garbage",
        "",
        "!!!",
        raw_id("Nope:1"),
        raw_id("Task:abc"),
        raw_id("Task:-1"),
        raw_id("Task:"),
        raw_id("Task:99999999999999999999999"),
        raw_id("Staff:9223372036854775808"),
        raw_id("Client:2147483648"),
        raw_id("TaskSeries:1"),
        raw_id("Staff:\u0661"),  # an Arabic-Indic one: a digit, but not the admin's key 1
    ]:
        body = await node(env, provider.admin.token, bogus)
        assert only_error(body) == only_error(missing), bogus


async def test_an_id_of_another_type_is_not_found(env: Env) -> None:
    provider = await env.world.provider()
    client_id = await env.world.client(provider)

    for field, wrong_id in (("task", provider.admin.id), ("client", provider.id)):
        body = await env.api.post(
            f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}",
            {"id": wrong_id},
            provider.admin.token,
        )
        assert body["data"] == {field: None}
        assert codes(body) == ["NOT_FOUND"]
    await env.api.data(
        "query($id: ID!) { client(id: $id) { id } }", {"id": client_id}, provider.admin.token
    )


async def test_node_needs_a_signed_in_viewer(env: Env) -> None:
    provider = await env.world.provider()
    task = await env.world.task(provider.admin)

    for node_id in (task["id"], provider.admin.id, provider.id):
        body = await env.api.post(NODE, {"id": node_id})
        assert body["data"] == {"node": None}
        assert codes(body) == ["UNAUTHENTICATED"]


async def test_a_task_node_needs_the_tasks_permission(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, tasks=False)
    task = await env.world.task(provider.admin)

    body = await node(env, member.token, task["id"])

    assert codes(body) == ["FORBIDDEN"]
    # People and the provider stay visible without it.
    assert (await env.api.data(NODE, {"id": provider.id}, member.token))["node"]["id"] == (
        provider.id
    )
    assert (await env.api.data(NODE, {"id": member.id}, member.token))["node"]["id"] == member.id


# ---------------------------------------------------------------- me


async def test_me_is_the_signed_in_staff_member(env: Env) -> None:
    provider = await env.world.provider(name="Eastside", timezone="Australia/Perth")
    member = await env.world.staff(provider, name="Chloe", tasks=False)

    data = await env.api.data(ME, token=member.token)

    assert data["me"] == {
        "__typename": "Staff",
        "id": member.id,
        "name": "Chloe",
        "email": member.email,
        "isAdministrator": False,
        "isGroupAdministrator": False,
        "groupTasksPermission": False,
        "permissions": [],
        "active": True,
        "provider": {"id": provider.id, "name": "Eastside", "timezone": "Australia/Perth"},
    }
    assert await env.api.data(ME) == {"me": None}


# ---------------------------------------------------------------- errors never leak internals

LEAKS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "sqlite",
    "asyncpg",
    "psycopg",
    "SELECT",
    "task_gone",
    "no such table",
    "does not exist",
    "stacktrace",
    "exception",
)


async def test_an_unexpected_error_is_internal_with_no_internals(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    provider = await env.world.provider()
    await env.world.task(provider.admin, name="Ida's task")
    # Break this test's own database underneath the running app (sign-in still works).
    async with env.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE task RENAME TO task_gone"))

    with caplog.at_level(logging.ERROR, logger="casetasks"):
        response = await env.api.http.post(
            "/graphql",
            json={"query": "{ tasks { totalCount edges { node { name } } } }"},
            headers={"Authorization": f"Bearer {provider.admin.token}"},
        )

    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal error"
    # The request id names the log line holding the traceback (tests/test_production_mode.py).
    assert error["extensions"] == {
        "code": "INTERNAL",
        "requestId": response.headers["x-request-id"],
    }
    assert set(error) <= {"message", "locations", "path", "extensions"}
    for leak in LEAKS:
        assert leak.lower() not in response.text.lower(), leak
    assert provider.admin.token not in response.text
    # The operator still gets the whole story in the log.
    assert any(record.exc_info for record in caplog.records)

    # A mutation failing the same way says no more, and echoes none of its input.
    response = await env.api.http.post(
        "/graphql",
        json={
            "query": "mutation($i: CreateTaskInput!) { createTask(input: $i) {"
            " task { id } errors { message } } }",
            "variables": {
                "i": {
                    "name": "Secret Name",
                    "details": "secret@example.org",
                    "dueDate": "2027-03-01",
                    "responsibleIds": [provider.admin.id],
                }
            },
        },
        headers={"Authorization": f"Bearer {provider.admin.token}"},
    )
    body = response.json()
    assert codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "Internal error"
    for leak in (*LEAKS, "Secret Name", "secret@example.org", PASSWORD):
        assert leak.lower() not in response.text.lower(), leak


async def test_a_failure_while_checking_the_token_is_internal_too(env: Env) -> None:
    """Outside GraphQL execution (the sign-in lookup), the answer still has the contract's shape."""
    provider = await env.world.provider()
    async with env.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE auth_session RENAME TO auth_session_gone"))
    # As a real server does: answer the request, and let the exception reach the server's log.
    transport = httpx.ASGITransport(app=env.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ me { __typename } }"},
            headers={"Authorization": f"Bearer {provider.admin.token}"},
        )

    assert response.status_code == 500
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Internal error",
                "extensions": {"code": "INTERNAL", "requestId": response.headers["x-request-id"]},
            }
        ],
    }
    for leak in (*LEAKS, "auth_session", provider.admin.token):
        assert leak.lower() not in response.text.lower(), leak


async def test_validation_errors_are_plain_and_coded(env: Env) -> None:
    provider = await env.world.provider()

    body = await env.api.post("{ me { nonsense } }", token=provider.admin.token)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in json.dumps(body)
