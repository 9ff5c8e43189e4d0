"""A viewer never sees or changes another provider's staff, clients or tasks.

Another provider's record is answered exactly like a record that does not exist: NOT_FOUND with
the same message, or (for an ID named inside a form) the same user error.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from tests.conftest import Env
from tests.factories import CREATE_TASK, Person, Provider

TASK_STATE = (
    "query($id: ID!) { task(id: $id) { id name details dueDate status version"
    " client { id } responsible { id } history { kind summary } } }"
)
MISSING = {
    "Task": base64.urlsafe_b64encode(b"Task:99999").decode().rstrip("="),
    "Staff": base64.urlsafe_b64encode(b"Staff:99999").decode().rstrip("="),
    "Client": base64.urlsafe_b64encode(b"Client:99999").decode().rstrip("="),
    "ServiceProvider": base64.urlsafe_b64encode(b"ServiceProvider:99999").decode().rstrip("="),
    "ServiceProviderGroup": base64.urlsafe_b64encode(b"ServiceProviderGroup:99999")
    .decode()
    .rstrip("="),
}


@dataclass
class Side:
    provider: Provider
    member: Person
    client_id: str
    task: dict[str, Any]

    @property
    def token(self) -> str:
        return self.member.token


@dataclass
class TwoProviders:
    home: Side
    away: Side


async def side(env: Env, name: str, group: str | None = None) -> Side:
    provider = await env.world.provider(name=name, group=group)
    member = provider.admin  # staff of the provider, with the Tasks screen
    client_id = await env.world.client(provider, name=f"{name} Client", caseworker=member)
    task = await env.world.task(member, name=f"{name} Task", clientId=client_id)
    return Side(provider, member, client_id, task)


async def two_providers(env: Env) -> TwoProviders:
    return TwoProviders(await side(env, "Home"), await side(env, "Away"))


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    """(message, code) of a response's one error: what tells the two answers apart, if anything."""
    [error] = body["errors"]
    return error["message"], error["extensions"]["code"]


async def assert_same_as_missing(
    env: Env, token: str, query: str, foreign: dict[str, Any], missing: dict[str, Any]
) -> dict[str, Any]:
    foreign_body = await env.api.post(query, foreign, token)
    missing_body = await env.api.post(query, missing, token)
    assert error_of(foreign_body) == error_of(missing_body) == ("Not found", "NOT_FOUND")
    assert foreign_body["data"] == missing_body["data"]
    assert set(foreign_body["errors"][0]) == set(missing_body["errors"][0])
    return foreign_body


async def task_state(env: Env, owner: Side, task_id: str | None = None) -> dict[str, Any]:
    """The task as its own provider sees it (by default the owner's first task)."""
    return await env.api.data(TASK_STATE, {"id": task_id or owner.task["id"]}, owner.token)


# ---------------------------------------------------------------- reading


async def test_task_of_another_provider_is_not_found_like_a_missing_one(env: Env) -> None:
    both = await two_providers(env)

    body = await assert_same_as_missing(
        env,
        both.home.token,
        "query($id: ID!) { task(id: $id) { id name } }",
        {"id": both.away.task["id"]},
        {"id": MISSING["Task"]},
    )

    assert body["data"] == {"task": None}
    assert "Away" not in str(body)


async def test_client_of_another_provider_is_not_found_like_a_missing_one(env: Env) -> None:
    both = await two_providers(env)

    body = await assert_same_as_missing(
        env,
        both.home.token,
        "query($id: ID!) { client(id: $id) { id name email } }",
        {"id": both.away.client_id},
        {"id": MISSING["Client"]},
    )

    assert body["data"] == {"client": None}


async def test_node_of_another_provider_is_not_found_like_a_missing_one(env: Env) -> None:
    both = await two_providers(env)
    away = both.away
    foreign_ids = {
        "Task": away.task["id"],
        "Staff": away.member.id,
        "Client": away.client_id,
        "ServiceProvider": away.provider.id,
    }

    for kind, foreign_id in foreign_ids.items():
        body = await assert_same_as_missing(
            env,
            both.home.token,
            "query($id: ID!) { node(id: $id) { id ... on Staff { name email } } }",
            {"id": foreign_id},
            {"id": MISSING[kind]},
        )
        assert body["data"] == {"node": None}, kind


async def test_group_of_another_provider_is_not_found_like_a_missing_one(env: Env) -> None:
    home = await env.world.provider(group="Home Group")
    away = await env.world.provider(group="Away Group")
    assert away.group_id is not None

    await assert_same_as_missing(
        env,
        home.admin.token,
        "query($id: ID!) { node(id: $id) { id ... on ServiceProviderGroup { name } } }",
        {"id": away.group_id},
        {"id": MISSING["ServiceProviderGroup"]},
    )


async def test_lists_hold_only_the_viewers_own_provider(env: Env) -> None:
    both = await two_providers(env)
    home = both.home

    data = await env.api.data(
        "query($p: ID!) {"
        " tasks(filter: {includeCompleted: true}) { totalCount edges { node { id } } }"
        " clients { totalCount edges { node { id } } }"
        " node(id: $p) { ... on ServiceProvider { staff(includeInactive: true) { id } } } }",
        {"p": home.provider.id},
        home.token,
    )

    assert [e["node"]["id"] for e in data["tasks"]["edges"]] == [home.task["id"]]
    assert data["tasks"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["clients"]["edges"]] == [home.client_id]
    assert data["clients"]["totalCount"] == 1
    assert [s["id"] for s in data["node"]["staff"]] == [home.member.id]
    search = await env.api.data(
        '{ clients(search: "Away") { totalCount edges { node { id } } } }', token=home.token
    )
    assert search["clients"] == {"totalCount": 0, "edges": []}


async def test_filtering_tasks_by_another_providers_client_or_staff_finds_nothing(env: Env) -> None:
    both = await two_providers(env)

    data = await env.api.data(
        "query($c: ID!) { tasks(filter: {clientId: $c, includeCompleted: true})"
        " { totalCount edges { node { id } } } }",
        {"c": both.away.client_id},
        both.home.token,
    )

    assert data["tasks"] == {"totalCount": 0, "edges": []}
    by_staff = await env.api.data(
        "query($s: ID!) { tasks(filter: {responsibleId: $s, includeCompleted: true})"
        " { totalCount } }",
        {"s": both.away.member.id},
        both.home.token,
    )
    assert by_staff["tasks"]["totalCount"] == 0


async def test_another_providers_staff_list_is_never_shown(env: Env) -> None:
    """Without the group Tasks permission, a group neighbour's staff stay hidden."""
    home = await env.world.provider(group="Shared Group")
    away = await env.world.provider(group="Shared Group")
    hidden = await env.world.staff(away, name="Hidden Hannah")

    body = await env.api.post(
        "query($p: ID!) { node(id: $p) { ... on ServiceProvider {"
        " staff(includeInactive: true) { id name email } } } }",
        {"p": away.id},
        home.admin.token,
    )

    assert hidden.id not in str(body)
    assert "Hidden Hannah" not in str(body)
    assert away.admin.email not in str(body)


# ---------------------------------------------------------------- changing tasks

CHANGES: dict[str, tuple[str, dict[str, Any]]] = {
    "updateTask": (
        "mutation($id: ID!, $more: String) { updateTask(input: {id: $id, name: $more,"
        ' details: "hijacked", dueDate: "2027-04-01"}) { task { id } errors { message } } }',
        {"more": "Hijacked"},
    ),
    "postponeTask": (
        "mutation($id: ID!) { postponeTask(input: {id: $id, by: FOUR_WEEKS})"
        " { task { id } errors { message } } }",
        {},
    ),
    "completeTask": (
        "mutation($id: ID!) { completeTask(input: {id: $id}) { task { id } errors { message } } }",
        {},
    ),
    "reopenTask": (
        "mutation($id: ID!) { reopenTask(input: {id: $id}) { task { id } errors { message } } }",
        {},
    ),
    "deleteTask": (
        "mutation($id: ID!) { deleteTask(input: {id: $id}) { deletedIds errors { message } } }",
        {},
    ),
    "reassignTask": (
        "mutation($id: ID!, $who: [ID!]!) { reassignTask(input: {id: $id, responsibleIds: $who})"
        " { task { id } errors { message } } }",
        {"who": []},
    ),
}


async def test_changing_another_providers_task_is_not_found_and_changes_nothing(
    env: Env,
) -> None:
    both = await two_providers(env)
    home, away = both.home, both.away
    done = await env.world.task(away.member, name="Away Done")
    await env.api.data(CHANGES["completeTask"][0], {"id": done["id"]}, away.token)
    before = {t: await task_state(env, away, t) for t in (away.task["id"], done["id"])}

    for operation, (query, extra) in CHANGES.items():
        task_id = done["id"] if operation == "reopenTask" else away.task["id"]
        if operation == "reassignTask":
            extra = {"who": [home.member.id]}
        body = await assert_same_as_missing(
            env, home.token, query, {"id": task_id} | extra, {"id": MISSING["Task"]} | extra
        )
        assert body["data"] is None, operation
        for task, state in before.items():
            assert await task_state(env, away, task) == state, operation


async def test_updating_a_task_to_another_providers_client_is_refused(env: Env) -> None:
    both = await two_providers(env)
    home = both.home
    before = await task_state(env, home)
    query = (
        "mutation($id: ID!, $c: ID) { updateTask(input: {id: $id, clientId: $c})"
        " { task { id } errors { field code message } } }"
    )

    foreign = await env.api.mutate(
        "updateTask", query, {"id": home.task["id"], "c": both.away.client_id}, home.token
    )
    missing = await env.api.mutate(
        "updateTask", query, {"id": home.task["id"], "c": MISSING["Client"]}, home.token
    )

    assert foreign["task"] is None
    assert foreign["errors"] == missing["errors"]
    assert [e["field"] for e in foreign["errors"]] == [["input", "clientId"]]
    assert await task_state(env, home) == before


async def test_reassigning_a_task_to_another_providers_staff_is_refused(env: Env) -> None:
    both = await two_providers(env)
    home = both.home
    before = await task_state(env, home)
    query = (
        "mutation($id: ID!, $who: [ID!]!) { reassignTask(input: {id: $id, responsibleIds: $who})"
        " { task { id } errors { field code message } } }"
    )

    foreign = await env.api.mutate(
        "reassignTask", query, {"id": home.task["id"], "who": [both.away.member.id]}, home.token
    )
    missing = await env.api.mutate(
        "reassignTask", query, {"id": home.task["id"], "who": [MISSING["Staff"]]}, home.token
    )

    assert foreign["task"] is None
    assert foreign["errors"] == missing["errors"]
    assert [e["field"] for e in foreign["errors"]] == [["input", "responsibleIds"]]
    assert await task_state(env, home) == before


# ---------------------------------------------------------------- creating tasks


async def all_task_counts(env: Env, both: TwoProviders) -> tuple[int, int]:
    query = "{ tasks(filter: {includeCompleted: true}) { totalCount } }"
    home = await env.api.data(query, token=both.home.token)
    away = await env.api.data(query, token=both.away.token)
    return home["tasks"]["totalCount"], away["tasks"]["totalCount"]


async def test_creating_a_task_for_another_providers_staff_is_refused(env: Env) -> None:
    both = await two_providers(env)
    home = both.home
    counts = await all_task_counts(env, both)

    def task_for(*staff_ids: str) -> dict[str, Any]:
        return {
            "input": {"name": "Poach", "dueDate": "2027-03-20", "responsibleIds": list(staff_ids)}
        }

    foreign = await env.api.mutate(
        "createTask", CREATE_TASK, task_for(both.away.member.id), home.token
    )
    missing = await env.api.mutate(
        "createTask", CREATE_TASK, task_for(MISSING["Staff"]), home.token
    )
    mixed = await env.api.mutate(
        "createTask", CREATE_TASK, task_for(home.member.id, both.away.member.id), home.token
    )

    assert foreign["task"] is None and mixed["task"] is None
    assert foreign["errors"] == missing["errors"] == mixed["errors"]
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [
        (["input", "responsibleIds"], "INVALID")
    ]
    assert await all_task_counts(env, both) == counts


async def test_creating_a_task_for_another_providers_client_is_refused(env: Env) -> None:
    both = await two_providers(env)
    home = both.home
    counts = await all_task_counts(env, both)

    def task_about(client_id: str) -> dict[str, Any]:
        return {
            "input": {
                "name": "Poach",
                "dueDate": "2027-03-20",
                "responsibleIds": [home.member.id],
                "clientId": client_id,
            }
        }

    foreign = await env.api.mutate(
        "createTask", CREATE_TASK, task_about(both.away.client_id), home.token
    )
    missing = await env.api.mutate(
        "createTask", CREATE_TASK, task_about(MISSING["Client"]), home.token
    )

    assert foreign["task"] is None
    assert foreign["errors"] == missing["errors"]
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [
        (["input", "clientId"], "INVALID")
    ]
    assert await all_task_counts(env, both) == counts


# ---------------------------------------------------------------- staff and clients


async def test_updating_another_providers_staff_is_not_found_and_changes_nothing(
    env: Env,
) -> None:
    both = await two_providers(env)
    away = both.away
    query = (
        "mutation($input: UpdateStaffInput!) { updateStaff(input: $input)"
        " { staff { id } errors { message } } }"
    )
    staff_state = (
        "query($id: ID!) { node(id: $id) { ... on Staff"
        " { name email isAdministrator permissions active } } }"
    )
    before = await env.api.data(staff_state, {"id": away.member.id}, away.token)
    change = {"name": "Taken Over", "isAdministrator": True, "permissions": [], "active": False}

    await assert_same_as_missing(
        env,
        both.home.token,
        query,
        {"input": {"id": away.member.id} | change},
        {"input": {"id": MISSING["Staff"]} | change},
    )

    after = await env.api.data(staff_state, {"id": away.member.id}, away.token)
    assert after == before
    await env.api.data("{ tasks { totalCount } }", token=away.token)


async def test_a_client_cannot_be_given_another_providers_caseworker(env: Env) -> None:
    both = await two_providers(env)
    query = (
        "mutation($input: CreateClientInput!) { createClient(input: $input)"
        " { client { id } errors { field code message } } }"
    )

    foreign = await env.api.mutate(
        "createClient",
        query,
        {"input": {"name": "Poached", "caseworkerId": both.away.member.id}},
        both.home.token,
    )
    missing = await env.api.mutate(
        "createClient",
        query,
        {"input": {"name": "Poached", "caseworkerId": MISSING["Staff"]}},
        both.home.token,
    )

    assert foreign["client"] is None
    assert foreign["errors"] == missing["errors"]
    clients = await env.api.data("{ clients { totalCount } }", token=both.home.token)
    assert clients["clients"]["totalCount"] == 1
