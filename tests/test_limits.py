"""Limits on what one request may ask, decided before any SQL runs (schema/limits.py)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query

from schema.ids import to_global_id
from schema.limits import QueryLimits
from tests.conftest import Env, Live
from tests.factories import TASK_FIELDS
from tests.ws_client import GraphQLWebSocket

LIMITS = QueryLimits()


def nested_providers(depth: int) -> str:
    """me -> provider -> staff -> provider -> ...: valid at every level, depth levels deep."""
    inner = "name"
    for level in range(depth - 2, 0, -1):
        inner = f"{'provider' if level % 2 else 'staff'} {{ {inner} }}"
    return f"{{ me {{ ... on Staff {{ {inner} }} }} }}"


def nested_client_tasks(levels: int, first: int) -> str:
    """The issue's task(id){client{tasks{edges{node{client{tasks{...}}}}}}}, levels deep."""
    inner = "name"
    for _ in range(levels):
        inner = f"client {{ tasks(first: {first}) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f'{{ task(id: "{to_global_id("Task", 1)}") {{ {inner} }} }}'


def aliases_in_a_fragment(count: int, field: str = "me { __typename }") -> str:
    aliased = " ".join(f"a{n}: {field}" for n in range(count))
    return f"query {{ ...Many }} fragment Many on Query {{ {aliased} }}"


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return error  # type: ignore[no-any-return]


async def refused_without_sql(
    env: Env, query: str, variables: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """The refusal of a request sent signed in, after checking that it ran no SQL at all."""
    provider = await env.world.provider()
    env.sql.reset()
    response = await env.api.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}, **extra},
        headers={"Authorization": f"Bearer {provider.admin.token}"},
    )
    assert env.sql.statements == [], env.sql.statements
    assert response.status_code in (200, 400), response.text
    return refusal(response.json())


ABUSE = {
    "depth 50": (nested_providers(50), None, "MAX_DEPTH_EXCEEDED"),
    "nested client tasks, depth 12 and more": (
        nested_client_tasks(3, 50),
        None,
        "MAX_DEPTH_EXCEEDED",
    ),
    "500 aliases in a fragment": (aliases_in_a_fragment(500), None, "MAX_ALIASES_EXCEEDED"),
    # The case: its 5,000 tokens stop the parse before the aliases are counted.
    "500 aliases of tasks(first: 50) in a fragment": (
        aliases_in_a_fragment(500, "tasks(first: 50) { totalCount }"),
        None,
        "MAX_TOKENS_EXCEEDED",
    ),
    "1,500 repeated fields": (
        "{ me { " + " ".join(["__typename"] * 1500) + " } }",
        None,
        "MAX_REPEATED_FIELDS_EXCEEDED",
    ),
    "a fragment spread 500 times": (
        "query { " + " ".join(["...Me"] * 500) + " } fragment Me on Query { me { __typename } }",
        None,
        "MAX_REPEATED_FIELDS_EXCEEDED",
    ),
    "first: 99999999": (
        "{ tasks(first: 99999999) { totalCount } }",
        None,
        "BAD_USER_INPUT",
    ),
    "first: 99999999 in a variable, nested": (
        "query($n: Int) { clients { edges { node { tasks(first: $n) { totalCount } } } } }",
        {"n": 99999999},
        "BAD_USER_INPUT",
    ),
    "upcoming(first: 1000000)": (
        "query($id: ID!) { node(id: $id) { ... on TaskSeries { upcoming(first: 1000000) } } }",
        {"id": to_global_id("TaskSeries", 1)},
        "BAD_USER_INPUT",
    ),
    "nested connections of 200": (nested_client_tasks(2, 200), None, "MAX_COST_EXCEEDED"),
    "a document over the token limit": (
        "{ " + " ".join(["__typename"] * (LIMITS.max_tokens + 1)) + " }",
        None,
        "MAX_TOKENS_EXCEEDED",
    ),
}


@pytest.mark.parametrize("case", list(ABUSE))
async def test_the_abuse_list_is_refused_before_any_sql(env: Env, case: str) -> None:
    query, variables, code = ABUSE[case]

    error = await refused_without_sql(env, query, variables)

    assert error["extensions"]["code"] == code, error
    assert error["message"]


async def test_a_document_of_100_operations_is_refused_before_any_sql(env: Env) -> None:
    operations = " ".join(f"query Q{n} {{ me {{ __typename }} }}" for n in range(100))

    error = await refused_without_sql(env, operations, operationName="Q1")

    assert error["extensions"] == {"code": "MAX_OPERATIONS_EXCEEDED", "maximum": 20}
    assert "100 operations" in error["message"]


async def test_refusals_say_what_was_exceeded(env: Env) -> None:
    depth = await refused_without_sql(env, nested_providers(LIMITS.max_depth + 1))
    assert depth["extensions"] == {"code": "MAX_DEPTH_EXCEEDED", "maximum": LIMITS.max_depth}
    assert f"{LIMITS.max_depth} levels" in depth["message"]
    assert depth["locations"]

    page = await refused_without_sql(env, "{ tasks(first: 99999999) { totalCount } }")
    assert page["message"] == "tasks(first:) must be between 0 and 200, got 99999999"

    repeated = await refused_without_sql(env, "{ me { " + "__typename " * 11 + "} }")
    assert repeated["extensions"] == {
        "code": "MAX_REPEATED_FIELDS_EXCEEDED",
        "field": "__typename",
        "maximum": LIMITS.max_repeated_fields,
    }


async def test_a_fragment_counts_each_time_it_is_spread(env: Env) -> None:
    """Ten aliases are fine once; spread four times they are forty, over the limit of 30."""
    aliased = " ".join(f"a{n}: __typename" for n in range(10))
    fragment = f"fragment Ten on Query {{ {aliased} }}"
    provider = await env.world.provider()
    once = await env.api.post(f"query {{ ...Ten }} {fragment}", token=provider.admin.token)
    assert "errors" not in once, once

    four = f"query {{ a: me {{ __typename }} ...Ten ...Ten ...Ten ...Ten }} {fragment}"
    error = await refused_without_sql(env, four)

    assert error["extensions"]["code"] == "MAX_ALIASES_EXCEEDED"


async def test_fragment_cycles_are_still_reported_by_validation(env: Env) -> None:
    query = (
        "query { ...A } fragment A on Query { me { __typename } ...B } fragment B on Query { ...A }"
    )

    error = await refused_without_sql(env, query)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cycle" in error["message"] or "itself" in error["message"]


async def test_the_cost_grows_with_the_pages_asked_for(env: Env) -> None:
    provider = await env.world.provider()
    await env.world.task(provider.admin)
    query = (
        "query($first: Int) { tasks(first: $first) { totalCount"
        " edges { node { id client { name } responsible { name } } } } }"
    )

    small = await env.api.post(query, {"first": 10}, provider.admin.token)
    large = await env.api.post(query, {"first": 100}, provider.admin.token)

    unsaid = await env.api.post(query, {"first": None}, provider.admin.token)

    # Per edge: the edge, the node, the client and about ten responsible staff.
    assert small["extensions"]["cost"]["requested"] == 1 + 10 * 13
    assert unsaid["extensions"]["cost"]["requested"] == 1 + 50 * 13  # a page of 50
    assert large["extensions"]["cost"]["requested"] == 1 + 100 * 13
    assert large["extensions"]["cost"]["maximum"] == LIMITS.max_cost


async def test_the_tasks_page_of_100_with_every_relation_stays_under_the_cost_limit(
    env: Env,
) -> None:
    provider = await env.world.provider()
    await env.world.task(provider.admin)
    page = (
        "query($first: Int) { tasks(first: $first) { totalCount"
        " pageInfo { hasNextPage endCursor } edges { cursor node { " + TASK_FIELDS + " } } } }"
    )

    for first in (100, 200):
        body = await env.api.post(page, {"first": first}, provider.admin.token)
        assert "errors" not in body, body
        cost = body["extensions"]["cost"]
        assert cost["requested"] < cost["maximum"], cost
        assert cost["remaining"] > 0


async def test_a_refused_cost_is_reported_with_the_maximum(env: Env) -> None:
    error = await refused_without_sql(env, nested_client_tasks(2, 200))

    assert error["extensions"]["cost"] > LIMITS.max_cost
    assert error["extensions"]["maximum"] == LIMITS.max_cost
    assert "points" in error["message"]


async def test_introspection_as_graphiql_sends_it_is_within_the_limits(env: Env) -> None:
    body = await env.api.post(get_introspection_query(descriptions=True))

    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_cannot_nest_lists_without_end(env: Env) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"

    error = await refused_without_sql(env, query)

    assert error["message"] == "Maximum introspection depth exceeded"


async def test_a_subscription_over_the_limits_gets_an_error_and_the_socket_stays_up(
    live: Live,
) -> None:
    provider = await live.env.world.provider()
    dashboard = await GraphQLWebSocket.connect(live.ws_url, provider.admin.token)
    too_deep = (
        "subscription { notificationAdded { task { client { tasks { edges { node {"
        " client { tasks { edges { node { client { tasks { edges { node { name"
        " } } } } } } } } } } } } } } }"
    )
    too_costly = (
        "subscription { notificationAdded { task { client { tasks(first: 200) { edges { node {"
        " client { tasks(first: 200) { totalCount edges { node { name } } } } } } } } } } }"
    )
    too_large = "subscription { " + " ".join(["__typename"] * (LIMITS.max_tokens + 1)) + " }"
    try:
        for query, code in (
            (too_deep, "MAX_DEPTH_EXCEEDED"),
            (too_costly, "MAX_COST_EXCEEDED"),
            (too_large, "MAX_TOKENS_EXCEEDED"),
            (
                "subscription { notificationAdded { task { client { tasks(first: 99999999)"
                " { totalCount } } } } }",
                "BAD_USER_INPUT",
            ),
        ):
            operation = await dashboard.subscribe(query)
            message = await operation.message()
            assert message["type"] in ("error", "next"), message
            payload = message["payload"]
            errors = payload if message["type"] == "error" else payload["errors"]
            assert [e["extensions"]["code"] for e in errors] == [code], message
        assert not dashboard.closed.is_set()

        # The same connection still serves a subscription within the limits.
        fine = await dashboard.subscribe("subscription { notificationAdded { message } }")
        await fine.nothing(within=0.2)
        assert not dashboard.closed.is_set()
    finally:
        await dashboard.close()
