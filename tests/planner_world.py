"""One world for the planner's property test: a group of two providers and one outside it,
every role, tasks of every kind and state, notifications read and unread, and names that
JSON escaping and cursors have to carry (é, ß, emoji, quotes, backslash)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import Env
from tests.factories import PASSWORD, Person
from tests.group_setup import SET_GROUP_TASKS

ORDERS = ("DUE_DATE_ASC", "DUE_DATE_DESC", "CREATED_AT_DESC")
ROLES = ("admin", "tasks", "notasks", "groupadmin", "client", "other", "outsider", "anonymous")

ZOE = 'Zoë d\'Arcy \\ "Quoted" 🦄'
STRASSE = "Jürgen Straße"


@dataclass
class PlannerWorld:
    env: Env
    tokens: dict[str, str | None]
    # Ids of every type, this tenant's and others', plus ids no row has.
    node_ids: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    staff_ids: list[str] = field(default_factory=list)
    client_task_id: str = ""
    # Cursors as the connections handed them out, to every role.
    cursors: dict[str, list[str]] = field(default_factory=dict)


def gid(type_name: str, key: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


GARBAGE_IDS = ("", "%%not-base64%%", gid("Task", 999_999), gid("Nope", 1), gid("Task", "x"))
GARBAGE_CURSORS = ("", "!!!", gid("Task", 1), base64.b64encode(b'["2027-03-01", 1]').decode())


async def _payload(env: Env, name: str, query: str, value: dict[str, Any], token: str) -> Any:
    payload = await env.api.mutate(name, query, {"input": value}, token)
    assert payload.get("errors") in ([], None), payload
    return payload


def _mutation(name: str, input_type: str, selection: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection}"
        " errors { message } } }"
    )


UPDATE_STAFF = _mutation("updateStaff", "UpdateStaffInput", "staff { id }")
CREATE_CLIENT = _mutation("createClient", "CreateClientInput", "client { id }")
COMPLETE = _mutation("completeTask", "CompleteTaskInput", "task { id }")
UPDATE_TASK = _mutation("updateTask", "UpdateTaskInput", "task { id }")
POSTPONE = _mutation("postponeTask", "PostponeTaskInput", "task { id }")
REASSIGN = _mutation("reassignTask", "ReassignTaskInput", "task { id }")
EMPLOYMENT = _mutation(
    "recordEmployment", "RecordEmploymentInput", "employment { id } outreachTasks { id }"
)
MARK_READ = (
    "mutation($input: MarkNotificationsReadInput!) {"
    " markNotificationsRead(input: $input) { unreadCount } }"
)


async def build_world(env: Env) -> PlannerWorld:
    w = env.world
    home = await w.provider(name="Home «é»", group="Planner Group", group_admin=True)
    peer = await w.provider(name="Peer ß", group="Planner Group")
    outsider = await w.provider(name="Outsider", group="Elsewhere")
    admin = home.admin
    tasks = await w.staff(home, "Tess Tâsks 🦊")
    notasks = await w.staff(home, 'Noah "No" Tasks', tasks=False)
    groupadmin = await w.staff(home, "Gail \\ Groupadmin", tasks=False)
    await _payload(
        env,
        "updateStaff",
        UPDATE_STAFF,
        {"id": groupadmin.id, "isGroupAdministrator": True},
        admin.token,
    )
    gone = await w.staff(home, "Dee Départed")
    other = await w.staff(peer, STRASSE)
    for sender in (admin, peer.admin):
        await _payload(
            env,
            "setGroupTasksPermission",
            SET_GROUP_TASKS,
            {"staffId": sender.id, "enabled": True},
            admin.token,
        )
    created = await _payload(
        env,
        "createClient",
        CREATE_CLIENT,
        {
            "name": ZOE,
            "email": "zoe@planner.example",
            "caseworkerId": tasks.id,
            "portalPassword": PASSWORD,
        },
        admin.token,
    )
    client = Person(id=created["client"]["id"], name=ZOE, email="zoe@planner.example")
    client.token = await w.login(client.email)
    second_client = await w.client(home, "Émile Straße", caseworker=admin)
    peer_client = await w.client(peer, "Petra 🐙 Peer", caseworker=other)
    outsider_client = await w.client(outsider, "Olga Outside")

    ids: list[str] = []
    task_ids: list[str] = []

    async def task(by: Person, **fields: Any) -> str:
        made = await w.task(by, **fields)
        task_ids.append(made["id"])
        return str(made["id"])

    # Standard, two responsible, non-ASCII details, with history (edited, postponed).
    call = await task(
        admin,
        name='Call Zoë about the "form" \\ 🦄',
        details="Ask about the Straße address; bring the café receipt",
        dueDate="2027-03-10",
        clientId=client.id,
        responsibleIds=[tasks.id, admin.id],
    )
    await _payload(
        env, "updateTask", UPDATE_TASK, {"id": call, "details": "Né « ok »"}, admin.token
    )
    await _payload(env, "postponeTask", POSTPONE, {"id": call, "by": "ONE_WEEK"}, tasks.token)
    # Overdue (due before Monday 1 March 2027 in Sydney), and one due today.
    await task(tasks, name="Overdue ß letter", dueDate="2027-02-20", clientId=second_client)
    await task(tasks, name="Due today", dueDate="2027-03-01")
    # Repeating, through a series.
    await task(
        admin,
        name="Weekly check-in",
        dueDate="2027-03-03",
        clientId=client.id,
        responsibleIds=[tasks.id],
        recurrence={"frequency": "WEEKLY", "interval": 1, "count": 6},
    )
    # Outreach, from a recorded employment.
    employment = await _payload(
        env,
        "recordEmployment",
        EMPLOYMENT,
        {"clientId": client.id, "employer": "Café «Zoë»", "startDate": "2027-01-04"},
        tasks.token,
    )
    task_ids.extend(t["id"] for t in employment["outreachTasks"])
    # Sent to the other provider of the group (which gives it its client), and one back.
    sent = await task(admin, name="Sent to Peer", serviceProviderId=peer.id, responsibleIds=[])
    await _payload(
        env,
        "updateTask",
        UPDATE_TASK,
        {"id": sent, "clientId": peer_client, "details": "Peer's notes"},
        peer.admin.token,
    )
    await task(peer.admin, name="Sent to Home", serviceProviderId=home.id, responsibleIds=[])
    # Assigned to the client: one open, one the client completed.
    client_task = await task(
        admin,
        name="Zoë's own task",
        clientId=client.id,
        assignedToClient=True,
        responsibleIds=[],
        dueDate="2027-02-25",
    )
    by_client = await task(
        admin, name="Done by Zoë", clientId=client.id, assignedToClient=True, responsibleIds=[]
    )
    await _payload(env, "completeTask", COMPLETE, {"id": by_client}, client.token)
    # Completed by staff.
    done = await task(admin, name="Done by Tess", responsibleIds=[tasks.id], dueDate="2027-02-27")
    await _payload(env, "completeTask", COMPLETE, {"id": done}, tasks.token)
    # Unassigned.
    loose = await task(admin, name="Nobody's _100%_", dueDate="2027-04-02")
    await _payload(env, "reassignTask", REASSIGN, {"id": loose, "responsibleIds": []}, admin.token)
    for n in range(4):
        await task(tasks, name=f"Filler {n} é", dueDate=f"2027-03-0{n + 2}")
    # Someone responsible who has left since.
    await task(admin, name="Left with Dee", responsibleIds=[gone.id], dueDate="2027-03-04")
    await _payload(env, "updateStaff", UPDATE_STAFF, {"id": gone.id, "active": False}, admin.token)
    # Other tenants' tasks.
    await task(other, name="Peer task", clientId=peer_client, responsibleIds=[other.id])
    await task(outsider.admin, name="Outsider task", clientId=outsider_client)

    # Notifications: Tess was made responsible by others and Zoë completed a task; read some.
    inbox = "{ notifications(first: 50) { edges { node { id } } } }"
    for person in (tasks, admin, other, peer.admin):
        edges = (await env.api.data(inbox, token=person.token))["notifications"]["edges"]
        ids.extend(e["node"]["id"] for e in edges)
        if len(edges) > 1:
            await env.api.data(
                MARK_READ, {"input": {"ids": [edges[0]["node"]["id"]]}}, token=person.token
            )

    people = {
        "admin": admin,
        "tasks": tasks,
        "notasks": notasks,
        "groupadmin": groupadmin,
        "client": client,
        "other": other,
        "outsider": outsider.admin,
    }
    tokens: dict[str, str | None] = {role: p.token for role, p in people.items()}
    tokens["anonymous"] = None
    staff_ids = [p.id for p in people.values() if p is not client] + [peer.admin.id, gone.id]
    client_ids = [client.id, second_client, peer_client, outsider_client]
    series = await env.api.data(
        "{ tasks(filter: {kind: REPEATING}, first: 1) { edges { node { series { id } } } } }",
        token=admin.token,
    )
    ids.append(series["tasks"]["edges"][0]["node"]["series"]["id"])
    ids += [home.id, peer.id, outsider.id, str(home.group_id), str(outsider.group_id)]
    ids += [employment["employment"]["id"]]
    world = PlannerWorld(
        env,
        tokens,
        node_ids=ids + task_ids + client_ids + staff_ids,
        task_ids=task_ids,
        client_ids=client_ids,
        staff_ids=staff_ids,
        client_task_id=client_task,
    )
    world.cursors = await _cursors(world)
    return world


async def _cursors(world: PlannerWorld) -> dict[str, list[str]]:
    """By connection: "tasks:<order>", "clients", "notifications", "myTasks"."""
    found: dict[str, set[str]] = {}
    edges = "edges { cursor }"
    queries = {
        f"tasks:{order}": f"{{ c: tasks(filter: {{includeCompleted: true}}, orderBy: {order},"
        f" first: 50) {{ {edges} }} }}"
        for order in ORDERS
    }
    queries.update(
        clients=f"{{ c: clients(first: 50) {{ {edges} }} }}",
        notifications=f"{{ c: notifications(first: 50) {{ {edges} }} }}",
        myTasks=f"{{ c: myTasks(includeCompleted: true, first: 50) {{ {edges} }} }}",
    )
    for token in world.tokens.values():
        if token is None:
            continue
        for kind, query in queries.items():
            body = await world.env.api.post(query, token=token)
            connection = (body.get("data") or {}).get("c")
            if connection:
                found.setdefault(kind, set()).update(e["cursor"] for e in connection["edges"])
    return {kind: sorted(cursors) for kind, cursors in found.items()}
