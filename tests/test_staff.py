"""Administrators manage the staff of their own provider; changes apply from the next request."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Env
from tests.factories import PASSWORD, Person, Provider

STAFF_FIELDS = "id name email isAdministrator permissions active provider { id }"
CREATE_STAFF = (
    "mutation($input: CreateStaffInput!) { createStaff(input: $input) {"
    f" staff {{ {STAFF_FIELDS} }} errors {{ field code message }} }} }}"
)
UPDATE_STAFF = (
    "mutation($input: UpdateStaffInput!) { updateStaff(input: $input) {"
    f" staff {{ {STAFF_FIELDS} }} errors {{ field code message }} }} }}"
)
STAFF_LIST = (
    "query($id: ID!, $all: Boolean) { node(id: $id) { ... on ServiceProvider {"
    " staff(includeInactive: $all) { id name email active } } } }"
)
ME = f"{{ me {{ ... on Staff {{ {STAFF_FIELDS} }} }} }}"
TASKS = "{ tasks { totalCount } }"
LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
    " token errors { field code message } } }"
)


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def create_staff(env: Env, token: str, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("createStaff", CREATE_STAFF, {"input": fields}, token)


async def update_staff(env: Env, token: str, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("updateStaff", UPDATE_STAFF, {"input": fields}, token)


async def staff_list(env: Env, provider: Provider, include_inactive: bool = True) -> list[Any]:
    data = await env.api.data(
        STAFF_LIST, {"id": provider.id, "all": include_inactive}, provider.admin.token
    )
    return data["node"]["staff"]  # type: ignore[no-any-return]


async def staff_row(env: Env, provider: Provider, staff_id: str) -> dict[str, Any]:
    data = await env.api.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Staff {{ {STAFF_FIELDS} }} }} }}",
        {"id": staff_id},
        provider.admin.token,
    )
    return data["node"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- createStaff


async def test_admin_creates_staff_of_their_provider_who_can_then_sign_in(env: Env) -> None:
    provider = await env.world.provider()

    payload = await create_staff(
        env,
        provider.admin.token,
        name="  Ben Okafor ",
        email="Ben.Okafor@Example.org",
        password="a long enough password",
        isAdministrator=True,
        permissions=["TASKS"],
    )

    assert payload["errors"] == []
    staff = payload["staff"]
    assert staff["name"] == "Ben Okafor"
    assert staff["email"] == "ben.okafor@example.org"
    assert staff["isAdministrator"] is True
    assert staff["permissions"] == ["TASKS"]
    assert staff["active"] is True
    assert staff["provider"] == {"id": provider.id}

    token = await env.world.login("BEN.OKAFOR@example.org", "a long enough password")
    me = await env.api.data(ME, token=token)
    assert me["me"] == staff


async def test_create_staff_defaults_to_tasks_permission_and_no_admin_rights(env: Env) -> None:
    provider = await env.world.provider()
    token = provider.admin.token

    default = await create_staff(
        env, token, name="Chloe", email="chloe@example.org", password=PASSWORD
    )
    without = await create_staff(
        env, token, name="Dana", email="dana@example.org", password=PASSWORD, permissions=[]
    )

    assert default["errors"] == without["errors"] == []
    assert default["staff"]["isAdministrator"] is False
    assert default["staff"]["permissions"] == ["TASKS"]
    assert without["staff"]["permissions"] == []


async def test_create_staff_reports_every_missing_field_at_once_and_saves_nothing(
    env: Env,
) -> None:
    provider = await env.world.provider()
    before = await staff_list(env, provider)

    payload = await create_staff(env, provider.admin.token, name="   ")

    assert payload["staff"] is None
    by_field = {tuple(e["field"]): e for e in payload["errors"]}
    assert set(by_field) == {("input", "name"), ("input", "email"), ("input", "password")}
    assert all(e["code"] == "REQUIRED" for e in by_field.values())
    assert all(e["message"] for e in by_field.values())
    assert await staff_list(env, provider) == before


async def test_create_staff_validates_its_fields_without_echoing_them(env: Env) -> None:
    provider = await env.world.provider()
    before = await staff_list(env, provider)
    good = {"name": "Eve", "email": "eve@example.org", "password": PASSWORD}
    cases = [
        ("email", "not-an-email"),
        ("email", "two@@example.org"),
        ("email", "spaces in@example.org"),
        ("password", "Xq7!zP"),
        ("name", "x" * 201),
    ]

    for field, bad in cases:
        response = await env.api.http.post(
            "/graphql",
            json={"query": CREATE_STAFF, "variables": {"input": good | {field: bad}}},
            headers={"Authorization": f"Bearer {provider.admin.token}"},
        )
        payload = response.json()["data"]["createStaff"]
        assert payload["staff"] is None, bad
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", field], "INVALID")
        ], bad
        assert bad not in response.text

    assert await staff_list(env, provider) == before


async def test_duplicate_email_is_refused_case_insensitively_as_a_user_error(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Gina")
    before = await staff_list(env, provider)

    for email in (member.email, member.email.upper(), f"  {member.email.title()} "):
        payload = await create_staff(
            env, provider.admin.token, name="Gina Again", email=email, password=PASSWORD
        )
        assert payload["staff"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "email"], "INVALID")
        ]

    assert await staff_list(env, provider) == before
    # The original member's password still works; nobody else got their email.
    await env.world.login(member.email)


async def test_simultaneous_requests_for_one_email_create_one_member(env: Env) -> None:
    """The loser of the race gets the user error, not INTERNAL from the unique index."""
    provider = await env.world.provider()
    before = await staff_list(env, provider)

    bodies = await asyncio.gather(
        *(
            env.api.post(
                CREATE_STAFF,
                {"input": {"name": f"Twin {n}", "email": "twin@example.org", "password": PASSWORD}},
                provider.admin.token,
            )
            for n in range(4)
        )
    )

    assert [codes(body) for body in bodies] == [[]] * 4
    payloads = [body["data"]["createStaff"] for body in bodies]
    created = [p["staff"] for p in payloads if p["staff"] is not None]
    refused = [p["errors"] for p in payloads if p["staff"] is None]
    assert len(created) == 1
    assert len(refused) == 3
    for errors in refused:
        assert [(e["field"], e["code"]) for e in errors] == [(["input", "email"], "INVALID")]
    after = await staff_list(env, provider)
    assert len(after) == len(before) + 1


async def test_email_of_another_providers_staff_is_refused_too(env: Env) -> None:
    provider = await env.world.provider()
    other = await env.world.provider()

    payload = await create_staff(
        env, provider.admin.token, name="Copycat", email=other.admin.email, password=PASSWORD
    )

    assert payload["staff"] is None
    assert [e["field"] for e in payload["errors"]] == [["input", "email"]]
    await env.world.login(other.admin.email)


# ---------------------------------------------------------------- updateStaff


async def test_admin_changes_name_admin_rights_and_permissions(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Hugo")

    payload = await update_staff(
        env,
        provider.admin.token,
        id=member.id,
        name=" Hugo Boss ",
        isAdministrator=True,
        permissions=[],
    )

    assert payload["errors"] == []
    assert payload["staff"]["name"] == "Hugo Boss"
    assert payload["staff"]["isAdministrator"] is True
    assert payload["staff"]["permissions"] == []
    assert payload["staff"]["active"] is True
    assert await staff_row(env, provider, member.id) == payload["staff"]
    me = await env.api.data(ME, token=member.token)
    assert me["me"] == payload["staff"]


async def test_update_staff_leaves_fields_that_are_left_out_alone(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Ivy", administrator=True)
    before = await staff_row(env, provider, member.id)

    payload = await update_staff(env, provider.admin.token, id=member.id, name="Ivy Chen")

    assert payload["errors"] == []
    assert payload["staff"] == before | {"name": "Ivy Chen"}


async def test_update_staff_refuses_a_blank_name(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Jack")
    before = await staff_row(env, provider, member.id)

    for name in ("", "   ", None):
        payload = await update_staff(
            env, provider.admin.token, id=member.id, name=name, isAdministrator=True
        )
        assert payload["staff"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "name"], "REQUIRED")
        ]

    assert await staff_row(env, provider, member.id) == before


async def test_update_of_a_staff_id_that_does_not_exist_is_not_found(env: Env) -> None:
    provider = await env.world.provider()
    client_id = await env.world.client(provider)

    for bogus in ("U3RhZmY6OTk5OTk", client_id, "garbage"):
        body = await env.api.post(
            UPDATE_STAFF, {"input": {"id": bogus, "name": "Nobody"}}, provider.admin.token
        )
        assert codes(body) == ["NOT_FOUND"], bogus


async def test_deactivation_refuses_the_member_from_the_very_next_request(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Kim")
    await env.api.data(TASKS, token=member.token)

    payload = await update_staff(env, provider.admin.token, id=member.id, active=False)

    assert payload["errors"] == []
    assert payload["staff"]["active"] is False
    assert await env.api.data(ME, token=member.token) == {"me": None}
    assert codes(await env.api.post(TASKS, token=member.token)) == ["UNAUTHENTICATED"]
    refused = await env.api.mutate("login", LOGIN, {"e": member.email, "p": PASSWORD})
    assert refused["token"] is None and refused["errors"]

    # Reactivated, the member signs in again.
    payload = await update_staff(env, provider.admin.token, id=member.id, active=True)
    assert payload["staff"]["active"] is True
    token = await env.world.login(member.email)
    await env.api.data(TASKS, token=token)


async def test_inactive_staff_are_listed_only_on_request(env: Env) -> None:
    provider = await env.world.provider()
    active = await env.world.staff(provider, name="Active Al")
    gone = await env.world.staff(provider, name="Gone Gus")
    await update_staff(env, provider.admin.token, id=gone.id, active=False)

    default = await staff_list(env, provider, include_inactive=False)
    everyone = await staff_list(env, provider, include_inactive=True)

    assert {s["id"] for s in default} == {provider.admin.id, active.id}
    assert {s["id"] for s in everyone} == {provider.admin.id, active.id, gone.id}
    assert [s["active"] for s in everyone if s["id"] == gone.id] == [False]
    no_argument = await env.api.data(
        "query($id: ID!) { node(id: $id) { ... on ServiceProvider { staff { id } } } }",
        {"id": provider.id},
        provider.admin.token,
    )
    assert {s["id"] for s in no_argument["node"]["staff"]} == {provider.admin.id, active.id}


async def test_removing_tasks_permission_forbids_tasks_from_the_very_next_request(
    env: Env,
) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Lee")
    await env.api.data(TASKS, token=member.token)

    await update_staff(env, provider.admin.token, id=member.id, permissions=[])

    assert codes(await env.api.post(TASKS, token=member.token)) == ["FORBIDDEN"]
    me = await env.api.data(ME, token=member.token)
    assert me["me"]["permissions"] == []

    await update_staff(env, provider.admin.token, id=member.id, permissions=["TASKS"])
    await env.api.data(TASKS, token=member.token)


async def test_admins_cannot_lock_themselves_out(env: Env) -> None:
    provider = await env.world.provider()
    admin = provider.admin

    deactivate = await update_staff(env, admin.token, id=admin.id, active=False)
    demote = await update_staff(env, admin.token, id=admin.id, isAdministrator=False, name="New")

    assert deactivate["staff"] is None and demote["staff"] is None
    assert [(e["field"], e["code"]) for e in deactivate["errors"]] == [
        (["input", "active"], "INVALID")
    ]
    assert [(e["field"], e["code"]) for e in demote["errors"]] == [
        (["input", "isAdministrator"], "INVALID")
    ]
    row = await staff_row(env, provider, admin.id)
    assert (row["active"], row["isAdministrator"], row["name"]) == (True, True, admin.name)
    await env.api.data(TASKS, token=admin.token)


async def test_one_admin_may_deactivate_another(env: Env) -> None:
    provider = await env.world.provider()
    second_admin = await env.world.staff(provider, administrator=True)

    payload = await update_staff(env, second_admin.token, id=provider.admin.id, active=False)

    assert payload["errors"] == []
    assert await env.api.data(ME, token=provider.admin.token) == {"me": None}


async def test_administrator_without_tasks_permission_still_uses_tasks(env: Env) -> None:
    provider = await env.world.provider()
    admin = await env.world.staff(provider, tasks=False, administrator=True)

    await env.api.data(TASKS, token=admin.token)
    task = await env.world.task(admin, name="Admin's own task")
    assert task["name"] == "Admin's own task"


# ---------------------------------------------------------------- who may manage staff


async def test_non_administrators_are_forbidden_to_manage_staff(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Max")
    colleague = await env.world.staff(provider, name="Nia")
    before = await staff_list(env, provider)

    created = await env.api.post(
        CREATE_STAFF,
        {"input": {"name": "Otto", "email": "otto@example.org", "password": PASSWORD}},
        member.token,
    )
    assert codes(created) == ["FORBIDDEN"]
    for target, change in (
        (member.id, {"isAdministrator": True}),
        (colleague.id, {"active": False}),
        (provider.admin.id, {"name": "Demoted"}),
    ):
        updated = await env.api.post(UPDATE_STAFF, {"input": {"id": target} | change}, member.token)
        assert codes(updated) == ["FORBIDDEN"]

    assert await staff_list(env, provider) == before
    assert (await staff_row(env, provider, member.id))["isAdministrator"] is False


async def test_admin_rights_granted_or_removed_apply_at_the_next_request(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Pia")
    new_staff = {"name": "Quinn", "email": "quinn@example.org", "password": PASSWORD}

    await update_staff(env, provider.admin.token, id=member.id, isAdministrator=True)
    payload = await create_staff(env, member.token, **new_staff)
    assert payload["errors"] == []

    await update_staff(env, provider.admin.token, id=member.id, isAdministrator=False)
    refused = await env.api.post(
        CREATE_STAFF, {"input": new_staff | {"email": "quinn2@example.org"}}, member.token
    )
    assert codes(refused) == ["FORBIDDEN"]


# ---------------------------------------------------------------- the Tasks permission

TASK_OPERATIONS: dict[str, str] = {
    "tasks": "{ tasks { totalCount } }",
    "task": "query($id: ID!) { task(id: $id) { id } }",
    "createTask": (
        "mutation($staff: ID!) { createTask(input: {"
        ' name: "Sneaky", dueDate: "2027-03-20", responsibleIds: [$staff]}) { task { id } } }'
    ),
    "updateTask": (
        'mutation($id: ID!) { updateTask(input: {id: $id, name: "Changed"}) { task { id } } }'
    ),
    "postponeTask": (
        "mutation($id: ID!) { postponeTask(input: {id: $id, by: ONE_WEEK}) { task { id } } }"
    ),
    "reassignTask": (
        "mutation($id: ID!, $staff: ID!) {"
        " reassignTask(input: {id: $id, responsibleIds: [$staff]}) { task { id } } }"
    ),
    "completeTask": "mutation($id: ID!) { completeTask(input: {id: $id}) { task { id } } }",
    "reopenTask": "mutation($id: ID!) { reopenTask(input: {id: $id}) { task { id } } }",
    "deleteTask": "mutation($id: ID!) { deleteTask(input: {id: $id}) { deletedIds } }",
}
TASK_STATE = (
    "query($id: ID!) { task(id: $id) { name dueDate status version"
    " responsible { id } history { kind } } tasks(filter: {includeCompleted: true})"
    " { totalCount } }"
)


async def tasks_state(env: Env, admin: Person, task_id: str) -> dict[str, Any]:
    return await env.api.data(TASK_STATE, {"id": task_id}, admin.token)


async def test_staff_without_tasks_permission_are_forbidden_every_task_operation(
    env: Env,
) -> None:
    provider = await env.world.provider()
    admin = provider.admin
    outsider = await env.world.staff(provider, name="No Tasks", tasks=False)
    open_task = await env.world.task(admin, name="Guarded")
    done_task = await env.world.task(admin, name="Done")
    await env.api.data(TASK_OPERATIONS["completeTask"], {"id": done_task["id"]}, admin.token)
    before = {t["id"]: await tasks_state(env, admin, t["id"]) for t in (open_task, done_task)}

    for operation, query in TASK_OPERATIONS.items():
        task = done_task if operation == "reopenTask" else open_task
        variables: dict[str, Any] = {"id": task["id"]} if "$id" in query else {}
        if "$staff" in query:
            variables["staff"] = outsider.id
        body = await env.api.post(query, variables, outsider.token)

        assert codes(body) == ["FORBIDDEN"], operation
        assert body["data"] is None or all(v is None for v in body["data"].values()), operation
        for task_id, state in before.items():
            assert await tasks_state(env, admin, task_id) == state, operation
