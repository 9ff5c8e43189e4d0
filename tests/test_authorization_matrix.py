"""The authorization matrix: every operation of the served schema, as every role, allowed or
refused with the contract's code. The matrix is data: a Query, Mutation or Subscription field
without rows fails `test_every_operation_has_rows`, and a field of the contract's object types
that no cell asks for fails `test_every_contract_field_is_asked_for`.

The world is built once per database; queries only read it. A mutation's refusals run with
input that would change the world if it were accepted, and the world is compared before and
after; its allowed cells run with input the service turns down in payload.errors (or on
throwaway rows), so they prove the way in is open without changing what later cells read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import TypeInfo, TypeInfoVisitor, build_schema, get_named_type, parse, visit
from graphql.language import FieldNode, Visitor
from graphql.type import GraphQLObjectType

import schema as served
from services.notifications import notification_cursor
from tests.conftest import Env
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import PASSWORD, Person, Provider
from tests.group_setup import SET_GROUP_TASKS
from tests.live import serve_in_process
from tests.module_env import module_env
from tests.ws_client import GraphQLWebSocket, Rejected

CONTRACT = Path(__file__).parent / "contract" / "schema.graphql"

ROLES = (
    "admin",  # administrator of Home (and the group's administrator)
    "tasks",  # Home staff with the Tasks permission
    "notasks",  # Home staff without it
    "groupadmin",  # Home staff appointed group administrator, no Tasks permission
    "deactivated",  # the old token of a deactivated Home staff member
    "signedout",  # a token whose session ended with logout
    "client",  # Home's client with portal access
    "other",  # staff with the Tasks permission of Peer, another provider of the group
    "anonymous",
)
STAFF = ("admin", "tasks", "notasks", "groupadmin", "other")
DEAD = ("deactivated", "signedout", "anonymous")
OK = "ok"
UNAUTH, FORBIDDEN, NOT_FOUND, BAD_INPUT = (
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
)


def expect(default: str, **by_role: str) -> dict[str, str]:
    """Every role gets `default` unless named; the dead tokens and anonymous are
    UNAUTHENTICATED unless named."""
    cells = {role: default for role in ROLES}
    cells.update({role: UNAUTH for role in DEAD})
    cells.update(by_role)
    return cells


def gid(type_name: str, key: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


# ---------------------------------------------------------------- the world


@dataclass
class World:
    env: Env
    home: Provider
    peer: Provider
    outsider: Provider
    people: dict[str, Person]
    tokens: dict[str, str | None]
    ids: dict[str, str] = field(default_factory=dict)

    def var(self, name: str) -> str:
        return self.ids[name]


async def _ok(env: Env, name: str, query: str, variables: dict[str, Any], token: str) -> Any:
    payload = await env.api.mutate(name, query, variables, token)
    assert payload.get("errors") in ([], None), payload
    return payload


UPDATE_STAFF = (
    "mutation($input: UpdateStaffInput!) { updateStaff(input: $input) {"
    " staff { id } errors { message } } }"
)
CREATE_CLIENT = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) {"
    " client { id } errors { message } } }"
)
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    " task { id } errors { message } } }"
)
UPDATE_TASK = (
    "mutation($input: UpdateTaskInput!) { updateTask(input: $input) {"
    " task { id } errors { message } } }"
)
LOGOUT = "mutation { logout }"


async def _build(env: Env) -> World:
    w = env.world
    home = await w.provider(name="Home", group="Matrix", group_admin=True)
    peer = await w.provider(name="Peer", group="Matrix")
    outsider = await w.provider(name="Outsider", group="Elsewhere")
    admin = home.admin
    tasks = await w.staff(home, "Tess Tasks")
    notasks = await w.staff(home, "Noah Notasks", tasks=False)
    groupadmin = await w.staff(home, "Gail Groupadmin", tasks=False)
    await _ok(
        env,
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": groupadmin.id, "isGroupAdministrator": True}},
        admin.token,
    )
    deactivated = await w.staff(home, "Dee Deactivated")
    await _ok(
        env,
        "updateStaff",
        UPDATE_STAFF,
        {"input": {"id": deactivated.id, "active": False}},
        admin.token,
    )
    signedout = await w.staff(home, "Sid Signedout")
    assert (await env.api.data(LOGOUT, token=signedout.token))["logout"] is True
    other = await w.staff(peer, "Otto Other")
    peer_staff = await w.staff(peer, "Pia Peer")
    for sender in (admin, peer.admin):
        await _ok(
            env,
            "setGroupTasksPermission",
            SET_GROUP_TASKS,
            {"input": {"staffId": sender.id, "enabled": True}},
            groupadmin.token,
        )

    created = await _ok(
        env,
        "createClient",
        CREATE_CLIENT,
        {
            "input": {
                "name": "Cleo Client",
                "email": "cleo@matrix.example",
                "caseworkerId": tasks.id,
                "portalPassword": PASSWORD,
            }
        },
        admin.token,
    )
    client = Person(id=created["client"]["id"], name="Cleo Client", email="cleo@matrix.example")
    client.token = await w.login(client.email)
    peer_client = await w.client(peer, name="Petra Peerclient", caseworker=peer_staff)

    people = {
        "admin": admin,
        "tasks": tasks,
        "notasks": notasks,
        "groupadmin": groupadmin,
        "deactivated": deactivated,
        "signedout": signedout,
        "client": client,
        "other": other,
    }
    tokens: dict[str, str | None] = {role: p.token for role, p in people.items()}
    tokens["anonymous"] = None
    world = World(env, home, peer, outsider, people, tokens)
    ids = world.ids

    # Home's tasks: one about the client, one the client's to do, one done, throwaways.
    own = await w.task(admin, name="Home task", clientId=client.id, responsibleIds=[tasks.id])
    ids["task"] = own["id"]
    ids["clientTask"] = (
        await w.task(
            admin,
            name="Client's task",
            clientId=client.id,
            assignedToClient=True,
            responsibleIds=[],
        )
    )["id"]
    done = await w.task(admin, name="Done task", responsibleIds=[tasks.id])
    await _ok(env, "completeTask", COMPLETE, {"input": {"id": done["id"]}}, tasks.token)
    ids["doneTask"] = done["id"]
    client_done = await w.task(
        admin,
        name="Done by the client",
        clientId=client.id,
        assignedToClient=True,
        responsibleIds=[],
    )
    await _ok(env, "completeTask", COMPLETE, {"input": {"id": client_done["id"]}}, client.token)
    for role in ("admin", "tasks"):
        ids[f"throwaway:{role}"] = (await w.task(admin, name=f"Throwaway {role}"))["id"]
    deleted = await w.task(admin, name="Deleted")
    await _ok(
        env,
        "deleteTask",
        "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
        " deletedIds errors { message } } }",
        {"input": {"id": deleted["id"]}},
        admin.token,
    )
    ids["deletedTask"] = deleted["id"]
    repeating = await w.task(
        admin, name="Weekly", recurrence={"frequency": "WEEKLY", "interval": 1}
    )
    series = await env.api.data(
        "query($id: ID!) { task(id: $id) { series { id } } }", {"id": repeating["id"]}, admin.token
    )
    ids["series"] = series["task"]["series"]["id"]
    employment = await _ok(
        env,
        "recordEmployment",
        "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
        " employment { id } errors { message } } }",
        {"input": {"clientId": client.id, "employer": "Acme", "startDate": "2027-01-04"}},
        tasks.token,
    )
    ids["employment"] = employment["employment"]["id"]

    # Across providers: Home sends one to Peer, which gives it its client; Peer sends one Home.
    sent = await w.task(admin, name="Sent to Peer", serviceProviderId=peer.id, responsibleIds=[])
    await _ok(
        env,
        "updateTask",
        UPDATE_TASK,
        {"input": {"id": sent["id"], "clientId": peer_client, "details": "Peer's notes"}},
        peer.admin.token,
    )
    ids["sentTask"] = sent["id"]
    received = await w.task(
        peer.admin, name="Sent to Home", serviceProviderId=home.id, responsibleIds=[]
    )
    ids["receivedTask"] = received["id"]
    peer_task = await w.task(
        peer.admin, name="Peer task", clientId=peer_client, responsibleIds=[peer_staff.id]
    )
    ids["peerTask"] = peer_task["id"]
    peer_employment = await _ok(
        env,
        "recordEmployment",
        "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
        " employment { id } errors { message } } }",
        {"input": {"clientId": peer_client, "employer": "Peerco", "startDate": "2027-01-04"}},
        peer_staff.token,
    )
    ids["peerEmployment"] = peer_employment["employment"]["id"]

    ids.update(
        home=home.id,
        peer=peer.id,
        outsider=outsider.id,
        homeGroup=str(home.group_id),
        outsiderGroup=str(outsider.group_id),
        client=client.id,
        peerClient=peer_client,
        staff=notasks.id,
        tasksStaff=tasks.id,
        adminStaff=admin.id,
        peerStaff=peer_staff.id,
        outsiderStaff=outsider.admin.id,
    )
    inbox = "{ notifications { edges { node { id cursor } } } }"
    mine = (await env.api.data(inbox, token=tasks.token))["notifications"]["edges"]
    theirs = (await env.api.data(inbox, token=peer_staff.token))["notifications"]["edges"]
    assert mine and theirs
    ids["notification"] = mine[0]["node"]["id"]
    ids["peerNotification"] = theirs[0]["node"]["id"]
    ids["peerCursor"] = theirs[0]["node"]["cursor"]
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def world(
    request: pytest.FixtureRequest,
    sqlite_templates: SqliteTemplates,
    postgres_templates: PostgresTemplates,
) -> AsyncIterator[World]:
    async with module_env(request.param, sqlite_templates, postgres_templates) as env:
        yield await _build(env)


@pytest.fixture(scope="module")
async def sqlite_world(
    sqlite_templates: SqliteTemplates, postgres_templates: PostgresTemplates
) -> AsyncIterator[World]:
    """Subscriptions run over a real websocket on SQLite and the memory broadcast only."""
    async with module_env("sqlite", sqlite_templates, postgres_templates) as env:
        yield await _build(env)


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Row:
    """One operation asked one way, as every role. Variables name world ids with "@"."""

    field: str
    query: str
    expected: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    # Mutations: what a role the row allows sends instead (refused in payload.errors or
    # aimed at a throwaway row, so the world stays as the other rows read it).
    allowed_variables: dict[str, Any] | None = None
    # Text that must not appear in a role's answer.
    hides: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _resolve(world: World, value: Any, role: str) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return world.ids[value[1:].replace("<role>", role)]
    if isinstance(value, dict):
        return {k: _resolve(world, v, role) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(world, v, role) for v in value]
    return value


NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
TASK = "query($id: ID!) { task(id: $id) { id name } }"
TASKS_ROLES = {"notasks": FORBIDDEN, "groupadmin": FORBIDDEN}
STAFF_ONLY = {"client": FORBIDDEN}
SIGNED_IN_OK = {"deactivated": OK, "signedout": OK, "anonymous": OK}
EVERYONE_NOT_FOUND = {role: NOT_FOUND for role in ROLES}
STAFF_EMAILS = ("@example.org", "@provider")
REMINDER_SETTINGS = "dueSoonDays overdue escalateUnassignedAfterHours sendAtHour"

QUERIES: dict[str, Row] = {
    "me": Row("me", "{ me { __typename } }", expect(OK, **SIGNED_IN_OK)),
    "me.staff": Row(
        "me",
        "{ me { ... on Staff { id name email isAdministrator isGroupAdministrator permissions"
        " groupTasksPermission active provider { id name timezone taskRecipients { id name }"
        " staff(includeInactive: true) { id name } } } } }",
        expect(OK, **SIGNED_IN_OK),
    ),
    "me.provider.group": Row(
        "me",
        "{ me { ... on Staff { provider { group { id name providers { id name } } } }"
        " ... on Client { provider { group { id } } } } }",
        expect(OK, client=FORBIDDEN, **SIGNED_IN_OK),
    ),
    "me.client": Row(
        "me",
        "{ me { ... on Client { id name email hasPortalAccess provider { id name }"
        " caseworker { id name email } employments { id employer startDate endDate } } } }",
        expect(OK, **SIGNED_IN_OK),
        hides={"client": ("@example.org",)},
    ),
    "me.client.tasks": Row(
        "me",
        "{ me { ... on Client { tasks(includeCompleted: true, first: 5) { totalCount } } } }",
        expect(OK, client=FORBIDDEN, **SIGNED_IN_OK),
    ),
    "tasks": Row(
        "tasks",
        "{ tasks(filter: {includeCompleted: true}, orderBy: CREATED_AT_DESC, first: 50) {"
        " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }",
        expect(OK, client=FORBIDDEN, **TASKS_ROLES),
        hides={"other": ("Home task", "Sent to Home")},
    ),
    "tasks.foreign-filter": Row(
        "tasks",
        "query($c: ID!, $s: ID!) { a: tasks(filter: {clientId: $c}) { totalCount }"
        " b: tasks(filter: {responsibleId: $s}) { totalCount edges { node { name } } } }",
        expect(OK, client=FORBIDDEN, **TASKS_ROLES),
        variables={"c": "@peerClient", "s": "@peerStaff"},
        hides={r: ("Peer task",) for r in ("admin", "tasks")},
    ),
    "myTasks": Row(
        "myTasks",
        "{ myTasks(includeCompleted: true) { totalCount edges { node { id name } } } }",
        expect(FORBIDDEN, client=OK),
    ),
    "task": Row(
        "task",
        TASK,
        expect(OK, client=NOT_FOUND, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@task"},
    ),
    "task.client-own": Row(
        "task",
        TASK,
        expect(OK, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@clientTask"},
    ),
    "task.sent": Row(
        "task",
        TASK,
        expect(OK, client=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@sentTask"},
    ),
    "task.deleted": Row(
        "task",
        TASK,
        expect(NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@deletedTask"},
    ),
    "task.forged-garbage": Row(
        "task", TASK, expect(NOT_FOUND, **TASKS_ROLES), variables={"id": "%%not-base64%%"}
    ),
    "task.forged-type": Row(
        "task", TASK, expect(NOT_FOUND, **TASKS_ROLES), variables={"id": "@client"}
    ),
    "clients": Row(
        "clients",
        "{ clients(first: 50) { totalCount pageInfo { hasNextPage endCursor }"
        " edges { cursor node { id name } } } }",
        expect(OK, **STAFF_ONLY),
        hides={"other": ("Cleo Client",), "admin": ("Petra",), "tasks": ("Petra",)},
    ),
    "client": Row(
        "client",
        "query($id: ID!) { client(id: $id) { id name email } }",
        expect(OK, other=NOT_FOUND),
        variables={"id": "@client"},
    ),
    "client.peer": Row(
        "client",
        "query($id: ID!) { client(id: $id) { id name email } }",
        expect(NOT_FOUND, other=OK),
        variables={"id": "@peerClient"},
    ),
    "client.caseworker": Row(
        "client",
        "query($id: ID!) { client(id: $id) { caseworker { id name email active provider { id } }"
        " employments { id employer startDate endDate } hasPortalAccess provider { id } } }",
        expect(OK, other=NOT_FOUND),
        variables={"id": "@client"},
    ),
    "client.tasks": Row(
        "client",
        "query($id: ID!) { client(id: $id) { tasks(includeCompleted: true) { totalCount"
        " edges { node { id } } } } }",
        expect(OK, client=FORBIDDEN, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@client"},
    ),
    "notifications": Row(
        "notifications",
        "{ notifications(unreadOnly: false, first: 50) { unreadCount pageInfo { hasNextPage"
        " endCursor } edges { cursor node { id kind message read cursor createdAt"
        " task { id } } } } }",
        expect(OK, **STAFF_ONLY),
    ),
    "workload": Row(
        "workload",
        "{ workload(dueWithinDays: 7) { unassigned staff { staff { id name } open overdue"
        " dueSoon completedLast30Days } } }",
        expect(OK, client=FORBIDDEN, **TASKS_ROLES),
        hides={
            "other": ("Tess Tasks", "Sid Signedout"),
            "admin": ("Otto Other",),
            "tasks": ("Otto Other", "Sid Signedout"),
        },
    ),
    "me.staff.reminders": Row(
        "me",
        "{ me { ... on Staff { preferences { emailDigest } calendarFeedUrl provider {"
        f" reminderSettings {{ {REMINDER_SETTINGS} }} }} }} }} }}",
        expect(OK, **SIGNED_IN_OK),
    ),
    "node.ServiceProvider.reminderSettings": Row(
        "node",
        f"query($id: ID!) {{ node(id: $id) {{ ... on ServiceProvider {{ reminderSettings {{"
        f" {REMINDER_SETTINGS} }} }} }} }}",
        expect(OK, client=FORBIDDEN, other=FORBIDDEN),
        variables={"id": "@home"},
    ),
    "staff.others-preferences": Row(
        "node",
        "query($id: ID!) { node(id: $id) { ... on Staff { preferences { emailDigest }"
        " calendarFeedUrl } } }",
        expect(OK, client=FORBIDDEN, other=NOT_FOUND),
        variables={"id": "@staff"},
        # @staff is notasks's own record: everyone else gets null.
        hides={role: ("emailDigest", "/calendar/") for role in STAFF if role != "notasks"},
    ),
    "workload.out-of-range": Row(
        "workload",
        "{ workload(dueWithinDays: 9999) { unassigned } }",
        expect(BAD_INPUT, client=FORBIDDEN, **TASKS_ROLES),
    ),
    # node(id) on every type, with ids of this tenant and of others
    "node.Task": Row(
        "node",
        NODE,
        expect(OK, client=NOT_FOUND, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@task"},
    ),
    "node.Task.peer": Row(
        "node",
        NODE,
        expect(NOT_FOUND, other=OK, **TASKS_ROLES),
        variables={"id": "@peerTask"},
    ),
    "node.Task.deleted": Row(
        "node", NODE, expect(NOT_FOUND, **TASKS_ROLES), variables={"id": "@deletedTask"}
    ),
    "node.Staff": Row(
        "node",
        NODE,
        expect(OK, client=FORBIDDEN, other=NOT_FOUND),
        variables={"id": "@staff"},
    ),
    "node.Staff.peer": Row(
        "node",
        NODE,
        expect(NOT_FOUND, client=FORBIDDEN, other=OK),
        variables={"id": "@peerStaff"},
    ),
    "node.Client": Row("node", NODE, expect(OK, other=NOT_FOUND), variables={"id": "@client"}),
    "node.Client.peer": Row(
        "node", NODE, expect(NOT_FOUND, other=OK), variables={"id": "@peerClient"}
    ),
    "node.ServiceProvider": Row("node", NODE, expect(OK), variables={"id": "@home"}),
    "node.ServiceProvider.outsider": Row(
        "node", NODE, expect(NOT_FOUND), variables={"id": "@outsider"}
    ),
    "node.ServiceProviderGroup": Row(
        "node", NODE, expect(OK, **STAFF_ONLY), variables={"id": "@homeGroup"}
    ),
    "node.ServiceProviderGroup.outsider": Row(
        "node", NODE, expect(NOT_FOUND, **STAFF_ONLY), variables={"id": "@outsiderGroup"}
    ),
    "node.TaskSeries": Row(
        "node",
        "query($id: ID!) { node(id: $id) { id ... on TaskSeries { name details rrule startDate"
        " until count upcoming(first: 3) occurrences(first: 5) { totalCount"
        " edges { node { id } } } } } }",
        expect(OK, client=FORBIDDEN, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@series"},
    ),
    "node.Notification": Row(
        "node",
        NODE,
        expect(NOT_FOUND, tasks=OK, **STAFF_ONLY),
        variables={"id": "@notification"},
    ),
    "node.Notification.peer": Row(
        "node", NODE, expect(NOT_FOUND, **STAFF_ONLY), variables={"id": "@peerNotification"}
    ),
    "node.forged-garbage": Row(
        "node", NODE, expect(NOT_FOUND, **EVERYONE_NOT_FOUND), variables={"id": "!!!!"}
    ),
    "node.forged-type": Row(
        "node",
        NODE,
        expect(NOT_FOUND, **EVERYONE_NOT_FOUND),
        variables={"id": gid("Widget", 1)},
    ),
    "node.forged-key": Row(
        "node",
        NODE,
        expect(NOT_FOUND, **EVERYONE_NOT_FOUND),
        variables={"id": gid("Task", "1 OR 1=1")},
    ),
    # nested edges
    "nested.client-view-of-task": Row(
        "task",
        "query($id: ID!) { task(id: $id) { id name details dueDate status overdue kind"
        " assignedToClient createdAt completedAt milestoneMonth version"
        " responsible { id name email isAdministrator isGroupAdministrator permissions"
        " groupTasksPermission } createdBy { id name email } series { id }"
        " completedBy { __typename } client { id name } serviceProvider { id name timezone }"
        " originProvider { id } } }",
        expect(OK, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@clientTask"},
        hides={"client": STAFF_EMAILS},
    ),
    "nested.client-view-of-history": Row(
        "task",
        "query($id: ID!) { task(id: $id) { history { kind at summary by { __typename } } } }",
        expect(OK, client=FORBIDDEN, other=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@clientTask"},
    ),
    "nested.sender-reads-receivers-client": Row(
        "task",
        "query($id: ID!) { task(id: $id) { name details client { name email"
        " employments { employer } caseworker { name } tasks { totalCount } }"
        " history { summary by { __typename ... on Staff { name } } }"
        " completedBy { __typename } series { id } } }",
        expect(OK, client=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@sentTask"},
        hides={r: ("Petra", "Peer's notes", "Peerco", "Pia Peer") for r in ("admin", "tasks")},
    ),
    "nested.receiver-reads-senders-staff": Row(
        "task",
        "query($id: ID!) { task(id: $id) { createdBy { name email isAdministrator permissions"
        " groupTasksPermission provider { name staff { name email } } } } }",
        expect(OK, client=NOT_FOUND, **TASKS_ROLES),
        variables={"id": "@receivedTask"},
        hides={"tasks": (*STAFF_EMAILS, "Pia Peer")},
    ),
}


def _mutation(name: str, input_type: str, selection: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"


TASK_PAYLOAD = (
    "task { id name details client { name } history { summary } } errors { field code message }"
)
CHANGE_ROLES = {"client": FORBIDDEN, "other": NOT_FOUND, **TASKS_ROLES}
# Another provider's ids in a bulk change are named in payload.errors (the index, NOT_FOUND in
# its message), like any task that cannot be changed; nothing is saved.
BULK_ROLES = {"client": FORBIDDEN, **TASKS_ROLES}
BULK_PAYLOAD = "tasks { id name } errors { field code message }"
SERIES_PAYLOAD = "series { id skippedDates } errors { field code message }"

MUTATIONS: dict[str, Row] = {
    "login": Row(
        "login",
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token"
        " viewer { __typename } errors { code } } }",
        expect(OK, **SIGNED_IN_OK),
        variables={"e": "cleo@matrix.example", "p": "not the password"},
        allowed_variables={"e": "cleo@matrix.example", "p": "not the password"},
    ),
    "logout": Row("logout", LOGOUT, expect(OK, **SIGNED_IN_OK)),
    "createStaff": Row(
        "createStaff",
        _mutation("createStaff", "CreateStaffInput", "staff { id } errors { code }"),
        expect(FORBIDDEN, admin=OK),
        variables={"input": {"name": "Mallory", "email": "mallory@x.org", "password": PASSWORD}},
        allowed_variables={"input": {"name": "", "email": "", "password": ""}},
    ),
    "updateStaff": Row(
        "updateStaff",
        _mutation("updateStaff", "UpdateStaffInput", "staff { id } errors { code }"),
        expect(FORBIDDEN, admin=OK),
        variables={"input": {"id": "@staff", "name": "Renamed", "permissions": ["TASKS"]}},
        allowed_variables={"input": {"id": "@staff", "name": ""}},
    ),
    "setGroupTasksPermission": Row(
        "setGroupTasksPermission",
        _mutation(
            "setGroupTasksPermission",
            "SetGroupTasksPermissionInput",
            "staff { id groupTasksPermission } errors { code }",
        ),
        expect(FORBIDDEN, admin=OK, groupadmin=OK),
        variables={"input": {"staffId": "@staff", "enabled": True}},
        allowed_variables={"input": {"staffId": "@staff", "enabled": False}},
    ),
    "createClient": Row(
        "createClient",
        _mutation("createClient", "CreateClientInput", "client { id } errors { code }"),
        expect(OK, **STAFF_ONLY),
        variables={"input": {"name": "Mallory Client"}},
        allowed_variables={"input": {"name": ""}},
    ),
    "updateClient": Row(
        "updateClient",
        _mutation("updateClient", "UpdateClientInput", "client { id } errors { code }"),
        expect(OK, client=FORBIDDEN, other=NOT_FOUND),
        variables={"input": {"id": "@client", "name": "Hijacked", "portalPassword": None}},
        allowed_variables={"input": {"id": "@client", "name": ""}},
    ),
    "recordEmployment": Row(
        "recordEmployment",
        _mutation(
            "recordEmployment",
            "RecordEmploymentInput",
            "employment { id } outreachTasks { id } errors { code }",
        ),
        expect(OK, **CHANGE_ROLES),
        variables={
            "input": {"clientId": "@client", "employer": "Mallory", "startDate": "2027-02-01"}
        },
        allowed_variables={
            "input": {"clientId": "@client", "employer": "", "startDate": "2027-02-01"}
        },
    ),
    "endEmployment": Row(
        "endEmployment",
        _mutation(
            "endEmployment",
            "EndEmploymentInput",
            "employment { id } outreachTasks { id } errors { code }",
        ),
        expect(OK, **CHANGE_ROLES),
        variables={
            "input": {
                "employmentId": "@employment",
                "endDate": "2027-02-01",
                "cancelRemainingOutreach": True,
            }
        },
        allowed_variables={"input": {"employmentId": "@employment", "endDate": "2026-01-01"}},
    ),
    "createTask": Row(
        "createTask",
        _mutation("createTask", "CreateTaskInput", TASK_PAYLOAD),
        expect(OK, client=FORBIDDEN, **TASKS_ROLES),
        variables={
            "input": {
                "name": "Mallory's task",
                "dueDate": "2027-03-20",
                "clientId": "@client",
                "assignedToClient": True,
            }
        },
        allowed_variables={"input": {}},
    ),
    "updateTask": Row(
        "updateTask",
        _mutation("updateTask", "UpdateTaskInput", TASK_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"id": "@task", "name": "Hijacked", "details": "hijacked"}},
        allowed_variables={"input": {"id": "@task", "name": ""}},
    ),
    "postponeTask": Row(
        "postponeTask",
        _mutation("postponeTask", "PostponeTaskInput", TASK_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"id": "@task", "by": "FOUR_WEEKS"}},
        allowed_variables={"input": {"id": "@task", "by": "CUSTOM"}},
    ),
    "reassignTask": Row(
        "reassignTask",
        _mutation("reassignTask", "ReassignTaskInput", TASK_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"id": "@task", "responsibleIds": []}},
        allowed_variables={"input": {"id": "@task", "responsibleIds": ["@peerStaff"]}},
    ),
    "completeTask": Row(
        "completeTask",
        _mutation("completeTask", "CompleteTaskInput", TASK_PAYLOAD),
        expect(OK, client=NOT_FOUND, other=NOT_FOUND, **TASKS_ROLES),
        variables={"input": {"id": "@task"}},
        allowed_variables={"input": {"id": "@task", "expectedVersion": 999}},
    ),
    "completeTask.client-own": Row(
        "completeTask",
        _mutation("completeTask", "CompleteTaskInput", TASK_PAYLOAD),
        expect(OK, other=NOT_FOUND, **TASKS_ROLES),
        variables={"input": {"id": "@clientTask"}},
        allowed_variables={"input": {"id": "@clientTask", "expectedVersion": 999}},
    ),
    "completeTask.sent": Row(
        "completeTask",
        _mutation("completeTask", "CompleteTaskInput", TASK_PAYLOAD),
        expect(NOT_FOUND, other=OK, **TASKS_ROLES),
        variables={"input": {"id": "@sentTask"}},
        allowed_variables={"input": {"id": "@sentTask", "expectedVersion": 999}},
    ),
    "reopenTask": Row(
        "reopenTask",
        _mutation("reopenTask", "CompleteTaskInput", TASK_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"id": "@doneTask"}},
        allowed_variables={"input": {"id": "@doneTask", "expectedVersion": 999}},
    ),
    "deleteTask": Row(
        "deleteTask",
        _mutation("deleteTask", "DeleteTaskInput", "deletedIds errors { code }"),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"id": "@task", "scope": "THIS_AND_FOLLOWING"}},
        allowed_variables={"input": {"id": "@throwaway:<role>"}},
    ),
    "reassignTasks": Row(
        "reassignTasks",
        _mutation("reassignTasks", "ReassignTasksInput", BULK_PAYLOAD),
        expect(OK, **BULK_ROLES),
        variables={"input": {"ids": ["@task", "@doneTask"], "responsibleIds": []}},
        allowed_variables={"input": {"ids": ["@task"], "responsibleIds": ["@peerStaff"]}},
    ),
    "postponeTasks": Row(
        "postponeTasks",
        _mutation("postponeTasks", "PostponeTasksInput", BULK_PAYLOAD),
        expect(OK, **BULK_ROLES),
        variables={"input": {"ids": ["@task"], "by": "FOUR_WEEKS"}},
        allowed_variables={"input": {"ids": ["@task"], "by": "CUSTOM"}},
    ),
    "completeTasks": Row(
        "completeTasks",
        _mutation("completeTasks", "CompleteTasksInput", BULK_PAYLOAD),
        expect(OK, **BULK_ROLES),
        variables={"input": {"ids": ["@task"]}},
        allowed_variables={"input": {"ids": ["@task"], "expectedVersions": [999]}},
    ),
    "handOverCaseload": Row(
        "handOverCaseload",
        _mutation(
            "handOverCaseload", "HandOverCaseloadInput", "tasks series clients errors { code }"
        ),
        expect(FORBIDDEN, admin=OK),
        variables={"input": {"fromStaffId": "@tasksStaff", "toStaffId": "@adminStaff"}},
        allowed_variables={"input": {"fromStaffId": "@tasksStaff", "toStaffId": "@tasksStaff"}},
    ),
    "handOverCaseload.foreign-staff": Row(
        "handOverCaseload",
        _mutation(
            "handOverCaseload", "HandOverCaseloadInput", "tasks series clients errors { code }"
        ),
        expect(FORBIDDEN, admin=NOT_FOUND),
        variables={"input": {"fromStaffId": "@tasksStaff", "toStaffId": "@peerStaff"}},
        allowed_variables={"input": {"fromStaffId": "@tasksStaff", "toStaffId": "@peerStaff"}},
    ),
    "skipOccurrence": Row(
        "skipOccurrence",
        _mutation("skipOccurrence", "SkipOccurrenceInput", SERIES_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"seriesId": "@series", "date": "2027-03-22"}},
        allowed_variables={"input": {"seriesId": "@series", "date": "2020-01-06"}},
    ),
    "unskipOccurrence": Row(
        "unskipOccurrence",
        _mutation("unskipOccurrence", "SkipOccurrenceInput", SERIES_PAYLOAD),
        expect(OK, **CHANGE_ROLES),
        variables={"input": {"seriesId": "@series", "date": "2027-03-22"}},
        allowed_variables={"input": {"seriesId": "@series", "date": "2020-01-06"}},
    ),
    "updateReminderSettings": Row(
        "updateReminderSettings",
        _mutation(
            "updateReminderSettings",
            "UpdateReminderSettingsInput",
            f"reminderSettings {{ {REMINDER_SETTINGS} }} errors {{ field code message }}",
        ),
        expect(FORBIDDEN, admin=OK),
        variables={"input": {"sendAtHour": 3, "dueSoonDays": None}},
        allowed_variables={"input": {"sendAtHour": 99}},
    ),
    "updateMyPreferences": Row(
        "updateMyPreferences",
        _mutation(
            "updateMyPreferences",
            "UpdateMyPreferencesInput",
            "preferences { emailDigest } errors { field code message }",
        ),
        expect(OK, client=FORBIDDEN),
        variables={"input": {"emailDigest": True}},
        allowed_variables={"input": {"emailDigest": None}},
    ),
    "setCalendarFeed": Row(
        "setCalendarFeed",
        _mutation("setCalendarFeed", "SetCalendarFeedInput", "url errors { field code message }"),
        expect(OK, client=FORBIDDEN),
        variables={"input": {"enabled": True}},
        allowed_variables={"input": {"enabled": False}},
    ),
    "markNotificationsRead": Row(
        "markNotificationsRead",
        _mutation("markNotificationsRead", "MarkNotificationsReadInput", "unreadCount"),
        expect(OK, **STAFF_ONLY),
        variables={"input": {}},
        allowed_variables={"input": {"ids": []}},
    ),
}


# ---------------------------------------------------------------- running cells


def _codes(body: dict[str, Any]) -> str:
    codes = sorted({e.get("extensions", {}).get("code") for e in body.get("errors") or []})
    return OK if not codes else ",".join(str(c) for c in codes)


async def _token(world: World, role: str, fresh: bool) -> str | None:
    token = world.tokens[role]
    if fresh and token is not None and role not in ("deactivated", "signedout"):
        return await world.env.world.login(world.people[role].email)
    return token


async def _cells(world: World, row: Row, allowed_run: bool) -> dict[str, str]:
    """Each role's outcome; with allowed_run, only the roles the row allows, sending
    allowed_variables; without, only the refused ones, sending the row's variables."""
    found: dict[str, str] = {}
    for role in ROLES:
        allowed = row.expected[role] == OK
        if row.allowed_variables is not None and allowed != allowed_run:
            continue
        use_allowed = allowed_run and row.allowed_variables is not None
        variables = row.allowed_variables if use_allowed else row.variables
        token = await _token(world, role, fresh=row.field == "logout")
        body = await world.env.api.post(row.query, _resolve(world, variables or {}, role), token)
        found[role] = _codes(body)
        if found[role] != row.expected[role]:
            print("MISMATCH", row.field, role, json.dumps(body)[:300])
        text = json.dumps(body)
        for secret in row.hides.get(role, ()):
            assert secret not in text, (role, secret, body)
    return found


@pytest.mark.parametrize("label", list(QUERIES))
async def test_query(world: World, label: str) -> None:
    row = QUERIES[label]
    assert await _cells(world, row, allowed_run=True) == row.expected


async def _state(world: World) -> str:
    """Everything a refused mutation could have changed, as each provider sees it."""
    tasks = (
        "{ tasks(filter: {includeCompleted: true}, first: 100) { edges { node { id name details"
        " dueDate status version assignedToClient client { id } responsible { id } } } }"
        " clients(first: 100) { edges { node { id name email hasPortalAccess caseworker { id }"
        " employments { id employer endDate } } } }"
        " me { ... on Staff { preferences { emailDigest } calendarFeedUrl"
        " provider { reminderSettings { dueSoonDays overdue escalateUnassignedAfterHours"
        " sendAtHour } staff(includeInactive: true) { id name email"
        " isAdministrator isGroupAdministrator permissions groupTasksPermission active } } } }"
        " notifications(first: 100) { unreadCount edges { node { id read } } } }"
    )
    seen = [
        await world.env.api.data(tasks, token=who.token)
        for who in (world.home.admin, world.peer.admin, world.people["tasks"])
    ]
    for answer in seen:
        if "tasks" in answer:  # throwaway tasks are there for the roles deleteTask allows
            edges = answer["tasks"]["edges"]
            edges[:] = [e for e in edges if not e["node"]["name"].startswith("Throwaway")]
    return json.dumps(seen, sort_keys=True)


@pytest.mark.parametrize("label", list(MUTATIONS))
async def test_mutation(world: World, label: str) -> None:
    row = MUTATIONS[label]
    if row.allowed_variables is None:  # login and logout: every role may
        assert await _cells(world, row, allowed_run=True) == row.expected
        return
    before = await _state(world)
    refused = await _cells(world, row, allowed_run=False)
    assert refused == {r: c for r, c in row.expected.items() if c != OK}
    assert await _state(world) == before, "a refused mutation changed the world"
    allowed = await _cells(world, row, allowed_run=True)
    assert allowed == {r: c for r, c in row.expected.items() if c == OK}
    assert await _state(world) == before, "an allowed cell changed what other cells read"


# ---------------------------------------------------------------- subscriptions

REJECTED = "REJECTED"  # connection_init refused: the websocket closes with 4403
ANY_CURSOR = notification_cursor(0)
SUB_DEAD = {role: REJECTED for role in DEAD}

SUBSCRIPTIONS: dict[str, Row] = {
    "unassignedTaskAlerts": Row(
        "unassignedTaskAlerts",
        "subscription($after: String) { unassignedTaskAlerts(after: $after) {"
        " notification { id kind cursor } task { id name client { name } } } }",
        expect(OK, client=FORBIDDEN, **TASKS_ROLES, **SUB_DEAD),
        variables={"after": ANY_CURSOR},
    ),
    "clientTaskCompletions": Row(
        "clientTaskCompletions",
        "subscription($after: String) { clientTaskCompletions(after: $after) {"
        " notification { id kind } task { id } client { id name } } }",
        expect(OK, **STAFF_ONLY, **SUB_DEAD),
        variables={"after": ANY_CURSOR},
    ),
    "clientTaskCompletions.own-client": Row(
        "clientTaskCompletions",
        "subscription($c: ID, $after: String) { clientTaskCompletions(clientId: $c, after: $after)"
        " { notification { id } client { id } } }",
        expect(OK, other=NOT_FOUND, **STAFF_ONLY, **SUB_DEAD),
        variables={"c": "@client", "after": ANY_CURSOR},
    ),
    "clientTaskCompletions.peer-client": Row(
        "clientTaskCompletions",
        "subscription($c: ID) { clientTaskCompletions(clientId: $c) { notification { id } } }",
        expect(NOT_FOUND, other=OK, **STAFF_ONLY, **SUB_DEAD),
        variables={"c": "@peerClient"},
    ),
    "notificationAdded": Row(
        "notificationAdded",
        "subscription($after: String) { notificationAdded(after: $after) { id kind cursor"
        " task { id client { name } } } }",
        expect(OK, **STAFF_ONLY, **SUB_DEAD),
        variables={"after": ANY_CURSOR},
    ),
    "notificationAdded.peer-cursor": Row(
        "notificationAdded",
        "subscription($after: String) { notificationAdded(after: $after) { id } }",
        expect(OK, **STAFF_ONLY, **SUB_DEAD),
        variables={"after": "@peerCursor"},
    ),
    "notificationAdded.forged-cursor": Row(
        "notificationAdded",
        "subscription($after: String) { notificationAdded(after: $after) { id } }",
        expect(BAD_INPUT, **STAFF_ONLY, **SUB_DEAD),
        variables={"after": "bm90IGEgY3Vyc29y"},
    ),
}


def _notification_ids(data: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for value in data.values():
        node = value.get("notification", value)
        found.add(node["id"])
    return found


async def _subscription_cell(world: World, url: str, row: Row, role: str) -> str:
    try:
        ws = await GraphQLWebSocket.connect(url, world.tokens[role])
    except Rejected as rejected:
        assert rejected.code == 4403
        return REJECTED
    try:
        operation = await ws.subscribe(row.query, _resolve(world, row.variables, role))
        received: set[str] = set()
        # The Tasks member has notifications of every kind: from the first cursor, each
        # feed open to them replays some, so the first message is waited for.
        expecting = role == "tasks" and row.variables.get("after") == ANY_CURSOR
        while True:
            try:
                wait = 5.0 if expecting and not received else 0.2
                message = await operation.message(timeout=wait)
            except TimeoutError:
                break
            if message["type"] == "error":
                return ",".join(sorted({e["extensions"]["code"] for e in message["payload"]}))
            assert message["type"] == "next", message
            assert not message["payload"].get("errors"), message
            received |= _notification_ids(message["payload"]["data"])
        # Whatever was replayed is the viewer's own.
        own = await world.env.api.data(
            "{ notifications(first: 100) { edges { node { id } } } }", token=world.tokens[role]
        )
        assert received <= {e["node"]["id"] for e in own["notifications"]["edges"]}, role
        assert received or not expecting, (role, row.variables)
        return OK
    finally:
        await ws.close()


@pytest.mark.parametrize("label", list(SUBSCRIPTIONS))
async def test_subscription(sqlite_world: World, label: str) -> None:
    row = SUBSCRIPTIONS[label]
    async with serve_in_process(sqlite_world.env.app) as address:
        url = f"ws://{address}/graphql"
        found = {role: await _subscription_cell(sqlite_world, url, row, role) for role in ROLES}
    assert found == row.expected


# ---------------------------------------------------------------- the matrix covers the schema


def test_every_operation_has_rows() -> None:
    graphql_schema = served.build_schema()._schema
    tables = {"Query": QUERIES, "Mutation": MUTATIONS, "Subscription": SUBSCRIPTIONS}
    for root, rows in tables.items():
        root_type = graphql_schema.get_type(root)
        assert isinstance(root_type, GraphQLObjectType)
        covered = {row.field for row in rows.values()}
        assert set(root_type.fields) - covered == set(), f"{root} fields without rows"
        for row in rows.values():
            assert set(row.expected) == set(ROLES), row


class _FieldsAsked(Visitor):
    def __init__(self, type_info: TypeInfo, into: set[tuple[str, str]]) -> None:
        super().__init__()
        self.type_info = type_info
        self.into = into

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None:
            self.into.add((get_named_type(parent).name, node.name.value))


def _asked_for() -> set[tuple[str, str]]:
    graphql_schema = served.build_schema()._schema
    asked: set[tuple[str, str]] = set()
    for rows in (QUERIES, MUTATIONS, SUBSCRIPTIONS):
        for row in rows.values():
            type_info = TypeInfo(graphql_schema)
            visit(parse(row.query), TypeInfoVisitor(type_info, _FieldsAsked(type_info, asked)))
    return asked


def test_every_contract_field_is_asked_for() -> None:
    """Every field of the contract that is served; a contract part not built yet (the contract
    test's PENDING list) joins this check once it is served."""
    contract = build_schema(CONTRACT.read_text())
    serving = served.build_schema()._schema.type_map
    wanted = {
        (name, field_name)
        for name, type_ in contract.type_map.items()
        if isinstance(type_, GraphQLObjectType)
        and not name.startswith("__")
        and name not in ("Query", "Mutation", "Subscription")
        and isinstance(serving.get(name), GraphQLObjectType)
        for field_name in type_.fields
        if field_name in serving[name].fields  # type: ignore[union-attr]
    }
    assert sorted(wanted - _asked_for()) == []
