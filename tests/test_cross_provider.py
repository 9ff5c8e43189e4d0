"""Provider groups: the group Tasks permission, task recipients, and tasks sent across providers.

A group administrator decides who may send tasks to the group's other providers. A sent task
lands on the receiving provider's Tasks screen (Unassigned unless it names that provider's
staff); the sender's provider can still read it but no longer change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from schema.ids import to_global_id
from tests.conftest import START, Env
from tests.factories import CREATE_TASK, TASK_FIELDS, Person, Provider

STAFF_PAYLOAD = (
    "staff { id name groupTasksPermission isGroupAdministrator } errors { field code message }"
)
SET_GROUP_TASKS = (
    "mutation($input: SetGroupTasksPermissionInput!) { setGroupTasksPermission(input: $input) {"
    f" {STAFF_PAYLOAD} }} }}"
)
UPDATE_STAFF = (
    f"mutation($input: UpdateStaffInput!) {{ updateStaff(input: $input) {{ {STAFF_PAYLOAD} }} }}"
)
ME = (
    "{ me { ... on Staff { id name groupTasksPermission isGroupAdministrator"
    " provider { id taskRecipients { id name staff { id name email active } } } } } }"
)
PROVIDER_STAFF = (
    "query($id: ID!, $all: Boolean) { node(id: $id) { ... on ServiceProvider {"
    " taskRecipients { id } staff(includeInactive: $all) { id name email } } } }"
)
TASK = "query($id: ID!) { task(id: $id) { " + TASK_FIELDS + " } }"
TASK_NODE = "query($id: ID!) { node(id: $id) { ... on Task { id name } } }"
TASK_LIST = (
    "query($filter: TaskFilter) { tasks(filter: $filter) {"
    " totalCount edges { node { id name responsible { id } } } } }"
)
INBOX = "{ notifications { unreadCount edges { node { kind task { id } } } } }"
PAYLOAD = "task { id version dueDate status } errors { field code message }"
CHANGES = {
    "postponeTask": ("PostponeTaskInput", {"by": "ONE_WEEK"}),
    "completeTask": ("CompleteTaskInput", {}),
    "reopenTask": ("CompleteTaskInput", {}),
    "updateTask": ("UpdateTaskInput", {"name": "Renamed by the sender"}),
    "reassignTask": ("ReassignTaskInput", {"responsibleIds": []}),
}
DELETE = (
    "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
    " deletedIds errors { field code message } } }"
)


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


@dataclass
class Group:
    """Northside and Southside share the group "Coastal"; Northside's admin runs the group."""

    north: Provider
    south: Provider
    ana: Person  # Northside staff holding the group Tasks permission
    sam: Person  # Southside staff with TASKS


async def set_group_tasks(env: Env, by: Person, staff: Person, enabled: bool) -> dict[str, Any]:
    """The whole response body, so tests can check GraphQL error codes too."""
    return await env.api.post(
        SET_GROUP_TASKS, {"input": {"staffId": staff.id, "enabled": enabled}}, by.token
    )


async def grant(env: Env, by: Person, staff: Person, enabled: bool = True) -> dict[str, Any]:
    body = await set_group_tasks(env, by, staff, enabled)
    assert "errors" not in body, body
    payload = body["data"]["setGroupTasksPermission"]
    assert payload["errors"] == [], payload
    return payload["staff"]  # type: ignore[no-any-return]


async def coastal(env: Env) -> Group:
    north = await env.world.provider(name="Northside", group="Coastal", group_admin=True)
    south = await env.world.provider(name="Southside", group="Coastal")
    ana = await env.world.staff(north, "Ana Silva")
    sam = await env.world.staff(south, "Sam Lee")
    await grant(env, north.admin, ana)
    return Group(north, south, ana, sam)


async def send(env: Env, by: Person, to: Provider, **fields: Any) -> dict[str, Any]:
    """A task sent to another provider that must succeed: Unassigned unless told otherwise."""
    fields.setdefault("responsibleIds", [])
    return await env.world.task(by, serviceProviderId=to.id, **fields)


async def me(env: Env, who: Person) -> dict[str, Any]:
    return (await env.api.data(ME, token=who.token))["me"]  # type: ignore[no-any-return]


async def recipients(env: Env, who: Person) -> list[dict[str, Any]]:
    return (await me(env, who))["provider"]["taskRecipients"]  # type: ignore[no-any-return]


async def create(env: Env, by: Person, **fields: Any) -> dict[str, Any]:
    body = await env.api.post(CREATE_TASK, {"input": fields}, by.token)
    assert "errors" not in body, body
    return body["data"]["createTask"]  # type: ignore[no-any-return]


def refused(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert payload["task"] is None, payload
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def task_names(env: Env, who: Person, **task_filter: Any) -> list[str]:
    data = await env.api.data(TASK_LIST, {"filter": task_filter or None}, who.token)
    return [edge["node"]["name"] for edge in data["tasks"]["edges"]]


async def inbox(env: Env, who: Person) -> dict[str, Any]:
    return (await env.api.data(INBOX, token=who.token))["notifications"]  # type: ignore[no-any-return]


async def fetch(env: Env, task_id: str, by: Person) -> dict[str, Any]:
    return (await env.api.data(TASK, {"id": task_id}, by.token))["task"]  # type: ignore[no-any-return]


async def nothing_sent(env: Env, group: Group, *others: Person) -> None:
    """Neither provider's Tasks screen nor anyone's notifications show a task."""
    for who in (group.north.admin, group.south.admin, group.sam, *others):
        assert await task_names(env, who, includeCompleted=True) == []
        assert await inbox(env, who) == {"unreadCount": 0, "edges": []}


# ---------------------------------------------------------------- the group Tasks permission


async def test_group_admin_grants_and_removes_the_permission_for_another_providers_staff(
    env: Env,
) -> None:
    group = await coastal(env)
    assert (await me(env, group.sam))["groupTasksPermission"] is False
    assert await recipients(env, group.sam) == []

    granted = await grant(env, group.north.admin, group.sam)

    assert granted["id"] == group.sam.id
    assert granted["groupTasksPermission"] is True
    assert (await me(env, group.sam))["groupTasksPermission"] is True
    assert [p["name"] for p in await recipients(env, group.sam)] == ["Northside"]

    removed = await grant(env, group.north.admin, group.sam, enabled=False)

    assert removed["groupTasksPermission"] is False
    assert (await me(env, group.sam))["groupTasksPermission"] is False
    assert await recipients(env, group.sam) == []


async def test_group_admin_grants_the_permission_to_their_own_providers_staff(env: Env) -> None:
    group = await coastal(env)

    assert (await me(env, group.ana))["groupTasksPermission"] is True
    assert [p["id"] for p in await recipients(env, group.ana)] == [group.south.id]
    assert (await me(env, group.north.admin))["groupTasksPermission"] is False


async def test_only_group_administrators_may_set_the_permission(env: Env) -> None:
    group = await coastal(env)
    south_staff_admin = await env.world.staff(group.south, "Sue Admin", administrator=True)

    # The provider's own administrator, an administrator it created, and plain staff.
    for outsider in (group.south.admin, south_staff_admin, group.ana, group.sam):
        body = await set_group_tasks(env, outsider, group.sam, True)
        assert codes(body) == ["FORBIDDEN"], body
        assert body["data"] is None

    assert (await me(env, group.sam))["groupTasksPermission"] is False
    assert await recipients(env, group.sam) == []


async def test_staff_outside_the_group_are_not_found(env: Env) -> None:
    group = await coastal(env)
    elsewhere = await env.world.provider(name="Elsewhere", group="Inland")
    alone = await env.world.provider(name="Alone")
    inland_staff = await env.world.staff(elsewhere, "Ivy Inland")
    lone_staff = await env.world.staff(alone, "Leo Lone")
    nobody = Person(id=to_global_id("Staff", 99999), name="Nobody", email="")

    for target in (inland_staff, elsewhere.admin, lone_staff, nobody):
        body = await set_group_tasks(env, group.north.admin, target, True)
        assert codes(body) == ["NOT_FOUND"], body

    assert (await me(env, inland_staff))["groupTasksPermission"] is False
    assert (await me(env, lone_staff))["groupTasksPermission"] is False


async def test_group_administrator_of_another_group_cannot_reach_this_group(env: Env) -> None:
    group = await coastal(env)
    inland = await env.world.provider(name="Inland One", group="Inland", group_admin=True)

    body = await set_group_tasks(env, inland.admin, group.sam, True)

    assert codes(body) == ["NOT_FOUND"]
    assert (await me(env, group.sam))["groupTasksPermission"] is False


async def test_only_a_group_administrator_appoints_group_administrators(env: Env) -> None:
    group = await coastal(env)
    deputy = await env.world.staff(group.north, "Dee Deputy")

    appointed = await env.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": deputy.id, "isGroupAdministrator": True}},
        group.north.admin.token,
    )

    assert appointed["errors"] == []
    assert appointed["staff"]["isGroupAdministrator"] is True
    await grant(env, deputy, group.sam)

    # Southside's administrator runs Southside, not the group: a user error, nothing saved.
    cleo = await env.world.staff(group.south, "Cleo")
    attempt = await env.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": cleo.id, "isGroupAdministrator": True, "name": "Cleo Renamed"}},
        group.south.admin.token,
    )

    assert refused_staff(attempt) == [(["input", "isGroupAdministrator"], "INVALID")]
    cleo_now = await me(env, cleo)
    assert cleo_now["isGroupAdministrator"] is False
    assert cleo_now["name"] == "Cleo"
    assert codes(await set_group_tasks(env, cleo, group.ana, False)) == ["FORBIDDEN"]


async def test_a_removed_group_administrator_is_refused_from_the_next_request(env: Env) -> None:
    group = await coastal(env)
    deputy = await env.world.staff(group.north, "Dee Deputy")
    for value in (True, False):
        payload = await env.api.mutate(
            "updateStaff",
            UPDATE_STAFF,
            {"input": {"id": deputy.id, "isGroupAdministrator": value}},
            group.north.admin.token,
        )
        assert payload["errors"] == []

    assert codes(await set_group_tasks(env, deputy, group.sam, True)) == ["FORBIDDEN"]
    assert (await me(env, group.sam))["groupTasksPermission"] is False


def refused_staff(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert payload["staff"] is None, payload
    return [(e["field"], e["code"]) for e in payload["errors"]]


# ---------------------------------------------------------------- taskRecipients


async def test_task_recipients_are_the_other_providers_of_the_group(env: Env) -> None:
    group = await coastal(env)
    west = await env.world.provider(name="Westside", group="Coastal")
    await env.world.provider(name="Aardvark Inland", group="Inland")
    await env.world.provider(name="Alone")

    found = await recipients(env, group.ana)

    assert [(p["id"], p["name"]) for p in found] == [
        (group.south.id, "Southside"),
        (west.id, "Westside"),
    ]


async def test_task_recipients_are_empty_without_the_permission(env: Env) -> None:
    group = await coastal(env)

    # The group administrator and a provider administrator do not hold it by their office.
    for viewer in (group.north.admin, group.south.admin, group.sam):
        assert await recipients(env, viewer) == []


async def test_task_recipients_need_the_tasks_permission_too(env: Env) -> None:
    group = await coastal(env)
    await env.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": group.ana.id, "permissions": []}},
        group.north.admin.token,
    )

    assert await recipients(env, group.ana) == []
    body = await env.api.post(
        CREATE_TASK,
        {"input": {"name": "Send", "dueDate": "2027-03-15", "serviceProviderId": group.south.id}},
        group.ana.token,
    )
    assert codes(body) == ["FORBIDDEN"]
    await nothing_sent(env, group)


async def test_a_recipients_staff_show_names_only_and_active_staff_only(env: Env) -> None:
    group = await coastal(env)
    gone = await env.world.staff(group.south, "Gus Gone")
    deactivated = await env.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": gone.id, "active": False}},
        group.south.admin.token,
    )
    assert deactivated["errors"] == []

    [south] = await recipients(env, group.ana)

    assert sorted((s["name"], s["email"], s["active"]) for s in south["staff"]) == [
        (group.south.admin.name, "", True),
        ("Sam Lee", "", True),
    ]
    asked_for_inactive = await env.api.data(
        PROVIDER_STAFF, {"id": group.south.id, "all": True}, group.ana.token
    )
    assert {s["id"] for s in asked_for_inactive["node"]["staff"]} == {
        group.south.admin.id,
        group.sam.id,
    }
    assert all(s["email"] == "" for s in asked_for_inactive["node"]["staff"])
    # Southside's own staff still see their colleagues' emails.
    own = await env.api.data(PROVIDER_STAFF, {"id": group.south.id}, group.sam.token)
    assert {s["email"] for s in own["node"]["staff"]} == {group.south.admin.email, group.sam.email}


async def test_without_the_permission_another_providers_staff_are_not_listed(env: Env) -> None:
    group = await coastal(env)

    data = await env.api.data(PROVIDER_STAFF, {"id": group.south.id}, group.north.admin.token)

    assert data["node"]["staff"] == []
    assert data["node"]["taskRecipients"] == []


# ---------------------------------------------------------------- sending a task


async def test_a_task_sent_without_anyone_responsible_arrives_unassigned(env: Env) -> None:
    group = await coastal(env)

    payload = await create(
        env,
        group.ana,
        name="  Follow up the referral  ",
        details="Sent from Northside",
        dueDate="2027-03-15",
        serviceProviderId=group.south.id,
    )

    assert payload["errors"] == []
    task = payload["task"]
    assert task["name"] == "Follow up the referral"
    # The sender's view from the start: details and history are the receiver's from now on.
    assert task["details"] is None
    assert task["history"] == []
    assert task["dueDate"] == "2027-03-15"
    assert task["status"] == "OPEN"
    assert task["responsible"] == []
    assert task["serviceProvider"] == {"id": group.south.id, "name": "Southside"}
    assert task["originProvider"] == {"id": group.north.id, "name": "Northside"}
    assert task["createdBy"] == {"id": group.ana.id, "name": "Ana Silva"}
    assert task["createdAt"] == START.isoformat()
    assert task["version"] == 1
    received = await fetch(env, task["id"], group.sam)
    assert received["details"] == "Sent from Northside"
    [created] = received["history"]
    assert created["kind"] == "CREATED"
    assert "Unassigned" in created["summary"] and "Northside" in created["summary"]

    assert await task_names(env, group.sam) == ["Follow up the referral"]
    assert await task_names(env, group.sam, unassigned=True) == ["Follow up the referral"]
    assert await task_names(env, group.south.admin, unassigned=True) == ["Follow up the referral"]
    assert await task_names(env, group.ana, includeCompleted=True) == []
    assert await task_names(env, group.north.admin, includeCompleted=True) == []


async def test_empty_responsible_ids_also_mean_unassigned(env: Env) -> None:
    group = await coastal(env)

    task = await send(env, group.ana, group.south, name="Empty list", responsibleIds=[])

    assert task["responsible"] == []
    assert await task_names(env, group.sam, unassigned=True) == ["Empty list"]


async def test_a_task_sent_to_named_staff_of_the_receiver_is_theirs(env: Env) -> None:
    group = await coastal(env)
    tom = await env.world.staff(group.south, "Tom Tran")

    task = await send(
        env,
        group.ana,
        group.south,
        name="Book the interview",
        responsibleIds=[tom.id, group.sam.id],
    )

    assert [s["name"] for s in task["responsible"]] == ["Tom Tran", "Sam Lee"]
    assert task["serviceProvider"]["id"] == group.south.id
    assert await task_names(env, group.sam, unassigned=True) == []
    assert await task_names(env, group.sam, responsibleId=tom.id) == ["Book the interview"]


async def test_sending_needs_name_and_due_date_but_not_responsible(env: Env) -> None:
    group = await coastal(env)

    payload = await create(env, group.ana, serviceProviderId=group.south.id, responsibleIds=[])

    assert refused(payload) == [(["input", "name"], "REQUIRED"), (["input", "dueDate"], "REQUIRED")]
    await nothing_sent(env, group, group.ana)


@pytest.mark.parametrize(
    "provider_id",
    [
        to_global_id("ServiceProvider", 99999),  # does not exist
        to_global_id("Task", 1),  # an ID of another type
        "not an id",
    ],
)
async def test_an_unknown_service_provider_is_refused(env: Env, provider_id: str) -> None:
    group = await coastal(env)

    payload = await create(
        env, group.ana, name="Lost", dueDate="2027-03-15", serviceProviderId=provider_id
    )

    assert refused(payload) == [(["input", "serviceProviderId"], "INVALID")]
    await nothing_sent(env, group, group.ana)


async def test_responsible_must_be_active_staff_of_the_receiving_provider(env: Env) -> None:
    group = await coastal(env)
    west = await env.world.provider(name="Westside", group="Coastal")
    gone = await env.world.staff(group.south, "Gus Gone")
    await env.api.mutate(
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": gone.id, "active": False}},
        group.south.admin.token,
    )

    for wrong in ([group.ana.id], [group.sam.id, group.ana.id], [gone.id], [west.admin.id]):
        payload = await create(
            env,
            group.ana,
            name="Wrong people",
            dueDate="2027-03-15",
            serviceProviderId=group.south.id,
            responsibleIds=wrong,
        )
        assert refused(payload) == [(["input", "responsibleIds"], "INVALID")], wrong

    await nothing_sent(env, group, group.ana)


async def test_sending_without_the_group_permission_is_refused_and_saves_nothing(
    env: Env,
) -> None:
    group = await coastal(env)
    ben = await env.world.staff(group.north, "Ben Okafor")

    # Plain staff, the provider's (and group's) administrator: none holds the permission.
    for sender in (ben, group.north.admin):
        payload = await create(
            env,
            sender,
            name="Not allowed",
            dueDate="2027-03-15",
            serviceProviderId=group.south.id,
            responsibleIds=[group.sam.id],
        )
        assert refused(payload) == [(["input", "serviceProviderId"], "INVALID")]
        assert "group Tasks permission" in payload["errors"][0]["message"]

    await nothing_sent(env, group, group.ana)
    assert await task_names(env, ben, includeCompleted=True) == []


@pytest.mark.parametrize("other_group", ["Inland", None])
async def test_sending_outside_the_group_is_refused_and_saves_nothing(
    env: Env, other_group: str | None
) -> None:
    group = await coastal(env)
    outsider = await env.world.provider(name="Outsider", group=other_group)

    payload = await create(
        env,
        group.ana,
        name="Too far",
        dueDate="2027-03-15",
        serviceProviderId=outsider.id,
    )

    assert refused(payload) == [(["input", "serviceProviderId"], "INVALID")]
    assert "your group" in payload["errors"][0]["message"]
    await nothing_sent(env, group, group.ana)
    assert await task_names(env, outsider.admin, includeCompleted=True) == []
    assert await inbox(env, outsider.admin) == {"unreadCount": 0, "edges": []}


async def test_a_removed_permission_refuses_the_next_send(env: Env) -> None:
    group = await coastal(env)
    await send(
        env,
        group.ana,
        group.south,
        name="Allowed",
    )

    await grant(env, group.north.admin, group.ana, enabled=False)

    payload = await create(
        env, group.ana, name="Refused", dueDate="2027-03-15", serviceProviderId=group.south.id
    )
    assert refused(payload) == [(["input", "serviceProviderId"], "INVALID")]
    assert await task_names(env, group.sam) == ["Allowed"]


async def test_naming_the_own_provider_is_an_ordinary_task(env: Env) -> None:
    group = await coastal(env)
    ben = await env.world.staff(group.north, "Ben Okafor")

    unassigned = await create(
        env, ben, name="Mine", dueDate="2027-03-15", serviceProviderId=group.north.id
    )
    assert refused(unassigned) == [(["input", "responsibleIds"], "REQUIRED")]

    task = await env.world.task(ben, name="Mine", serviceProviderId=group.north.id)
    assert task["serviceProvider"]["id"] == group.north.id
    assert task["originProvider"]["id"] == group.north.id
    assert await task_names(env, group.sam, includeCompleted=True) == []


# ---------------------------------------------------------------- after sending


async def test_the_senders_provider_reads_the_task_but_another_group_provider_does_not(
    env: Env,
) -> None:
    group = await coastal(env)
    west = await env.world.provider(name="Westside", group="Coastal")
    sent = await send(
        env,
        group.ana,
        group.south,
        name="Sent",
    )

    for reader in (group.ana, group.north.admin, group.sam):
        assert (await fetch(env, sent["id"], reader))["name"] == "Sent"
        node = await env.api.data(TASK_NODE, {"id": sent["id"]}, reader.token)
        assert node["node"] == {"id": sent["id"], "name": "Sent"}

    for stranger in (west.admin,):
        assert codes(await env.api.post(TASK, {"id": sent["id"]}, stranger.token)) == ["NOT_FOUND"]
        assert codes(await env.api.post(TASK_NODE, {"id": sent["id"]}, stranger.token)) == [
            "NOT_FOUND"
        ]


@pytest.mark.parametrize("mutation", sorted(CHANGES))
async def test_the_sender_cannot_change_a_sent_task(env: Env, mutation: str) -> None:
    group = await coastal(env)
    sent = await send(env, group.ana, group.south, name="Sent", responsibleIds=[group.sam.id])
    before = await fetch(env, sent["id"], group.sam)
    input_type, fields = CHANGES[mutation]
    query = f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {PAYLOAD} }} }}"

    for sender in (group.ana, group.north.admin):
        body = await env.api.post(query, {"input": {"id": sent["id"], **fields}}, sender.token)
        assert codes(body) == ["NOT_FOUND"], body

    assert await fetch(env, sent["id"], group.sam) == before


async def test_the_sender_cannot_delete_a_sent_task(env: Env) -> None:
    group = await coastal(env)
    sent = await send(
        env,
        group.ana,
        group.south,
        name="Sent",
    )

    for sender in (group.ana, group.north.admin):
        body = await env.api.post(DELETE, {"input": {"id": sent["id"]}}, sender.token)
        assert codes(body) == ["NOT_FOUND"], body

    assert await task_names(env, group.sam) == ["Sent"]
    assert (await fetch(env, sent["id"], group.ana))["version"] == 1


async def test_receiving_staff_take_a_task_from_the_queue_and_work_on_it(env: Env) -> None:
    group = await coastal(env)
    tom = await env.world.staff(group.south, "Tom Tran")
    sent = await send(
        env,
        group.ana,
        group.south,
        name="Queue item",
    )
    await send(
        env,
        group.ana,
        group.south,
        name="Still queued",
    )

    taken = await env.api.mutate(
        "reassignTask",
        "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
        " task { id version responsible { id name } history { kind summary } }"
        " errors { field code message } } }",
        {"input": {"id": sent["id"], "responsibleIds": [tom.id]}},
        tom.token,
    )

    assert taken["errors"] == []
    assert taken["task"]["responsible"] == [{"id": tom.id, "name": "Tom Tran"}]
    assert taken["task"]["version"] == 2
    assert [e["kind"] for e in taken["task"]["history"]] == ["CREATED", "REASSIGNED"]
    assert "Unassigned -> Tom Tran" in taken["task"]["history"][1]["summary"]
    assert await task_names(env, group.sam, unassigned=True) == ["Still queued"]
    assert await task_names(env, group.sam, responsibleId=tom.id) == ["Queue item"]

    postponed = await env.api.mutate(
        "postponeTask",
        f"mutation($input: PostponeTaskInput!) {{ postponeTask(input: $input) {{ {PAYLOAD} }} }}",
        {"input": {"id": sent["id"], "by": "ONE_WEEK"}},
        tom.token,
    )
    assert postponed["errors"] == []
    assert postponed["task"]["dueDate"] == "2027-03-22"
    # The sender sees the receiver's progress.
    seen = await fetch(env, sent["id"], group.ana)
    assert seen["dueDate"] == "2027-03-22"
    assert seen["responsible"] == [{"id": tom.id, "name": "Tom Tran"}]


async def test_a_sent_task_can_only_be_given_to_the_receivers_staff(env: Env) -> None:
    group = await coastal(env)
    sent = await send(
        env,
        group.ana,
        group.south,
        name="Sent",
    )

    payload = await env.api.mutate(
        "reassignTask",
        f"mutation($input: ReassignTaskInput!) {{ reassignTask(input: $input) {{ {PAYLOAD} }} }}",
        {"input": {"id": sent["id"], "responsibleIds": [group.ana.id]}},
        group.sam.token,
    )

    assert refused(payload) == [(["input", "responsibleIds"], "INVALID")]
    assert await task_names(env, group.sam, unassigned=True) == ["Sent"]
