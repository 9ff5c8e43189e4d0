"""A small GraphQL-over-HTTP client for tests, speaking to the ASGI app or a real server."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLFailure(AssertionError):
    pass


class Api:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            self.path, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400), response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a request that must not fail."""
        body = await self.post(query, variables, token)
        if body.get("errors"):
            raise GraphQLFailure(body["errors"])
        return body["data"]  # type: ignore[no-any-return]

    async def error_codes(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> list[str]:
        body = await self.post(query, variables, token)
        return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]

    async def mutate(
        self,
        name: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A mutation's payload (which may carry user errors)."""
        return (await self.data(query, variables, token))[name]  # type: ignore[no-any-return]
