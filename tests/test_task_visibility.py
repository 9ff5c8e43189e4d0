"""What a task shows depends on who looks (services.permissions.task_view).

The provider that sent a task to another provider keeps sight of what it sent (name, due date,
status, which provider holds it) and of nothing the receiver adds: its client, details, history,
who completed it, its repeating-task setup. Each nested way into the receiver's data has a test.
The world is built once per database; every test here only reads, unless it says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from casetasks.db import unit_of_work
from models import Notification, NotificationKind
from schema.ids import from_global_id
from tests.conftest import START, Env
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.factories import PASSWORD, Person, Provider
from tests.group_setup import SET_GROUP_TASKS
from tests.module_env import module_env

SECRET_CLIENT = "Rita Receiverclient"
SECRET_EMAIL = "rita.secret@example.org"
SECRET_DETAILS = "Receiver's internal notes"
SECRET_EMPLOYER = "Hidden Employer Ltd"

TASK_DEEP = """
  id name details dueDate status overdue kind version createdAt completedAt milestoneMonth
  assignedToClient
  serviceProvider { id name }
  originProvider { id name }
  createdBy { id name email }
  client { id name email employments { employer } caseworker { id name email }
           tasks { totalCount edges { node { id name } } } provider { id } }
  completedBy { __typename ... on Staff { id name email } ... on Client { id name } }
  responsible { id name email isAdministrator permissions provider { id } }
  series { id name details rrule upcoming(first: 2)
           occurrences { totalCount edges { node { id details } } } }
  history { kind summary by { __typename ... on Staff { id name } ... on Client { id name } } }
"""
TASK = "query($id: ID!) { task(id: $id) { " + TASK_DEEP + " } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Task { " + TASK_DEEP + " } } }"


@dataclass
class World:
    env: Env
    north: Provider  # sends
    south: Provider  # receives
    west: Provider  # a third provider of the group
    ana: Person  # Northside, holds the group Tasks permission
    sam: Person  # Southside staff with TASKS
    rita: Person  # Southside's client, with portal access
    rita_id: str
    worked: str  # sent, then given Rita, details, Sam, and completed by Sam
    by_client: str  # sent, given to Rita, completed by Rita
    repeating: str  # sent with a recurrence: the series is Southside's


async def _mutate(env: Env, name: str, query: str, variables: dict[str, Any], token: str) -> Any:
    payload = await env.api.mutate(name, query, variables, token)
    assert payload["errors"] == [], payload
    return payload


async def _build(env: Env) -> World:
    world = env.world
    north = await world.provider(name="Northside", group="Coastal", group_admin=True)
    south = await world.provider(name="Southside", group="Coastal")
    west = await world.provider(name="Westside", group="Coastal")
    ana = await world.staff(north, "Ana Sender")
    sam = await world.staff(south, "Sam Receiver")
    await _mutate(
        env,
        "setGroupTasksPermission",
        SET_GROUP_TASKS,
        {"input": {"staffId": ana.id, "enabled": True}},
        north.admin.token,
    )
    client = await _mutate(
        env,
        "createClient",
        "mutation($input: CreateClientInput!) { createClient(input: $input) {"
        " client { id } errors { message } } }",
        {
            "input": {
                "name": SECRET_CLIENT,
                "email": SECRET_EMAIL,
                "caseworkerId": sam.id,
                "portalPassword": PASSWORD,
            }
        },
        south.admin.token,
    )
    rita_id = client["client"]["id"]
    rita = Person(id=rita_id, name=SECRET_CLIENT, email=SECRET_EMAIL)
    rita.token = await world.login(SECRET_EMAIL)
    await _mutate(
        env,
        "recordEmployment",
        "mutation($input: RecordEmploymentInput!) { recordEmployment(input: $input) {"
        " errors { message } } }",
        {"input": {"clientId": rita_id, "employer": SECRET_EMPLOYER, "startDate": "2027-01-04"}},
        sam.token,
    )

    def send(name: str, **more: Any) -> dict[str, Any]:
        return {
            "name": name,
            "details": "What the sender wrote",
            "dueDate": "2027-03-10",
            "serviceProviderId": south.id,
            "responsibleIds": [],
            **more,
        }

    worked = (await world.task(ana, **send("Worked on")))["id"]
    await _mutate(
        env,
        "updateTask",
        "mutation($input: UpdateTaskInput!) { updateTask(input: $input) { errors { message } } }",
        {"input": {"id": worked, "clientId": rita_id, "details": SECRET_DETAILS}},
        sam.token,
    )
    reassign = (
        "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
        " errors { message } } }"
    )
    complete = (
        "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
        " errors { message } } }"
    )
    await _mutate(
        env,
        "reassignTask",
        reassign,
        {"input": {"id": worked, "responsibleIds": [sam.id]}},
        sam.token,
    )
    await _mutate(env, "completeTask", complete, {"input": {"id": worked}}, sam.token)

    by_client = (await world.task(ana, **send("For the client")))["id"]
    await _mutate(
        env,
        "updateTask",
        "mutation($input: UpdateTaskInput!) { updateTask(input: $input) { errors { message } } }",
        {"input": {"id": by_client, "clientId": rita_id}},
        sam.token,
    )
    await _mutate(
        env,
        "reassignTask",
        reassign,
        {"input": {"id": by_client, "responsibleIds": [], "assignedToClient": True}},
        sam.token,
    )
    await _mutate(env, "completeTask", complete, {"input": {"id": by_client}}, rita.token)

    repeating = (
        await world.task(ana, **send("Weekly", recurrence={"frequency": "WEEKLY", "interval": 1}))
    )["id"]
    return World(env, north, south, west, ana, sam, rita, rita_id, worked, by_client, repeating)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def seen(
    request: pytest.FixtureRequest,
    sqlite_templates: SqliteTemplates,
    postgres_templates: PostgresTemplates,
) -> AsyncIterator[World]:
    async with module_env(request.param, sqlite_templates, postgres_templates) as env:
        yield await _build(env)


def _no_secret(body: dict[str, Any]) -> None:
    text = json.dumps(body)
    for secret in (SECRET_CLIENT, SECRET_EMAIL, SECRET_DETAILS, SECRET_EMPLOYER, "Rita"):
        assert secret not in text, (secret, body)


async def _as_sender(w: World, query: str, task_id: str, who: Person | None = None) -> Any:
    body = await w.env.api.post(query, {"id": task_id}, (who or w.ana).token)
    assert "errors" not in body, body
    _no_secret(body)
    return next(iter(body["data"].values()))


# ---------------------------------------------------------------- the sender's view


@pytest.mark.parametrize("query", [TASK, NODE], ids=["task", "node"])
async def test_the_sender_sees_what_it_sent_and_nothing_the_receiver_added(
    seen: World, query: str
) -> None:
    for sender in (seen.ana, seen.north.admin):
        task = await _as_sender(seen, query, seen.worked, sender)
        assert task["name"] == "Worked on"
        assert task["dueDate"] == "2027-03-10"
        assert task["status"] == "COMPLETED"
        assert task["overdue"] is False
        assert task["kind"] == "STANDARD"
        assert task["version"] == 4
        assert task["createdAt"] == START.isoformat()
        assert task["serviceProvider"] == {"id": seen.south.id, "name": "Southside"}
        assert task["originProvider"] == {"id": seen.north.id, "name": "Northside"}
        assert task["createdBy"] == {
            "id": seen.ana.id,
            "name": "Ana Sender",
            "email": seen.ana.email,
        }
        assert task["details"] is None
        assert task["client"] is None
        assert task["completedBy"] is None
        assert task["history"] == []
        assert task["series"] is None
        assert task["milestoneMonth"] is None


async def test_the_senders_responsible_are_names_only(seen: World) -> None:
    task = await _as_sender(seen, TASK, seen.worked)
    assert task["responsible"] == [
        {
            "id": seen.sam.id,
            "name": "Sam Receiver",
            "email": "",
            "isAdministrator": False,
            "permissions": [],
            "provider": {"id": seen.south.id},
        }
    ]


async def test_the_sender_does_not_see_the_client_who_completed_it(seen: World) -> None:
    task = await _as_sender(seen, TASK, seen.by_client)
    assert task["status"] == "COMPLETED"
    assert task["assignedToClient"] is True
    assert task["client"] is None
    assert task["completedBy"] is None


async def test_the_sender_does_not_see_the_receivers_series(seen: World) -> None:
    task = await _as_sender(seen, TASK, seen.repeating)
    assert task["kind"] == "REPEATING"
    assert task["series"] is None
    assert task["details"] is None


async def test_the_receivers_series_and_client_stay_not_found_for_the_sender(seen: World) -> None:
    receiver_view = await seen.env.api.data(TASK, {"id": seen.repeating}, seen.sam.token)
    series_id = receiver_view["task"]["series"]["id"]
    for foreign in (series_id, seen.rita_id):
        body = await seen.env.api.post(
            "query($id: ID!) { node(id: $id) { id } }", {"id": foreign}, seen.ana.token
        )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_the_receivers_staff_list_through_the_task_is_names_only(seen: World) -> None:
    query = (
        "query($id: ID!) { task(id: $id) { serviceProvider { staff { id name email } group {"
        " providers { id name } } } responsible { provider { staff { email } } } } }"
    )
    ana = await _as_sender(seen, query, seen.worked)
    assert {s["name"] for s in ana["serviceProvider"]["staff"]} == {
        "Sam Receiver",
        seen.south.admin.name,
    }
    assert {s["email"] for s in ana["serviceProvider"]["staff"]} == {""}
    assert {s["email"] for s in ana["responsible"][0]["provider"]["staff"]} == {""}
    # Without the group Tasks permission, the receiver's staff are not listed at all.
    admin = await _as_sender(seen, query, seen.worked, seen.north.admin)
    assert admin["serviceProvider"]["staff"] == []


async def test_the_senders_createtask_payload_is_the_senders_view(seen: World) -> None:
    """Changes the world: a new task only the sender and the receiver see."""
    sent = await seen.env.world.task(
        seen.ana,
        name="Fresh",
        details="My own words",
        dueDate="2027-03-12",
        serviceProviderId=seen.south.id,
        responsibleIds=[seen.sam.id],
    )
    assert sent["details"] is None
    assert sent["history"] == []
    assert [s["name"] for s in sent["responsible"]] == ["Sam Receiver"]
    received = await seen.env.api.data(TASK, {"id": sent["id"]}, seen.sam.token)
    assert received["task"]["details"] == "My own words"
    assert [e["kind"] for e in received["task"]["history"]] == ["CREATED"]


# ------------------------------------------------------- the receiver's and the client's views


async def test_the_receiver_sees_everything_and_the_sender_by_name_only(seen: World) -> None:
    task = (await seen.env.api.data(TASK, {"id": seen.worked}, seen.sam.token))["task"]
    assert task["details"] == SECRET_DETAILS
    assert task["client"]["name"] == SECRET_CLIENT
    assert task["client"]["employments"] == [{"employer": SECRET_EMPLOYER}]
    assert task["completedBy"]["id"] == seen.sam.id
    assert "Client: none -> " + SECRET_CLIENT in " ".join(h["summary"] for h in task["history"])
    assert task["createdBy"] == {"id": seen.ana.id, "name": "Ana Sender", "email": ""}
    created = task["history"][0]
    assert created["by"] == {"__typename": "Staff", "id": seen.ana.id, "name": "Ana Sender"}


async def test_the_client_sees_its_task_without_history_or_series(seen: World) -> None:
    query = (
        "query($id: ID!) { task(id: $id) { client { id name } completedBy { __typename }"
        " createdBy { name email } responsible { id } series { id } details } }"
    )
    task = (await seen.env.api.data(query, {"id": seen.by_client}, seen.rita.token))["task"]
    assert task["client"] == {"id": seen.rita_id, "name": SECRET_CLIENT}
    assert task["completedBy"] == {"__typename": "Client"}
    assert task["createdBy"] == {"name": "Ana Sender", "email": ""}
    assert task["series"] is None
    history = await seen.env.api.post(
        "query($id: ID!) { task(id: $id) { history { kind } } }",
        {"id": seen.by_client},
        seen.rita.token,
    )
    assert [e["extensions"]["code"] for e in history["errors"]] == ["FORBIDDEN"]


async def test_a_third_provider_of_the_group_finds_nothing(seen: World) -> None:
    for task_id in (seen.worked, seen.by_client, seen.repeating):
        for query in (TASK, NODE):
            body = await seen.env.api.post(query, {"id": task_id}, seen.west.admin.token)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
            _no_secret(body)


# ---------------------------------------------------------------- notifications pointing at tasks


async def test_a_notification_shows_its_task_as_the_viewer_may_see_it(seen: World) -> None:
    """Changes the world: notifications written straight into the table, one for the sender
    (pointing at the task it sent) and one for a stranger (pointing at a task it may not see)."""
    _, task_key = from_global_id(seen.worked) or ("", 0)
    async with unit_of_work(seen.env.world.session_factory) as session:
        for person in (seen.ana, seen.west.admin):
            _, staff_key = from_global_id(person.id) or ("", 0)
            session.add(
                Notification(
                    recipient_id=staff_key,
                    kind=NotificationKind.TASK_ASSIGNED,
                    task_id=task_key,
                    message="pointing at another provider's task",
                    created_at=START,
                )
            )
    query = "{ notifications(first: 5) { edges { node { task { " + TASK_DEEP + " } } } } }"

    sender = await seen.env.api.post(query, {}, seen.ana.token)
    assert "errors" not in sender, sender
    _no_secret(sender)
    [edge] = sender["data"]["notifications"]["edges"]
    assert edge["node"]["task"]["name"] == "Worked on"
    assert edge["node"]["task"]["client"] is None

    stranger = await seen.env.api.post(query, {}, seen.west.admin.token)
    assert "errors" not in stranger, stranger
    assert stranger["data"]["notifications"]["edges"] == [{"node": {"task": None}}]
