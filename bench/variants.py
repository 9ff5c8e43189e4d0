"""What is measured: each variant is one request, sent again and again to one server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bench import page
from bench.generate import PASSWORD
from bench.load import Request

LOGIN = """
mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { message } } }
"""


@dataclass(frozen=True)
class Variant:
    bench: str  # B1, B2 or B3
    name: str
    server: str  # casetasks, raw or postgraphile
    request: Request
    checks_page: bool


def _graphql(
    query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Request:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = (("Authorization", f"Bearer {token}"),) if token else ()
    return Request("POST", "/graphql", body, headers)


async def sign_in(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        variables = {"e": f"staff{page.CASEWORKER}@bench.example", "p": PASSWORD}
        body = (await http.post("/graphql", json={"query": LOGIN, "variables": variables})).json()
    token = body["data"]["login"]["token"]
    if not token:
        raise RuntimeError(f"the caseworker could not sign in: {body}")
    return str(token)


def for_server(server: str, token: str | None, plans: str) -> list[Variant]:
    """The variants of one server; `{__typename}` only with the default plan mode."""
    custom = plans != "default"
    suffix = " (custom plans)" if custom else ""
    if server == "casetasks":
        assert token is not None
        found = [
            Variant(
                "B2",
                "casetasks Tasks page" + suffix,
                server,
                _graphql(page.CASETASKS_QUERY, page.CASETASKS_VARIABLES, token),
                True,
            )
        ]
        if not custom:
            found += [
                Variant(
                    "B1",
                    "casetasks {__typename} signed out",
                    server,
                    _graphql("{__typename}"),
                    False,
                ),
                Variant(
                    "B1",
                    "casetasks {__typename} signed in",
                    server,
                    _graphql("{__typename}", token=token),
                    False,
                ),
            ]
        return found
    if server == "raw":
        found = [
            Variant(
                "B3", "raw asyncpg Tasks page" + suffix, server, Request("GET", page.RAW_PATH), True
            )
        ]
        if not custom:
            found.append(
                Variant(
                    "B1", "bare Starlette {__typename}", server, Request("GET", "/typename"), False
                )
            )
        return found
    found = [
        Variant(
            "B3",
            "PostGraphile 5 Tasks page" + suffix,
            server,
            _graphql(page.POSTGRAPHILE_QUERY, page.POSTGRAPHILE_VARIABLES),
            True,
        )
    ]
    if not custom:
        found.append(
            Variant("B1", "PostGraphile 5 {__typename}", server, _graphql("{__typename}"), False)
        )
    return found


async def fetch(port: int, request: Request) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        response = await http.request(
            request.method,
            request.path,
            content=request.body or None,
            headers={**dict(request.headers), "Content-Type": "application/json"},
        )
    if response.status_code != 200:
        raise RuntimeError(f"{request.path}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


def read_page(server: str, body: dict[str, Any]) -> page.Page:
    if server == "postgraphile":
        return page.from_postgraphile(body)
    return page.from_casetasks(body)
