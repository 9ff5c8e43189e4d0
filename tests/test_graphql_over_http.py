"""GraphQL over HTTP: the media type follows Accept, a request that never reached execution is a
400 without data under application/graphql-response+json (a 200 with data: null under
application/json, as older clients expect), and a mutation over GET is a 405."""

from __future__ import annotations

import hashlib
import json

import pytest

from casetasks.http_spec import GRAPHQL_RESPONSE_JSON, is_request_error, response_media_type
from tests.conftest import Env

NEW = "application/graphql-response+json"
OLD = "application/json"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, OLD),
        ("", OLD),
        ("*/*", OLD),
        (OLD, OLD),
        (NEW, NEW),
        (f"{NEW}, {OLD};q=0.9", NEW),
        (f"{NEW};q=0.5, {OLD}", OLD),
        (f"{OLD}, {NEW}", NEW),
        (f"{NEW};q=0", OLD),
        ("text/html", OLD),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, chosen: str) -> None:
    assert response_media_type(accept) == chosen


def test_a_request_error_has_no_data_and_no_error_with_a_path() -> None:
    assert is_request_error({"data": None, "errors": [{"message": "Syntax Error"}]})
    assert not is_request_error({"data": None, "errors": [{"message": "x", "path": ["tasks"]}]})
    assert not is_request_error({"data": {"me": None}})
    assert not is_request_error({"data": None})


async def post(env: Env, body: dict[str, object], accept: str | None) -> tuple[int, str, dict]:
    headers = {"accept": accept} if accept else {}
    response = await env.api.http.post("/graphql", json=body, headers=headers)
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ tasks {"},  # does not parse
        {"query": "{ nothing }"},  # does not validate
        {"query": "query($n: Int!) { tasks(first: $n) { totalCount } }", "variables": {"n": "x"}},
    ],
    ids=["parse", "validation", "variables"],
)
async def test_a_request_error_is_400_without_data_when_the_client_accepts_it(
    env: Env, body: dict[str, object]
) -> None:
    status, content_type, answer = await post(env, body, NEW)
    assert (status, content_type) == (400, f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8")
    assert "data" not in answer and answer["errors"]

    status, content_type, answer = await post(env, body, OLD)
    assert (status, content_type) == (200, "application/json")
    assert answer["data"] is None and answer["errors"]


async def test_an_executed_operation_is_200_under_either_media_type(env: Env) -> None:
    for accept in (NEW, OLD, None):
        status, _content_type, answer = await post(env, {"query": "{ me { __typename } }"}, accept)
        assert status == 200
        assert answer["data"] == {"me": None} and "errors" not in answer


async def test_a_field_error_keeps_its_data_entry_and_200(env: Env) -> None:
    # Signed out, the Tasks screen is UNAUTHENTICATED: an error of the field, during execution.
    status, _content_type, answer = await post(env, {"query": "{ tasks { totalCount } }"}, NEW)
    assert status == 200
    assert "data" in answer
    assert answer["errors"][0]["path"] == ["tasks"]


async def test_a_mutation_over_get_is_405_naming_post(env: Env) -> None:
    response = await env.api.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers={"accept": NEW}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_query_over_get_runs(env: Env) -> None:
    response = await env.api.http.get(
        "/graphql", params={"query": "{ me { __typename } }"}, headers={"accept": NEW}
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [("application/*", OLD), (f"{NEW}; charset=utf-8, */*;q=0.5", NEW)],
)
def test_wildcards_mean_application_json_and_parameters_are_ignored(
    accept: str, chosen: str
) -> None:
    assert response_media_type(accept) == chosen


async def test_get_takes_operation_name_variables_and_extensions_as_parameters(env: Env) -> None:
    provider = await env.world.provider()
    params = {
        "query": "query Me { me { __typename } } query Node($id: ID!) { node(id: $id) { id } }",
        "operationName": "Node",
        "variables": json.dumps({"id": provider.id}),
        "extensions": json.dumps({}),
    }
    headers = {"accept": NEW, "authorization": f"Bearer {provider.admin.token}"}
    response = await env.api.http.get("/graphql", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"node": {"id": provider.id}}


async def test_a_mutation_over_get_does_not_run(env: Env) -> None:
    provider = await env.world.provider()
    headers = {"accept": OLD, "authorization": f"Bearer {provider.admin.token}"}
    response = await env.api.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers=headers
    )
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    # logout did not run: the token still signs in.
    me = {"query": "{ me { __typename } }"}
    status, _content_type, answer = await post_signed_in(env, me, NEW, provider.admin.token)
    assert (status, answer["data"]) == (200, {"me": {"__typename": "Staff"}})


async def post_signed_in(
    env: Env, body: dict[str, object], accept: str, token: str
) -> tuple[int, str, dict]:
    headers = {"accept": accept, "authorization": f"Bearer {token}"}
    response = await env.api.http.post("/graphql", json=body, headers=headers)
    return response.status_code, response.headers["content-type"], response.json()


async def test_an_unknown_persisted_document_is_a_request_error(env: Env) -> None:
    """PersistedQueryNotFound: 400 without data under the spec's media type, 200 under
    application/json; Apollo's persisted queries link retries with the text after either."""
    provider = await env.world.provider()
    query = "{ me { __typename } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}

    status, content_type, answer = await post_signed_in(env, body, NEW, provider.admin.token)
    assert (status, content_type) == (400, f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8")
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    status, content_type, answer = await post_signed_in(env, body, OLD, provider.admin.token)
    assert (status, content_type) == (200, "application/json")
    assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
