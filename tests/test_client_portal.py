"""The client portal over HTTP: client logins, client tasks, the Task Widget and completions."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from models import Notification, NotificationKind
from schema.ids import from_global_id
from tests.conftest import START, Env
from tests.factories import PASSWORD, Person, Provider, World

PORTAL_PASSWORD = "client portal secret"

CLIENT_FIELDS = "id name email hasPortalAccess caseworker { id }"
CREATE_CLIENT = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) {"
    f" client {{ {CLIENT_FIELDS} }} errors {{ field code message }} }} }}"
)
UPDATE_CLIENT = (
    "mutation($input: UpdateClientInput!) { updateClient(input: $input) {"
    f" client {{ {CLIENT_FIELDS} }} errors {{ field code message }} }} }}"
)
LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token"
    " viewer { __typename ... on Client { id name } ... on Staff { id name } }"
    " errors { field code message } } }"
)
ME = (
    "{ me { __typename ... on Client { id name email hasPortalAccess"
    " caseworker { id name email isAdministrator permissions }"
    " employments { id employer startDate endDate } } ... on Staff { id } } }"
)
WIDGET_FIELDS = "id name details dueDate status overdue assignedToClient"
MY_TASKS = (
    "query($inc: Boolean, $first: Int, $after: String) {"
    " myTasks(includeCompleted: $inc, first: $first, after: $after) {"
    " totalCount pageInfo { hasNextPage endCursor }"
    f" edges {{ cursor node {{ {WIDGET_FIELDS} }} }} }} }}"
)
TASK = f"query($id: ID!) {{ task(id: $id) {{ {WIDGET_FIELDS} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ __typename id ... on Task {{ {WIDGET_FIELDS} }} }} }}"
COMPLETED_BY = "completedBy { __typename ... on Client { id name } ... on Staff { id name } }"
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    f" task {{ id status completedAt version {COMPLETED_BY} }}"
    " errors { field code message } } }"
)
REOPEN = (
    "mutation($input: CompleteTaskInput!) { reopenTask(input: $input) {"
    " task { id status } errors { field code message } } }"
)
REASSIGN = (
    "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
    " task { id assignedToClient responsible { id } } errors { field code message } } }"
)
STAFF_TASK = (
    "query($id: ID!) { task(id: $id) { id status version completedAt assignedToClient"
    f" responsible {{ id }} {COMPLETED_BY}"
    " history { kind summary by { __typename ... on Client { id } ... on Staff { id } } } } }"
)
STAFF_TASKS = (
    "query($filter: TaskFilter) { tasks(filter: $filter) { totalCount"
    f" edges {{ node {{ id name status completedAt {COMPLETED_BY} }} }} }} }}"
)
NOTIFICATIONS = "{ notifications { unreadCount edges { node { id kind message task { id } } } } }"
DEACTIVATE = (
    "mutation($id: ID!) { updateStaff(input: {id: $id, active: false}) { errors { message } } }"
)


# ---------------------------------------------------------------- helpers


@dataclass
class PortalClient:
    id: str
    name: str
    email: str
    token: str


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def problems(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def key(global_id: str) -> int:
    decoded = from_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def create_client(env: Env, token: str, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("createClient", CREATE_CLIENT, {"input": fields}, token)


async def update_client(env: Env, token: str, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("updateClient", UPDATE_CLIENT, {"input": fields}, token)


async def login(world: World, email: str, password: str) -> dict[str, Any]:
    return await world.api.mutate("login", LOGIN, {"e": email, "p": password})


_emails = iter(range(1, 10_000))


async def portal_client(
    world: World,
    provider: Provider,
    name: str | None = None,
    caseworker: Person | None = None,
    email: str | None = None,
) -> PortalClient:
    """A client given portal access by createClient (the contract's way), signed in."""
    n = next(_emails)
    name = name or f"Portal Client {n}"
    email = email or f"client{n}.{key(provider.id)}@portal.example"
    payload = await world.api.mutate(
        "createClient",
        CREATE_CLIENT,
        {
            "input": {
                "name": name,
                "email": email,
                "caseworkerId": caseworker.id if caseworker else None,
                "portalPassword": PORTAL_PASSWORD,
            }
        },
        provider.admin.token,
    )
    assert payload["errors"] == [], payload
    signed_in = await login(world, email, PORTAL_PASSWORD)
    assert signed_in["errors"] == [], signed_in
    return PortalClient(payload["client"]["id"], name, email, signed_in["token"])


async def client_task(
    world: World, by: Person, client: PortalClient | str, **fields: Any
) -> dict[str, Any]:
    """A task assigned to the client; no one responsible unless given."""
    fields.setdefault("responsibleIds", [])
    fields.setdefault("assignedToClient", True)
    client_id = client if isinstance(client, str) else client.id
    return await world.task(by, clientId=client_id, **fields)


async def complete(env: Env, token: str, task_id: str, **extra: Any) -> dict[str, Any]:
    return await env.api.post(COMPLETE, {"input": {"id": task_id, **extra}}, token)


async def my_tasks(env: Env, client: PortalClient, **args: Any) -> dict[str, Any]:
    return (await env.api.data(MY_TASKS, args, client.token))["myTasks"]  # type: ignore[no-any-return]


async def widget_names(env: Env, client: PortalClient, **args: Any) -> list[str]:
    return [e["node"]["name"] for e in (await my_tasks(env, client, **args))["edges"]]


async def completions_in_db(env: Env) -> list[tuple[int, int | None, str]]:
    """(recipient, task, message) of every CLIENT_TASK_COMPLETED notification."""
    async with env.world.session_factory() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.kind == NotificationKind.CLIENT_TASK_COMPLETED)
            .order_by(Notification.id)  # type: ignore[arg-type]
        )
        return [(n.recipient_id, n.task_id, n.message) for n in rows]


async def notification_kinds(env: Env, token: str) -> list[str]:
    data = await env.api.data(NOTIFICATIONS, token=token)
    return [e["node"]["kind"] for e in data["notifications"]["edges"]]


@dataclass
class Scene:
    """A provider, a caseworker, a portal client with assigned tasks, and an outsider client."""

    provider: Provider
    caseworker: Person
    client: PortalClient
    other: PortalClient
    own: dict[str, Any]
    about_not_assigned: dict[str, Any]
    others_task: dict[str, Any]
    staff_task: dict[str, Any]


async def scene(env: Env) -> Scene:
    world = env.world
    provider = await world.provider(name="Northside", group="Harbour Network")
    caseworker = await world.staff(provider, "Ben Okafor")
    client = await portal_client(world, provider, "Daniel Harris", caseworker)
    other = await portal_client(world, provider, "Fatima Rahman", caseworker)
    own = await client_task(
        world, provider.admin, client, name="Upload your CV", details="PDF or Word"
    )
    about = await world.task(provider.admin, name="Check Daniel's references", clientId=client.id)
    others = await client_task(world, provider.admin, other, name="Fatima's form")
    staff_only = await world.task(
        provider.admin, name="Team meeting", responsibleIds=[caseworker.id]
    )
    return Scene(provider, caseworker, client, other, own, about, others, staff_only)


# ---------------------------------------------------------------- 1. portal access


async def test_create_client_with_portal_password_gives_a_login_whose_viewer_is_the_client(
    env: Env,
) -> None:
    provider = await env.world.provider()
    payload = await create_client(
        env,
        provider.admin.token,
        name="Daniel Harris",
        email="Daniel@Example.org",
        portalPassword=PORTAL_PASSWORD,
    )
    assert payload["errors"] == []
    assert payload["client"]["hasPortalAccess"] is True

    signed_in = await login(env.world, " daniel@example.ORG ", PORTAL_PASSWORD)
    assert signed_in["errors"] == []
    assert signed_in["token"]
    assert signed_in["viewer"] == {
        "__typename": "Client",
        "id": payload["client"]["id"],
        "name": "Daniel Harris",
    }
    me = (await env.api.data(ME, token=signed_in["token"]))["me"]
    assert me["__typename"] == "Client"
    assert me["id"] == payload["client"]["id"]
    assert me["hasPortalAccess"] is True


async def test_update_client_later_gives_portal_access_and_a_new_password_replaces_the_old(
    env: Env,
) -> None:
    provider = await env.world.provider()
    created = await create_client(
        env, provider.admin.token, name="Daniel Harris", email="daniel@example.org"
    )
    client_id = created["client"]["id"]
    assert created["client"]["hasPortalAccess"] is False
    assert (await login(env.world, "daniel@example.org", PORTAL_PASSWORD))["token"] is None

    granted = await update_client(
        env, provider.admin.token, id=client_id, portalPassword=PORTAL_PASSWORD
    )
    assert granted["errors"] == []
    assert granted["client"]["hasPortalAccess"] is True
    first = await login(env.world, "daniel@example.org", PORTAL_PASSWORD)
    assert first["viewer"]["id"] == client_id

    assert (await env.api.data(ME, token=first["token"]))["me"]["id"] == client_id

    changed = await update_client(
        env, provider.admin.token, id=client_id, portalPassword="a brand new secret"
    )
    assert changed["errors"] == []
    # A new password signs the client out: the old token no longer works.
    assert (await env.api.data(ME, token=first["token"]))["me"] is None
    assert (await login(env.world, "daniel@example.org", PORTAL_PASSWORD))["token"] is None
    assert (await login(env.world, "daniel@example.org", "a brand new secret"))["token"]


async def test_a_portal_client_signs_in_with_a_changed_email(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider, email="old@example.org")
    payload = await update_client(env, provider.admin.token, id=client.id, email="New@Example.org")
    assert payload["errors"] == []
    assert (await login(env.world, "old@example.org", PORTAL_PASSWORD))["token"] is None
    assert (await login(env.world, "new@example.org", PORTAL_PASSWORD))["viewer"]["id"] == client.id


async def test_withdrawing_portal_access_stops_the_clients_token_and_login(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    assert (await env.api.data(ME, token=client.token))["me"]["id"] == client.id

    payload = await update_client(env, provider.admin.token, id=client.id, portalPassword=None)
    assert payload["errors"] == []
    assert payload["client"]["hasPortalAccess"] is False

    assert (await env.api.data(ME, token=client.token))["me"] is None
    assert codes(await env.api.post(MY_TASKS, {}, client.token)) == ["UNAUTHENTICATED"]
    refused = await login(env.world, client.email, PORTAL_PASSWORD)
    assert refused["token"] is None and refused["viewer"] is None
    # The email is free again for another client's login.
    reused = await create_client(
        env,
        provider.admin.token,
        name="Someone Else",
        email=client.email,
        portalPassword=PORTAL_PASSWORD,
    )
    assert reused["errors"] == []


async def test_a_client_logs_out_and_the_token_stops_working(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    assert (await env.api.data("mutation { logout }", token=client.token))["logout"] is True
    assert codes(await env.api.post(MY_TASKS, {}, client.token)) == ["UNAUTHENTICATED"]


async def test_wrong_password_for_a_client_gives_the_same_error_as_for_staff(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)

    for_client = await login(env.world, client.email, "not the password")
    for_staff = await login(env.world, provider.admin.email, "not the password")
    for_nobody = await login(env.world, "nobody@example.org", "not the password")

    assert for_client == for_staff == for_nobody
    assert for_client["token"] is None and for_client["viewer"] is None
    assert [e["code"] for e in for_client["errors"]] == ["INVALID"]


async def test_portal_email_must_be_unique_against_staff_and_other_portal_clients(
    env: Env,
) -> None:
    provider = await env.world.provider()
    elsewhere = await env.world.provider()
    member = await env.world.staff(elsewhere)
    existing = await portal_client(env.world, elsewhere, email="taken@example.org")
    before = await env.api.data("{ clients { totalCount } }", token=provider.admin.token)

    for email in (member.email.upper(), " Taken@Example.org", existing.email):
        payload = await create_client(
            env, provider.admin.token, name="New Client", email=email, portalPassword=PASSWORD
        )
        assert payload["client"] is None
        assert problems(payload) == [(["input", "email"], "INVALID")], email

    after = await env.api.data("{ clients { totalCount } }", token=provider.admin.token)
    assert after == before
    # Without portal access an email is only contact details and may repeat.
    plain = await create_client(env, provider.admin.token, name="Plain", email=member.email)
    assert plain["errors"] == []
    # ... but giving that client a login with it is refused.
    refused = await update_client(
        env, provider.admin.token, id=plain["client"]["id"], portalPassword=PASSWORD
    )
    assert problems(refused) == [(["input", "email"], "INVALID")]


async def test_a_portal_client_cannot_change_to_an_email_used_to_sign_in(env: Env) -> None:
    provider = await env.world.provider()
    first = await portal_client(env.world, provider)
    second = await portal_client(env.world, provider)
    payload = await update_client(
        env, provider.admin.token, id=second.id, email=first.email.upper()
    )
    assert problems(payload) == [(["input", "email"], "INVALID")]
    assert (await login(env.world, second.email, PORTAL_PASSWORD))["viewer"]["id"] == second.id


async def test_staff_cannot_be_created_with_a_portal_clients_email(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    payload = await env.api.mutate(
        "createStaff",
        "mutation($input: CreateStaffInput!) { createStaff(input: $input) {"
        " staff { id } errors { field code } } }",
        {"input": {"name": "Copycat", "email": client.email, "password": PASSWORD}},
        provider.admin.token,
    )
    assert problems(payload) == [(["input", "email"], "INVALID")]


async def test_portal_password_without_an_email_is_a_user_error(env: Env) -> None:
    provider = await env.world.provider()
    payload = await create_client(
        env, provider.admin.token, name="No Email", portalPassword=PORTAL_PASSWORD
    )
    assert payload["client"] is None
    assert problems(payload) == [(["input", "email"], "REQUIRED")]

    plain = await create_client(env, provider.admin.token, name="No Email")
    updated = await update_client(
        env, provider.admin.token, id=plain["client"]["id"], portalPassword=PORTAL_PASSWORD
    )
    assert problems(updated) == [(["input", "email"], "REQUIRED")]

    client = await portal_client(env.world, provider)
    cleared = await update_client(env, provider.admin.token, id=client.id, email=None)
    assert problems(cleared) == [(["input", "email"], "REQUIRED")]
    assert (await env.api.data(ME, token=client.token))["me"]["id"] == client.id


async def test_a_short_portal_password_is_a_user_error(env: Env) -> None:
    provider = await env.world.provider()
    payload = await create_client(
        env, provider.admin.token, name="Short", email="short@example.org", portalPassword="abc"
    )
    assert payload["client"] is None
    assert problems(payload) == [(["input", "portalPassword"], "INVALID")]
    assert (await login(env.world, "short@example.org", "abc"))["token"] is None

    client = await portal_client(env.world, provider)
    updated = await update_client(env, provider.admin.token, id=client.id, portalPassword="abc")
    assert problems(updated) == [(["input", "portalPassword"], "INVALID")]
    assert (await login(env.world, client.email, PORTAL_PASSWORD))["token"]


# ---------------------------------------------------------------- 2. creating client tasks


async def test_a_client_task_may_have_no_one_responsible(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    task = await client_task(env.world, provider.admin, client, name="Upload your CV")
    assert task["assignedToClient"] is True
    assert task["responsible"] == []
    assert task["client"]["id"] == client.id
    assert "assigned to the client" in task["history"][0]["summary"]

    with_staff = await client_task(
        env.world, provider.admin, client, responsibleIds=[provider.admin.id]
    )
    assert with_staff["responsible"] == [{"id": provider.admin.id, "name": provider.admin.name}]
    assert with_staff["assignedToClient"] is True


async def test_a_task_assigned_to_the_client_always_has_a_client(env: Env) -> None:
    provider = await env.world.provider()
    body = await env.api.post(
        "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
        " task { id } errors { field code } } }",
        {"input": {"name": "Orphan", "dueDate": "2027-03-15", "assignedToClient": True}},
        provider.admin.token,
    )
    assert problems(body["data"]["createTask"]) == [(["input", "clientId"], "REQUIRED")]

    # Nor can an edit take the client away and leave the task no one's.
    client = await portal_client(env.world, provider)
    task = await client_task(env.world, provider.admin, client, name="Upload your CV")
    edited = await env.api.mutate(
        "updateTask",
        "mutation($input: UpdateTaskInput!) { updateTask(input: $input) {"
        " task { id } errors { field code } } }",
        {"input": {"id": task["id"], "clientId": None}},
        provider.admin.token,
    )
    assert problems(edited) == [(["input", "clientId"], "REQUIRED")]
    assert await widget_names(env, client) == ["Upload your CV"]


async def test_a_client_task_with_no_one_responsible_is_not_unassigned(env: Env) -> None:
    provider = await env.world.provider()
    colleague = await env.world.staff(provider)
    client = await portal_client(env.world, provider)
    task = await client_task(env.world, provider.admin, client)

    unassigned = await env.api.data(
        STAFF_TASKS, {"filter": {"unassigned": True}}, provider.admin.token
    )
    assert unassigned["tasks"]["totalCount"] == 0
    for_client = await env.api.data(
        STAFF_TASKS, {"filter": {"assignedToClient": True}}, provider.admin.token
    )
    assert [e["node"]["id"] for e in for_client["tasks"]["edges"]] == [task["id"]]
    for token in (provider.admin.token, colleague.token):
        assert "UNASSIGNED_TASK" not in await notification_kinds(env, token)


async def test_taking_a_task_off_the_client_with_no_one_responsible_makes_it_unassigned(
    env: Env,
) -> None:
    provider = await env.world.provider()
    colleague = await env.world.staff(provider)
    client = await portal_client(env.world, provider)
    task = await client_task(env.world, provider.admin, client)

    payload = await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"input": {"id": task["id"], "responsibleIds": [], "assignedToClient": False}},
        provider.admin.token,
    )
    assert payload["errors"] == []
    assert payload["task"]["assignedToClient"] is False

    unassigned = await env.api.data(
        STAFF_TASKS, {"filter": {"unassigned": True}}, provider.admin.token
    )
    assert [e["node"]["id"] for e in unassigned["tasks"]["edges"]] == [task["id"]]
    assert "UNASSIGNED_TASK" in await notification_kinds(env, colleague.token)
    # No longer the client's to do: gone from the widget and not theirs to complete.
    assert await widget_names(env, client) == []
    assert codes(await complete(env, client.token, task["id"])) == ["NOT_FOUND"]


# ---------------------------------------------------------------- 3. the Task Widget


async def test_my_tasks_lists_only_the_clients_assigned_tasks_soonest_due_first(
    env: Env,
) -> None:
    s = await scene(env)
    world = env.world
    await client_task(world, s.provider.admin, s.client, name="Later", dueDate="2027-04-01")
    await client_task(world, s.provider.admin, s.client, name="Sooner", dueDate="2027-03-05")

    widget = await my_tasks(env, s.client)
    assert [e["node"]["name"] for e in widget["edges"]] == ["Sooner", "Upload your CV", "Later"]
    assert widget["totalCount"] == 3
    own = widget["edges"][1]["node"]
    assert own == {
        "id": s.own["id"],
        "name": "Upload your CV",
        "details": "PDF or Word",
        "dueDate": "2027-03-15",
        "status": "OPEN",
        "overdue": False,
        "assignedToClient": True,
    }
    assert await widget_names(env, s.other) == ["Fatima's form"]


async def test_my_tasks_pages_with_first_and_after(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    for day in (9, 3, 7, 5, 11):
        await client_task(
            env.world, provider.admin, client, name=f"Day {day}", dueDate=f"2027-03-{day:02d}"
        )

    seen: list[str] = []
    after = None
    while True:
        page = await my_tasks(env, client, first=2, after=after)
        assert page["totalCount"] == 5
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Day 3", "Day 5", "Day 7", "Day 9", "Day 11"]


async def test_my_tasks_hides_completed_tasks_unless_asked_and_shows_overdue(env: Env) -> None:
    provider = await env.world.provider()
    client = await portal_client(env.world, provider)
    done = await client_task(env.world, provider.admin, client, name="Done", dueDate="2027-03-02")
    await client_task(env.world, provider.admin, client, name="Late", dueDate="2027-03-03")
    await client_task(env.world, provider.admin, client, name="Today", dueDate="2027-03-10")
    assert (await complete(env, client.token, done["id"]))["data"]["completeTask"]["errors"] == []

    env.clock.set(START + timedelta(days=9))  # 10 March in Sydney
    client.token = (await login(env.world, client.email, PORTAL_PASSWORD))["token"]
    widget = await my_tasks(env, client)
    assert [(e["node"]["name"], e["node"]["overdue"]) for e in widget["edges"]] == [
        ("Late", True),
        ("Today", False),
    ]
    everything = await my_tasks(env, client, inc=True)
    assert [
        (e["node"]["name"], e["node"]["status"], e["node"]["overdue"]) for e in everything["edges"]
    ] == [
        ("Done", "COMPLETED", False),
        ("Late", "OPEN", True),
        ("Today", "OPEN", False),
    ]
    assert everything["totalCount"] == 3


async def test_my_tasks_is_for_signed_in_clients_only(env: Env) -> None:
    provider = await env.world.provider()
    assert codes(await env.api.post(MY_TASKS, {}, provider.admin.token)) == ["FORBIDDEN"]
    assert codes(await env.api.post(MY_TASKS, {})) == ["UNAUTHENTICATED"]


async def test_a_client_reads_its_own_task_by_task_and_node(env: Env) -> None:
    s = await scene(env)
    for query, field in ((TASK, "task"), (NODE, "node")):
        got = (await env.api.data(query, {"id": s.own["id"]}, s.client.token))[field]
        assert got["id"] == s.own["id"]
        assert got["name"] == "Upload your CV"
        assert got["status"] == "OPEN"


async def test_a_client_cannot_read_other_tasks_or_other_clients(env: Env) -> None:
    s = await scene(env)
    outside = await env.world.provider()
    stranger = await portal_client(env.world, outside)
    strangers_task = await client_task(env.world, outside.admin, stranger)
    hidden = {
        "a task about them not assigned to them": s.about_not_assigned["id"],
        "another client's task": s.others_task["id"],
        "a staff task": s.staff_task["id"],
        "another provider's client task": strangers_task["id"],
    }
    for what, task_id in hidden.items():
        for query in (TASK, NODE):
            body = await env.api.post(query, {"id": task_id}, s.client.token)
            assert codes(body) == ["NOT_FOUND"], (what, query, body)
    for client_id in (s.other.id, stranger.id):
        body = await env.api.post(
            "query($id: ID!) { client(id: $id) { id name } }", {"id": client_id}, s.client.token
        )
        assert codes(body) == ["NOT_FOUND"]
        assert codes(await env.api.post(NODE, {"id": client_id}, s.client.token)) == ["NOT_FOUND"]
    own = await env.api.data(
        "query($id: ID!) { client(id: $id) { id name } }", {"id": s.client.id}, s.client.token
    )
    assert own["client"] == {"id": s.client.id, "name": "Daniel Harris"}


async def test_a_client_sees_no_history_and_no_staff_email(env: Env) -> None:
    s = await scene(env)
    await client_task(
        env.world,
        s.provider.admin,
        s.client,
        name="With staff",
        responsibleIds=[s.caseworker.id],
        dueDate="2027-03-20",
    )
    history = await env.api.post(
        "query($id: ID!) { task(id: $id) { id history { kind summary } } }",
        {"id": s.own["id"]},
        s.client.token,
    )
    assert codes(history) == ["FORBIDDEN"]
    assert history["data"]["task"] is None
    widget_history = await env.api.post(
        "{ myTasks { edges { node { id history { kind } } } } }", {}, s.client.token
    )
    assert codes(widget_history)
    assert set(codes(widget_history)) == {"FORBIDDEN"}

    people = await env.api.data(
        "{ myTasks { edges { node { name"
        " responsible { id name email isAdministrator permissions }"
        " createdBy { name email } client { id name email caseworker { name email } } } } } }",
        token=s.client.token,
    )
    nodes = [e["node"] for e in people["myTasks"]["edges"]]
    with_staff = next(n for n in nodes if n["name"] == "With staff")
    assert with_staff["responsible"] == [
        {
            "id": s.caseworker.id,
            "name": "Ben Okafor",
            "email": "",
            "isAdministrator": False,
            "permissions": [],
        }
    ]
    for n in nodes:
        assert n["createdBy"] == {"name": s.provider.admin.name, "email": ""}
        assert n["client"]["caseworker"] == {"name": "Ben Okafor", "email": ""}
    me = (await env.api.data(ME, token=s.client.token))["me"]
    assert me["caseworker"]["email"] == ""
    text = json.dumps([people, me])
    assert s.caseworker.email not in text and s.provider.admin.email not in text


async def test_a_client_has_no_staff_queries(env: Env) -> None:
    s = await scene(env)
    grouped = await env.world.provider(group="Harbour Network")
    notification = (await env.api.data(NOTIFICATIONS, token=s.caseworker.token))["notifications"]
    notification_id = notification["edges"][0]["node"]["id"]
    attempts: dict[str, tuple[str, dict[str, Any]]] = {
        "tasks": ("{ tasks { totalCount edges { node { id name } } } }", {}),
        "tasks by client": (
            "query($c: ID!) { tasks(filter: {clientId: $c, includeCompleted: true})"
            " { totalCount edges { node { id name } } } }",
            {"c": s.client.id},
        ),
        "clients": ("{ clients { totalCount edges { node { id name email } } } }", {}),
        "notifications": ("{ notifications { unreadCount edges { node { message } } } }", {}),
        "staff node": (
            "query($id: ID!) { node(id: $id) { ... on Staff { id name email } } }",
            {"id": s.caseworker.id},
        ),
        "notification node": (
            "query($id: ID!) { node(id: $id) { ... on Notification { id message } } }",
            {"id": notification_id},
        ),
        "group node": (
            "query($id: ID!) { node(id: $id) { ... on ServiceProviderGroup { id name } } }",
            {"id": grouped.group_id},
        ),
        "other provider node": (
            "query($id: ID!) { node(id: $id) { ... on ServiceProvider { id name } } }",
            {"id": grouped.id},
        ),
        "own client's task list": (
            "{ me { ... on Client { tasks(includeCompleted: true) { totalCount"
            " edges { node { id name } } } } } }",
            {},
        ),
        "provider staff": (
            "{ me { ... on Client { provider { staff(includeInactive: true)"
            " { id name email } } } } }",
            {},
        ),
        "task recipients": (
            "{ me { ... on Client { provider { taskRecipients { id name } } } } }",
            {},
        ),
        "client of a task not theirs": (
            "query($id: ID!) { task(id: $id) { client { id name } } }",
            {"id": s.others_task["id"]},
        ),
        "group through the task's provider": (
            "{ myTasks { edges { node { serviceProvider {"
            " group { id name providers { id name } } } } } } }",
            {},
        ),
        "group through the client's provider": (
            "{ me { ... on Client { provider { group { name } } } } }",
            {},
        ),
    }
    secrets = [
        s.caseworker.email,
        s.provider.admin.email,
        "Fatima",
        "Check Daniel's references",
        "Team meeting",
        "Harbour Network",
        grouped.name,
    ]
    for name, (query, variables) in attempts.items():
        body = await env.api.post(query, variables, s.client.token)
        found = codes(body)
        assert found and set(found) <= {"FORBIDDEN", "NOT_FOUND"}, (name, body)
        text = json.dumps(body.get("data"))
        assert not [secret for secret in secrets if secret in text], (name, body)


async def test_a_client_has_no_staff_mutations(env: Env) -> None:
    s = await scene(env)
    grouped = await env.world.provider(group="Harbour Network", group_admin=True)
    done = await client_task(env.world, s.provider.admin, s.client, name="Finished")
    assert (await complete(env, s.client.token, done["id"]))["data"]["completeTask"]["errors"] == []
    own = s.own["id"]
    recorded = await env.api.mutate(
        "recordEmployment",
        "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
        " employment { id } errors { message } } }",
        {"input": {"clientId": s.client.id, "employer": "City Library", "startDate": "2026-01-05"}},
        s.caseworker.token,
    )
    employment = recorded["employment"]["id"]
    attempts: dict[str, tuple[str, str, dict[str, Any]]] = {
        "createStaff": (
            "CreateStaffInput",
            "staff { id }",
            {
                "name": "Mole",
                "email": "mole@example.org",
                "password": PASSWORD,
                "isAdministrator": True,
            },
        ),
        "updateStaff": (
            "UpdateStaffInput",
            "staff { id }",
            {"id": s.caseworker.id, "active": False},
        ),
        "setGroupTasksPermission": (
            "SetGroupTasksPermissionInput",
            "staff { id }",
            {"staffId": grouped.admin.id, "enabled": True},
        ),
        "createClient": ("CreateClientInput", "client { id }", {"name": "Friend"}),
        "updateClient": (
            "UpdateClientInput",
            "client { id }",
            {"id": s.client.id, "name": "Renamed"},
        ),
        "createTask": (
            "CreateTaskInput",
            "task { id }",
            {
                "name": "Mine",
                "dueDate": "2027-03-20",
                "clientId": s.client.id,
                "assignedToClient": True,
            },
        ),
        "updateTask": ("UpdateTaskInput", "task { id }", {"id": own, "dueDate": "2027-12-31"}),
        "postponeTask": ("PostponeTaskInput", "task { id }", {"id": own, "by": "FOUR_WEEKS"}),
        "reassignTask": (
            "ReassignTaskInput",
            "task { id }",
            {"id": own, "responsibleIds": [], "assignedToClient": False},
        ),
        "reopenTask": ("CompleteTaskInput", "task { id }", {"id": done["id"]}),
        "deleteTask": ("DeleteTaskInput", "deletedIds", {"id": own}),
        "markNotificationsRead": ("MarkNotificationsReadInput", "unreadCount", {}),
        "recordEmployment": (
            "RecordEmploymentInput",
            "employment { id }",
            {"clientId": s.client.id, "employer": "Harbour Cafe", "startDate": "2027-03-01"},
        ),
        "endEmployment": (
            "EndEmploymentInput",
            "employment { id }",
            {"employmentId": employment, "endDate": "2027-03-02"},
        ),
    }
    for mutation, (input_type, selection, fields) in attempts.items():
        body = await env.api.post(
            f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {selection} }} }}",
            {"input": fields},
            s.client.token,
        )
        found = codes(body)
        assert found and set(found) <= {"FORBIDDEN", "NOT_FOUND"}, (mutation, body)

    # Nothing changed.
    task = (await env.api.data(STAFF_TASK, {"id": own}, s.provider.admin.token))["task"]
    assert task["version"] == s.own["version"]
    assert task["assignedToClient"] is True
    assert (await env.api.data(STAFF_TASK, {"id": done["id"]}, s.provider.admin.token))["task"][
        "status"
    ] == "COMPLETED"
    assert (await widget_names(env, s.client)) == ["Upload your CV"]
    staff = await env.api.data(
        "query($id: ID!) { provider: node(id: $id) { ... on ServiceProvider {"
        " staff(includeInactive: true) { name active } } } }",
        {"id": s.provider.id},
        s.provider.admin.token,
    )
    assert sorted(m["name"] for m in staff["provider"]["staff"]) == sorted(
        [s.provider.admin.name, "Ben Okafor"]
    )
    assert all(m["active"] for m in staff["provider"]["staff"])
    clients = await env.api.data(
        "{ clients { edges { node { name } } } }", token=s.caseworker.token
    )
    assert [e["node"]["name"] for e in clients["clients"]["edges"]] == [
        "Daniel Harris",
        "Fatima Rahman",
    ]
    jobs = await env.api.data(
        "query($id: ID!) { client(id: $id) { employments { employer endDate } } }",
        {"id": s.client.id},
        s.caseworker.token,
    )
    assert jobs["client"]["employments"] == [{"employer": "City Library", "endDate": None}]
    unread = await env.api.data(NOTIFICATIONS, token=s.caseworker.token)
    assert unread["notifications"]["unreadCount"] >= 1


# ---------------------------------------------------------------- 4. completing


async def test_a_client_completes_their_task_and_staff_see_who_did(env: Env) -> None:
    s = await scene(env)
    env.clock.advance(timedelta(hours=2))

    body = await complete(env, s.client.token, s.own["id"])
    payload = body["data"]["completeTask"]
    assert payload["errors"] == []
    assert payload["task"]["status"] == "COMPLETED"
    assert datetime.fromisoformat(payload["task"]["completedAt"]) == START + timedelta(hours=2)
    assert payload["task"]["completedBy"] == {
        "__typename": "Client",
        "id": s.client.id,
        "name": "Daniel Harris",
    }
    assert payload["task"]["version"] == s.own["version"] + 1

    task = (await env.api.data(STAFF_TASK, {"id": s.own["id"]}, s.provider.admin.token))["task"]
    assert task["completedBy"]["__typename"] == "Client"
    assert task["completedBy"]["id"] == s.client.id
    last = task["history"][-1]
    assert last == {
        "kind": "COMPLETED",
        "summary": "Completed by Daniel Harris",
        "by": {"__typename": "Client", "id": s.client.id},
    }


async def test_a_client_cannot_complete_another_clients_task_or_one_not_assigned(
    env: Env,
) -> None:
    s = await scene(env)
    outside = await env.world.provider()
    stranger = await portal_client(env.world, outside)
    strangers_task = await client_task(env.world, outside.admin, stranger)
    for task_id, owner in (
        (s.others_task["id"], s.provider.admin),
        (s.about_not_assigned["id"], s.provider.admin),
        (s.staff_task["id"], s.provider.admin),
        (strangers_task["id"], outside.admin),
    ):
        body = await complete(env, s.client.token, task_id)
        assert codes(body) == ["NOT_FOUND"], body
        task = (await env.api.data(STAFF_TASK, {"id": task_id}, owner.token))["task"]
        assert task["status"] == "OPEN"
        assert [h["kind"] for h in task["history"]] == ["CREATED"]
    assert await completions_in_db(env) == []


async def test_completing_twice_is_a_user_error_not_a_second_event(env: Env) -> None:
    s = await scene(env)
    first = await complete(env, s.client.token, s.own["id"])
    assert first["data"]["completeTask"]["errors"] == []

    again = (await complete(env, s.client.token, s.own["id"]))["data"]["completeTask"]
    assert again["task"] is None
    assert [(e["field"], e["code"]) for e in again["errors"]] == [(None, "INVALID")]
    assert "already completed" in again["errors"][0]["message"]

    task = (await env.api.data(STAFF_TASK, {"id": s.own["id"]}, s.provider.admin.token))["task"]
    assert [h["kind"] for h in task["history"]] == ["CREATED", "COMPLETED"]
    assert len(await completions_in_db(env)) == 1


async def test_two_simultaneous_completions_make_one_event(env: Env) -> None:
    s = await scene(env)
    bodies = await asyncio.gather(*(complete(env, s.client.token, s.own["id"]) for _ in range(4)))
    payloads = [b["data"]["completeTask"] for b in bodies]
    assert sum(1 for p in payloads if p["errors"] == []) == 1
    assert all(p["task"] is None for p in payloads if p["errors"])
    task = (await env.api.data(STAFF_TASK, {"id": s.own["id"]}, s.provider.admin.token))["task"]
    assert [h["kind"] for h in task["history"]] == ["CREATED", "COMPLETED"]
    assert len(await completions_in_db(env)) == 1


async def test_reopening_is_for_staff(env: Env) -> None:
    s = await scene(env)
    await complete(env, s.client.token, s.own["id"])
    body = await env.api.post(REOPEN, {"input": {"id": s.own["id"]}}, s.client.token)
    assert codes(body) == ["FORBIDDEN"]

    reopened = await env.api.mutate(
        "reopenTask", REOPEN, {"input": {"id": s.own["id"]}}, s.provider.admin.token
    )
    assert reopened["errors"] == []
    assert reopened["task"]["status"] == "OPEN"
    assert await widget_names(env, s.client) == ["Upload your CV"]
    # Reopened, the client can complete it again: a second, real completion.
    again = await complete(env, s.client.token, s.own["id"])
    assert again["data"]["completeTask"]["errors"] == []
    assert len(await completions_in_db(env)) == 2


async def test_a_stale_expected_version_completes_nothing_and_reveals_no_history(
    env: Env,
) -> None:
    s = await scene(env)
    # Moved from Fatima to Daniel, then postponed by staff with a private note.
    moved = s.others_task["id"]
    edited = await env.api.mutate(
        "updateTask",
        "mutation($input: UpdateTaskInput!) { updateTask(input: $input) { errors { code } } }",
        {"input": {"id": moved, "clientId": s.client.id, "details": "Internal: landlord dispute"}},
        s.provider.admin.token,
    )
    assert edited["errors"] == []
    seen_version = (await env.api.data(STAFF_TASK, {"id": moved}, s.provider.admin.token))["task"][
        "version"
    ]
    await env.api.mutate(
        "postponeTask",
        "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) { errors { code } } }",
        {"input": {"id": moved, "by": "ONE_WEEK"}},
        s.caseworker.token,
    )

    for expected in (0, s.others_task["version"], seen_version):
        body = await complete(env, s.client.token, moved, expectedVersion=expected)
        payload = body["data"]["completeTask"]
        assert payload["task"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "expectedVersion"], "CONFLICT")
        ]
        message = payload["errors"][0]["message"]
        for secret in ("Fatima", "landlord", "Ben Okafor", s.provider.admin.name, "Due date"):
            assert secret not in message, message
    assert await completions_in_db(env) == []
    widget = {
        e["node"]["id"]: e["node"]["status"] for e in (await my_tasks(env, s.client))["edges"]
    }
    assert widget[moved] == "OPEN"


# ---------------------------------------------------------------- 5. tracking


async def test_the_completion_tells_the_caseworker_and_the_responsible_staff_only(
    env: Env,
) -> None:
    world = env.world
    provider = await world.provider()
    caseworker = await world.staff(provider, "Ben Okafor")
    helper = await world.staff(provider, "Ana Silva")
    leaver = await world.staff(provider, "Leaving Soon")
    bystander = await world.staff(provider, "Not Involved")
    client = await portal_client(world, provider, "Daniel Harris", caseworker)
    task = await client_task(
        world,
        provider.admin,
        client,
        name="Upload your CV",
        responsibleIds=[caseworker.id, helper.id, leaver.id],
    )
    payload = await env.api.mutate(
        "updateStaff", DEACTIVATE, {"id": leaver.id}, provider.admin.token
    )
    assert payload["errors"] == []

    assert (await complete(env, client.token, task["id"]))["data"]["completeTask"]["errors"] == []

    sent = await completions_in_db(env)
    assert sorted(r for r, _, _ in sent) == sorted([key(caseworker.id), key(helper.id)])
    assert {t for _, t, _ in sent} == {key(task["id"])}
    assert {m for _, _, m in sent} == {"Daniel Harris completed: Upload your CV"}
    for person in (caseworker, helper):
        data = await env.api.data(NOTIFICATIONS, token=person.token)
        mine = [
            e["node"]
            for e in data["notifications"]["edges"]
            if e["node"]["kind"] == "CLIENT_TASK_COMPLETED"
        ]
        assert len(mine) == 1
        assert mine[0]["task"] == {"id": task["id"]}
    for person in (bystander, provider.admin):
        assert "CLIENT_TASK_COMPLETED" not in await notification_kinds(env, person.token)


async def test_a_client_task_with_no_one_responsible_tells_the_caseworker(env: Env) -> None:
    provider = await env.world.provider()
    caseworker = await env.world.staff(provider)
    client = await portal_client(env.world, provider, caseworker=caseworker)
    task = await client_task(env.world, provider.admin, client)
    await complete(env, client.token, task["id"])
    assert [r for r, _, _ in await completions_in_db(env)] == [key(caseworker.id)]
    assert await notification_kinds(env, caseworker.token) == ["CLIENT_TASK_COMPLETED"]


async def test_staff_completing_a_client_task_is_no_client_completion(env: Env) -> None:
    s = await scene(env)
    payload = await env.api.mutate(
        "completeTask",
        COMPLETE,
        {"input": {"id": s.own["id"]}},
        s.caseworker.token,
    )
    assert payload["errors"] == []
    assert payload["task"]["completedBy"]["__typename"] == "Staff"
    assert await completions_in_db(env) == []


async def test_the_tasks_screen_shows_completed_client_tasks_only_when_asked(env: Env) -> None:
    s = await scene(env)
    env.clock.advance(timedelta(minutes=30))
    await complete(env, s.client.token, s.own["id"])

    shown = await env.api.data(
        STAFF_TASKS,
        {"filter": {"clientId": s.client.id, "includeCompleted": True}},
        s.caseworker.token,
    )
    nodes = {e["node"]["name"]: e["node"] for e in shown["tasks"]["edges"]}
    assert set(nodes) == {"Upload your CV", "Check Daniel's references"}
    done = nodes["Upload your CV"]
    assert done["status"] == "COMPLETED"
    assert datetime.fromisoformat(done["completedAt"]) == START + timedelta(minutes=30)
    assert done["completedBy"] == {
        "__typename": "Client",
        "id": s.client.id,
        "name": "Daniel Harris",
    }

    hidden = await env.api.data(
        STAFF_TASKS, {"filter": {"clientId": s.client.id}}, s.caseworker.token
    )
    assert [e["node"]["name"] for e in hidden["tasks"]["edges"]] == ["Check Daniel's references"]


# ---------------------------------------------------------------- 6. employments


RECORD_EMPLOYMENT = (
    "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
    " employment { id } outreachTasks { id } errors { field code message } } }"
)
END_EMPLOYMENT = (
    "mutation($input: EndEmploymentInput!) { endEmployment(input: $input) {"
    " employment { id } errors { field code message } } }"
)


async def test_client_employments_are_listed_for_staff_and_for_the_client(env: Env) -> None:
    s = await scene(env)
    recorded = {}
    for client, employer, start in (
        (s.client, "Harbour Cafe", "2026-11-02"),
        (s.client, "City Library", "2025-05-01"),
        (s.other, "Someone Else's Job", "2026-01-01"),
    ):
        payload = await env.api.mutate(
            "recordEmployment",
            RECORD_EMPLOYMENT,
            {"input": {"clientId": client.id, "employer": employer, "startDate": start}},
            s.caseworker.token,
        )
        assert payload["errors"] == [], payload
        recorded[employer] = payload["employment"]["id"]
    ended = await env.api.mutate(
        "endEmployment",
        END_EMPLOYMENT,
        {"input": {"employmentId": recorded["City Library"], "endDate": "2026-01-31"}},
        s.caseworker.token,
    )
    assert ended["errors"] == []

    query = "query($id: ID!) { client(id: $id) { employments { id employer startDate endDate } } }"
    for token in (s.caseworker.token, s.client.token):
        jobs = (await env.api.data(query, {"id": s.client.id}, token))["client"]["employments"]
        assert [(j["id"], j["employer"], j["startDate"], j["endDate"]) for j in jobs] == [
            (recorded["City Library"], "City Library", "2025-05-01", "2026-01-31"),
            (recorded["Harbour Cafe"], "Harbour Cafe", "2026-11-02", None),
        ]
    me = (await env.api.data(ME, token=s.client.token))["me"]
    assert [j["employer"] for j in me["employments"]] == ["City Library", "Harbour Cafe"]
    other = (await env.api.data(query, {"id": s.other.id}, s.caseworker.token))["client"]
    assert [j["employer"] for j in other["employments"]] == ["Someone Else's Job"]
    # The outreach tasks about the client are staff tasks, not the client's to do.
    assert await widget_names(env, s.client) == ["Upload your CV"]
