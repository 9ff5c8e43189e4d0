"""Client completions pushed live to staff dashboards, over a real websocket and uvicorn."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import Live
from tests.factories import Person, Provider
from tests.graphql_client import Api
from tests.test_client_portal import (
    MY_TASKS,
    PORTAL_PASSWORD,
    PortalClient,
    client_task,
    portal_client,
)
from tests.ws_client import GraphQLWebSocket, Operation, Rejected

COMPLETIONS = """
subscription($clientId: ID, $after: String) {
  clientTaskCompletions(clientId: $clientId, after: $after) {
    notification { id kind message cursor read task { id } }
    task { id name status completedAt
           completedBy { __typename ... on Client { id name } ... on Staff { id } } }
    client { id name }
  }
}
"""
ALERTS = "subscription { unassignedTaskAlerts { notification { id } task { id name } } }"
ADDED = "subscription { notificationAdded { id kind message task { id } } }"
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    " task { id status } errors { field code message } } }"
)


async def complete(live: Live, client: PortalClient, task_id: str) -> dict[str, Any]:
    payload = await live.env.api.mutate(
        "completeTask", COMPLETE, {"input": {"id": task_id}}, client.token
    )
    assert payload["errors"] == [], payload
    return payload


async def completions(live: Live, person: Person, **variables: Any) -> Operation:
    ws = await GraphQLWebSocket.connect(live.ws_url, person.token)
    operation = await ws.subscribe(COMPLETIONS, variables)
    await operation.nothing(0.2)  # registered before anything happens
    return operation


async def refused_with(operation: Operation, code: str) -> None:
    """The subscription ends with a GraphQL error carrying code (as `next` or `error`)."""
    message = await operation.message()
    assert message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [e["extensions"]["code"] for e in errors] == [code], message
    if message["type"] == "next":
        assert (await operation.message())["type"] == "complete"


async def setup(live: Live) -> tuple[Provider, Person, PortalClient]:
    world = live.env.world
    provider = await world.provider()
    caseworker = await world.staff(provider, "Ben Okafor")
    client = await portal_client(world, provider, "Daniel Harris", caseworker)
    return provider, caseworker, client


async def test_the_bar_a_contract_only_client_completes_and_the_caseworker_sees_it_within_a_second(
    live: Live,
) -> None:
    async with httpx.AsyncClient(base_url=live.http_url) as http:
        api = Api(http)

        async def mutate(name: str, query: str, variables: dict[str, Any], token: str | None):
            payload = await api.mutate(name, query, variables, token)
            assert payload["errors"] == [], payload
            return payload

        provider = await live.env.world.provider(name="Northside")
        caseworker = await live.env.world.staff(provider, "Ben Okafor")
        created = await mutate(
            "createClient",
            "mutation($input: CreateClientInput!) { createClient(input: $input) {"
            " client { id hasPortalAccess } errors { field code message } } }",
            {
                "input": {
                    "name": "Daniel Harris",
                    "email": "daniel@example.org",
                    "caseworkerId": caseworker.id,
                    "portalPassword": PORTAL_PASSWORD,
                }
            },
            provider.admin.token,
        )
        client_id = created["client"]["id"]
        task = await mutate(
            "createTask",
            "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
            " task { id } errors { field code message } } }",
            {
                "input": {
                    "name": "Upload your CV",
                    "dueDate": "2027-03-15",
                    "clientId": client_id,
                    "assignedToClient": True,
                }
            },
            caseworker.token,
        )

        dashboard = await GraphQLWebSocket.connect(live.ws_url, caseworker.token)
        stream = await dashboard.subscribe(COMPLETIONS)
        await stream.nothing(0.2)

        signed_in = await mutate(
            "login",
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
            " token viewer { __typename ... on Client { id } } errors { field code message } } }",
            {"e": "daniel@example.org", "p": PORTAL_PASSWORD},
            None,
        )
        assert signed_in["viewer"] == {"__typename": "Client", "id": client_id}
        token = signed_in["token"]
        widget = (await api.data(MY_TASKS, {}, token))["myTasks"]
        assert [e["node"]["id"] for e in widget["edges"]] == [task["task"]["id"]]

        started = time.monotonic()
        await mutate(
            "completeTask",
            "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
            " task { id status } errors { field code message } } }",
            {"input": {"id": task["task"]["id"]}},
            token,
        )
        pushed = (await stream.next(timeout=1.0))["clientTaskCompletions"]
        assert time.monotonic() - started < 1.0

        assert pushed["task"]["id"] == task["task"]["id"]
        assert pushed["task"]["status"] == "COMPLETED"
        assert pushed["task"]["completedBy"] == {
            "__typename": "Client",
            "id": client_id,
            "name": "Daniel Harris",
        }
        assert pushed["client"] == {"id": client_id, "name": "Daniel Harris"}
        assert pushed["notification"]["kind"] == "CLIENT_TASK_COMPLETED"
        assert pushed["notification"]["message"] == "Daniel Harris completed: Upload your CV"
        assert pushed["notification"]["read"] is False
        await dashboard.close()


async def test_completions_reach_the_caseworker_and_responsible_dashboards_and_no_one_else(
    live: Live,
) -> None:
    world = live.env.world
    provider, caseworker, client = await setup(live)
    helper = await world.staff(provider, "Ana Silva")
    colleague = await world.staff(provider, "Not Involved")
    outsider = await world.provider()
    task = await client_task(world, provider.admin, client, responsibleIds=[helper.id])

    streams = {
        "caseworker": await completions(live, caseworker),
        "helper": await completions(live, helper),
        "colleague": await completions(live, colleague),
        "admin": await completions(live, provider.admin),
        "outsider": await completions(live, outsider.admin),
    }
    await complete(live, client, task["id"])

    for name in ("caseworker", "helper"):
        pushed = (await streams[name].next(timeout=1.0))["clientTaskCompletions"]
        assert pushed["task"]["id"] == task["id"], name
        assert pushed["client"]["id"] == client.id
    for name in ("colleague", "admin", "outsider"):
        await streams[name].nothing(0.5)
    for name in ("caseworker", "helper"):
        await streams[name].nothing(0.1)  # exactly once
    for stream in streams.values():
        await stream.client.close()


async def test_the_completion_also_enters_the_notifications_widget_live(live: Live) -> None:
    provider, caseworker, client = await setup(live)
    task = await client_task(live.env.world, provider.admin, client, name="Sign the plan")
    ws = await GraphQLWebSocket.connect(live.ws_url, caseworker.token)
    added = await ws.subscribe(ADDED)
    await added.nothing(0.2)

    await complete(live, client, task["id"])
    notification = (await added.next(timeout=1.0))["notificationAdded"]
    assert notification["kind"] == "CLIENT_TASK_COMPLETED"
    assert notification["message"] == "Daniel Harris completed: Sign the plan"
    assert notification["task"] == {"id": task["id"]}
    await ws.close()


async def test_client_id_filters_the_completions_to_that_client(live: Live) -> None:
    world = live.env.world
    provider, caseworker, daniel = await setup(live)
    fatima = await portal_client(world, provider, "Fatima Rahman", caseworker)
    daniels = await client_task(world, provider.admin, daniel, name="Daniel's")
    fatimas = await client_task(world, provider.admin, fatima, name="Fatima's")

    only_daniel = await completions(live, caseworker, clientId=daniel.id)
    everyone = await completions(live, caseworker)

    await complete(live, fatima, fatimas["id"])
    assert (await everyone.next(timeout=1.0))["clientTaskCompletions"]["task"]["name"] == "Fatima's"
    await only_daniel.nothing(0.3)

    await complete(live, daniel, daniels["id"])
    got = (await only_daniel.next(timeout=1.0))["clientTaskCompletions"]
    assert (got["task"]["name"], got["client"]["id"]) == ("Daniel's", daniel.id)
    assert (await everyone.next(timeout=1.0))["clientTaskCompletions"]["task"]["name"] == "Daniel's"
    await only_daniel.client.close()
    await everyone.client.close()


async def test_another_providers_client_id_is_not_found(live: Live) -> None:
    world = live.env.world
    _provider, caseworker, _client = await setup(live)
    elsewhere = await world.provider()
    stranger = await portal_client(world, elsewhere, caseworker=None)
    ws = await GraphQLWebSocket.connect(live.ws_url, caseworker.token)
    operation = await ws.subscribe(COMPLETIONS, {"clientId": stranger.id})
    await refused_with(operation, "NOT_FOUND")
    task = await client_task(world, elsewhere.admin, stranger)
    await complete(live, stranger, task["id"])
    await operation.nothing(0.3)
    await ws.close()


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (COMPLETIONS, {}),
        (COMPLETIONS, {"clientId": "self"}),
        (ALERTS, {}),
        (ADDED, {}),
    ],
    ids=[
        "clientTaskCompletions",
        "clientTaskCompletions-own-id",
        "unassignedTaskAlerts",
        "notificationAdded",
    ],
)
async def test_a_client_cannot_subscribe_to_staff_channels(
    live: Live, query: str, variables: dict[str, Any]
) -> None:
    world = live.env.world
    provider, caseworker, client = await setup(live)
    if variables.get("clientId") == "self":
        variables = {"clientId": client.id}
    ws = await GraphQLWebSocket.connect(live.ws_url, client.token)
    operation = await ws.subscribe(query, variables)
    await refused_with(operation, "FORBIDDEN")

    # Nothing of what staff are told reaches the client's connection afterwards.
    task = await client_task(world, provider.admin, client)
    await world.task(provider.admin, responsibleIds=[caseworker.id])
    await complete(live, client, task["id"])
    await operation.nothing(0.3)
    await ws.close()


async def test_a_client_whose_portal_access_was_withdrawn_cannot_connect(live: Live) -> None:
    provider, _caseworker, client = await setup(live)
    payload = await live.env.api.mutate(
        "updateClient",
        "mutation($input: UpdateClientInput!) { updateClient(input: $input) {"
        " errors { message } } }",
        {"input": {"id": client.id, "portalPassword": None}},
        provider.admin.token,
    )
    assert payload["errors"] == []
    with pytest.raises(Rejected) as rejected:
        await GraphQLWebSocket.connect(live.ws_url, client.token)
    assert rejected.value.code == 4403


async def test_a_second_completion_attempt_pushes_nothing_more(live: Live) -> None:
    provider, caseworker, client = await setup(live)
    task = await client_task(live.env.world, provider.admin, client)
    stream = await completions(live, caseworker)
    await complete(live, client, task["id"])
    await stream.next(timeout=1.0)

    again = await live.env.api.mutate(
        "completeTask", COMPLETE, {"input": {"id": task["id"]}}, client.token
    )
    assert [e["code"] for e in again["errors"]] == ["INVALID"]
    await stream.nothing(0.5)
    await stream.client.close()


async def test_completions_missed_while_away_are_replayed_after_the_cursor(live: Live) -> None:
    world = live.env.world
    provider, caseworker, client = await setup(live)
    tasks = [await client_task(world, provider.admin, client, name=f"Step {n}") for n in range(4)]

    first = await completions(live, caseworker)
    await complete(live, client, tasks[0]["id"])
    seen = (await first.next(timeout=1.0))["clientTaskCompletions"]
    await first.client.close()

    for task in tasks[1:3]:
        await complete(live, client, task["id"])

    ws = await GraphQLWebSocket.connect(live.ws_url, caseworker.token)
    resumed = await ws.subscribe(COMPLETIONS, {"after": seen["notification"]["cursor"]})
    replayed = [(await resumed.next())["clientTaskCompletions"]["task"]["name"] for _ in range(2)]
    assert replayed == ["Step 1", "Step 2"]

    await complete(live, client, tasks[3]["id"])
    assert (await resumed.next(timeout=1.0))["clientTaskCompletions"]["task"]["name"] == "Step 3"
    await resumed.nothing(0.3)
    await ws.close()


async def test_a_new_caseworker_is_told_and_the_former_one_is_not(live: Live) -> None:
    world = live.env.world
    provider, former, client = await setup(live)
    successor = await world.staff(provider, "Ana Silva")
    task = await client_task(world, provider.admin, client)
    payload = await live.env.api.mutate(
        "updateClient",
        "mutation($input: UpdateClientInput!) { updateClient(input: $input) {"
        " errors { message } } }",
        {"input": {"id": client.id, "caseworkerId": successor.id}},
        provider.admin.token,
    )
    assert payload["errors"] == []
    old, new = await completions(live, former), await completions(live, successor)

    await complete(live, client, task["id"])
    assert (await new.next(timeout=1.0))["clientTaskCompletions"]["task"]["id"] == task["id"]
    await old.nothing(0.5)
    await old.client.close()
    await new.client.close()
