"""Clients of a provider: creating them, finding them, paging through them."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.conftest import Env
from tests.factories import Provider

CLIENT_FIELDS = "id name email hasPortalAccess provider { id } caseworker { id name }"
CREATE_CLIENT = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) {"
    f" client {{ {CLIENT_FIELDS} }} errors {{ field code message }} }} }}"
)
CLIENTS = (
    "query($search: String, $first: Int, $after: String) {"
    " clients(search: $search, first: $first, after: $after) {"
    " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name email } } } }"
)
CLIENT = f"query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS} }} }}"


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def create_client(env: Env, token: str, **fields: Any) -> dict[str, Any]:
    return await env.api.mutate("createClient", CREATE_CLIENT, {"input": fields}, token)


async def clients(env: Env, provider: Provider, **args: Any) -> dict[str, Any]:
    data = await env.api.data(CLIENTS, args, provider.admin.token)
    return data["clients"]  # type: ignore[no-any-return]


async def names(env: Env, provider: Provider, **args: Any) -> list[str]:
    page = await clients(env, provider, **args)
    return [edge["node"]["name"] for edge in page["edges"]]


async def add_clients(env: Env, provider: Provider, *client_names: str) -> list[str]:
    return [await env.world.client(provider, name=name) for name in client_names]


# ---------------------------------------------------------------- createClient


async def test_create_client_with_a_name_only(env: Env) -> None:
    provider = await env.world.provider()

    payload = await create_client(env, provider.admin.token, name="  Daniel Harris ")

    assert payload["errors"] == []
    client = payload["client"]
    assert client["name"] == "Daniel Harris"
    assert client["email"] is None
    assert client["caseworker"] is None
    assert client["hasPortalAccess"] is False
    assert client["provider"] == {"id": provider.id}
    assert (await env.api.data(CLIENT, {"id": client["id"]}, provider.admin.token)) == {
        "client": client
    }
    # A blank email means no email.
    blank = await create_client(env, provider.admin.token, name="Iris", email="  ")
    assert blank["errors"] == []
    assert blank["client"]["email"] is None


async def test_any_staff_member_adds_a_client_with_email_and_caseworker(env: Env) -> None:
    provider = await env.world.provider()
    member = await env.world.staff(provider, name="Ben Okafor", tasks=False)

    payload = await create_client(
        env,
        member.token,
        name="Fatima Rahman",
        email="Fatima@Example.org",
        caseworkerId=member.id,
    )

    assert payload["errors"] == []
    client = payload["client"]
    assert client["email"] == "fatima@example.org"
    assert client["caseworker"] == {"id": member.id, "name": "Ben Okafor"}
    found = await env.api.data(CLIENT, {"id": client["id"]}, provider.admin.token)
    assert found["client"] == client


async def test_create_client_requires_a_name_and_saves_nothing(env: Env) -> None:
    provider = await env.world.provider()

    for name in (None, "", "   "):
        payload = await create_client(env, provider.admin.token, name=name, email="a@b.example")
        assert payload["client"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "name"], "REQUIRED")
        ]

    assert (await clients(env, provider))["totalCount"] == 0


async def test_create_client_validates_an_email_when_given(env: Env) -> None:
    provider = await env.world.provider()

    for email in ("not-an-email", "a@b", "two@@example.org", "a b@example.org"):
        payload = await create_client(env, provider.admin.token, name="George", email=email)
        assert payload["client"] is None, email
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "email"], "INVALID")
        ], email

    assert (await clients(env, provider))["totalCount"] == 0


async def test_every_problem_comes_back_at_once(env: Env) -> None:
    provider = await env.world.provider()

    payload = await create_client(
        env, provider.admin.token, name="", email="nope", caseworkerId="garbage"
    )

    assert payload["client"] is None
    assert sorted(tuple(e["field"]) for e in payload["errors"]) == [
        ("input", "caseworkerId"),
        ("input", "email"),
        ("input", "name"),
    ]


async def test_caseworker_must_be_active_staff_of_the_provider(env: Env) -> None:
    provider = await env.world.provider()
    other = await env.world.provider()
    gone = await env.world.staff(provider, name="Gone")
    await env.api.data(
        "mutation($id: ID!) { updateStaff(input: {id: $id, active: false}) { staff { id } } }",
        {"id": gone.id},
        provider.admin.token,
    )
    a_client = await env.world.client(provider)
    missing = "U3RhZmY6OTk5OTk"  # Staff:99999

    messages = {}
    for label, caseworker in (
        ("other provider", other.admin.id),
        ("missing", missing),
        ("not a staff id", a_client),
        ("deactivated", gone.id),
    ):
        payload = await create_client(env, provider.admin.token, name="Jo", caseworkerId=caseworker)
        assert payload["client"] is None, label
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (["input", "caseworkerId"], "INVALID")
        ], label
        messages[label] = payload["errors"][0]["message"]

    # Another provider's staff are answered exactly like staff that do not exist.
    assert messages["other provider"] == messages["missing"] == messages["not a staff id"]
    assert (await clients(env, provider))["totalCount"] == 1


# ---------------------------------------------------------------- client(id)


async def test_client_that_does_not_exist_is_not_found(env: Env) -> None:
    provider = await env.world.provider()
    client_id = await env.world.client(provider)
    # Someone else's kind of ID is not a client either.
    for bogus in ("Q2xpZW50Ojk5OTk5", provider.admin.id, "garbage"):
        body = await env.api.post(CLIENT, {"id": bogus}, provider.admin.token)
        assert body["data"] == {"client": None}
        assert codes(body) == ["NOT_FOUND"]
    await env.api.data(CLIENT, {"id": client_id}, provider.admin.token)


async def test_clients_need_a_signed_in_viewer(env: Env) -> None:
    provider = await env.world.provider()
    client_id = await env.world.client(provider)

    assert codes(await env.api.post(CLIENTS)) == ["UNAUTHENTICATED"]
    assert codes(await env.api.post(CLIENT, {"id": client_id})) == ["UNAUTHENTICATED"]
    created = await env.api.post(CREATE_CLIENT, {"input": {"name": "Kai"}})
    assert codes(created) == ["UNAUTHENTICATED"]
    assert (await clients(env, provider))["totalCount"] == 1


# ---------------------------------------------------------------- clients(search, first, after)


async def test_clients_are_listed_by_name_with_a_total(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Maya", "Ali", "Zoe", "Ben")

    page = await clients(env, provider)

    assert [e["node"]["name"] for e in page["edges"]] == ["Ali", "Ben", "Maya", "Zoe"]
    assert page["totalCount"] == 4
    assert page["pageInfo"]["hasNextPage"] is False


async def test_names_sort_as_a_person_reads_them_whatever_their_case(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Zed", "van Dijk", "Eve", "de Souza", "Daniel", "DeWitt")
    expected = ["Daniel", "de Souza", "DeWitt", "Eve", "van Dijk", "Zed"]

    assert await names(env, provider) == expected
    seen: list[str] = []
    after = None
    for _ in range(6):
        page = await clients(env, provider, first=2, after=after)
        seen += [e["node"]["name"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == expected


async def test_keyset_pages_cover_every_client_once(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Eve", "Dan", "Cat", "Bob", "Ann")

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await clients(env, provider, first=2, after=after)
        assert page["totalCount"] == 5
        assert len(page["edges"]) <= 2
        seen += [e["node"]["name"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]

    assert seen == ["Ann", "Bob", "Cat", "Dan", "Eve"]
    assert pages == 3


async def test_next_page_is_unaffected_by_clients_added_before_the_cursor(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Carl", "Dora", "Emil", "Finn")

    first = await clients(env, provider, first=2)
    assert [e["node"]["name"] for e in first["edges"]] == ["Carl", "Dora"]
    await add_clients(env, provider, "Aaron", "Bea")

    second = await clients(env, provider, first=2, after=first["pageInfo"]["endCursor"])

    assert [e["node"]["name"] for e in second["edges"]] == ["Emil", "Finn"]
    assert second["totalCount"] == 6
    assert second["pageInfo"]["hasNextPage"] is False


async def test_clients_with_the_same_name_page_without_loss_or_duplicates(env: Env) -> None:
    provider = await env.world.provider()
    ids = await add_clients(env, provider, "Sam", "Sam", "Sam", "Sam", "Sam")

    seen: list[str] = []
    after = None
    for _ in range(5):
        page = await clients(env, provider, first=2, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break

    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen)) == 5


async def test_search_matches_name_or_email_ignoring_case_and_counts_matches(env: Env) -> None:
    provider = await env.world.provider()
    for name, email in (
        ("Hannah Lee", None),
        ("Leonard Cohen", "leo@example.org"),
        ("Oscar", "oscar@LEEWAY.example"),
        ("Pat", None),
    ):
        payload = await create_client(env, provider.admin.token, name=name, email=email)
        assert payload["errors"] == []

    page = await clients(env, provider, search="  LEE ")
    assert [e["node"]["name"] for e in page["edges"]] == ["Hannah Lee", "Oscar"]
    assert page["totalCount"] == 2

    assert await names(env, provider, search="leo") == ["Leonard Cohen"]
    assert await names(env, provider, search="nobody") == []
    assert (await clients(env, provider, search="nobody"))["totalCount"] == 0
    assert len(await names(env, provider, search="   ")) == 4


async def test_search_text_is_literal_not_a_pattern(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "100% Effort", "Plain", "Under_score", "Back\\slash")

    assert await names(env, provider, search="%") == ["100% Effort"]
    assert await names(env, provider, search="_") == ["Under_score"]
    assert await names(env, provider, search="\\") == ["Back\\slash"]


async def test_search_pages_and_total_agree(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Ann Smith", "Bo Smith", "Cy Jones", "Di Smith")

    first = await clients(env, provider, search="smith", first=2)
    second = await clients(
        env, provider, search="smith", first=2, after=first["pageInfo"]["endCursor"]
    )

    assert [e["node"]["name"] for e in first["edges"]] == ["Ann Smith", "Bo Smith"]
    assert [e["node"]["name"] for e in second["edges"]] == ["Di Smith"]
    assert first["totalCount"] == second["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False


def forged_cursor(*values: Any) -> str:
    raw = json.dumps(["CLIENT_NAME", *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_bad_page_arguments_are_refused_as_bad_input(env: Env) -> None:
    provider = await env.world.provider()
    await add_clients(env, provider, "Uma")
    await env.world.task(provider.admin)
    await env.world.task(provider.admin)
    tasks = await env.api.data(
        "{ tasks(first: 1) { pageInfo { endCursor } } }", token=provider.admin.token
    )
    task_cursor = tasks["tasks"]["pageInfo"]["endCursor"]

    for args in (
        {"first": -1},
        {"first": 100_000},
        {"after": "garbage"},
        {"after": "e30"},
        {"after": task_cursor},
        {"after": forged_cursor("Uma")},
        {"after": forged_cursor(5, "x")},
        {"after": forged_cursor("Uma", "1")},
        {"after": forged_cursor("Uma", 2**40)},
        {"after": forged_cursor(["Uma"], {"id": 1})},
    ):
        body = await env.api.post(CLIENTS, args, provider.admin.token)
        assert codes(body) == ["BAD_USER_INPUT"], args
        assert body["data"] is None
