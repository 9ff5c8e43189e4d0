"""Schemathesis in GraphQL mode against the running app: no generated request is a server error.

Every query and mutation of the served schema gets a fixed budget of generated operations with
a fixed seed, sent over real HTTP to a uvicorn server as a signed-in administrator and as a
signed-in portal client. Generated ids mix real ids of the test's world (so resolvers reach real
rows of both tenants) with arbitrary strings; generated dates span years 1 to 9999.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import GraphQLSchema, get_introspection_query, graphql_sync
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

import schema
from tests.conftest import Env
from tests.live import serve_in_process
from tests.test_client_portal import portal_client

EXAMPLES_PER_OPERATION = 12
SEED = 20261203
# Of the generated operations, at least this many are answered without an error (a client
# is refused most staff operations; an administrator gets about a third answered).
ANSWERED_AT_LEAST = 25
# Would end the session the rest of the run uses; test_auth.py covers it.
SIGNS_OUT = {"Mutation.logout"}


def _introspection() -> dict[str, Any]:
    served: GraphQLSchema = schema.build_schema()._schema
    result = graphql_sync(served, get_introspection_query())
    assert result.errors is None and result.data is not None
    return {"data": result.data}


def _register_scalars(real_ids: list[str]) -> None:
    """Dates across the whole calendar and junk; ids real (both tenants) or junk."""
    text = st.text(max_size=24)
    schemathesis.graphql.scalar(
        "Date",
        st.one_of(st.dates().map(date.isoformat), text).map(nodes.String),
    )
    schemathesis.graphql.scalar(
        "DateTime",
        st.one_of(st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat), text).map(
            nodes.String
        ),
    )
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(real_ids), text).map(nodes.String))


def _examples(operation: Any) -> list[str]:
    generated: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        generated.append(str(case.body))

    collect()
    return generated


def _generated_documents(real_ids: list[str]) -> list[tuple[str, str]]:
    """(operation label, document) pairs, the same on every run for the same schema."""
    _register_scalars(real_ids)
    loaded = schemathesis.graphql.from_dict(_introspection())
    operations = [result.ok() for result in loaded.get_all_operations()]
    return [
        (operation.label, document)
        for operation in operations
        if operation.label not in SIGNS_OUT
        for document in _examples(operation)
    ]


async def _world_ids(env: Env) -> tuple[list[str], str, str]:
    world = env.world
    provider = await world.provider(group="Fuzz Group")
    partner = await world.provider(group="Fuzz Group")
    caseworker = await world.staff(provider)
    client = await portal_client(world, provider, "Fuzz Client", caseworker)
    outsider_client = await world.client(partner)
    task = await world.task(provider.admin, clientId=client.id, assignedToClient=True)
    other_task = await world.task(partner.admin)
    ids = [
        provider.id,
        partner.id,
        provider.admin.id,
        partner.admin.id,
        caseworker.id,
        client.id,
        outsider_client,
        task["id"],
        other_task["id"],
    ]
    if provider.group_id:
        ids.append(provider.group_id)
    return ids, provider.admin.token, client.token


def _server_errors(label: str, document: str, response: httpx.Response) -> list[str]:
    if response.status_code >= 500:
        return [f"{label}: HTTP {response.status_code} for\n{document}"]
    body = response.json()
    return [
        f"{label}: INTERNAL ({error.get('message')}) for\n{document}"
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") == "INTERNAL"
    ]


def _outcome(response: httpx.Response) -> str:
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    body = response.json()
    if not body.get("errors"):
        return "answered"
    codes = {(error.get("extensions") or {}).get("code") for error in body["errors"]}
    return ",".join(sorted(str(code) for code in codes))


@pytest.mark.parametrize("role", ["administrator", "client"])
async def test_generated_operations_never_cause_a_server_error(env: Env, role: str) -> None:
    ids, admin_token, client_token = await _world_ids(env)
    token = admin_token if role == "administrator" else client_token
    documents = _generated_documents(ids)
    labels = Counter(label for label, _ in documents)
    assert len(labels) >= 24, labels
    problems: list[str] = []
    outcomes: Counter[str] = Counter()
    async with (
        serve_in_process(env.app) as address,
        httpx.AsyncClient(
            base_url=f"http://{address}",
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=30,
        ) as http,
    ):
        for label, document in documents:
            response = await http.post("/graphql", json={"query": document})
            problems += _server_errors(label, document, response)
            outcomes[_outcome(response)] += 1
    assert problems == [], "\n\n".join(problems[:10])
    # The budget reaches the resolvers, not only validation and sign-in checks.
    assert outcomes["answered"] >= ANSWERED_AT_LEAST, outcomes
