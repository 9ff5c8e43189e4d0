"""The floor: the Tasks page from one SQL statement whose result is the response body.

A bare Starlette app on asyncpg, served by uvicorn like casetasks; `/typename` answers
`{__typename}` without touching the database (B1's bare Starlette figure).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.page import RAW_SQL

TYPENAME_BODY = b'{"data":{"__typename":"Query"}}'


def create_app() -> Starlette:
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=10, max_size=10))
        yield
        await pools[0].close()

    async def tasks(request: Request) -> Response:
        query = request.query_params
        async with pools[0].acquire() as connection:
            body = await connection.fetchval(
                RAW_SQL,
                int(query["caseworker"]),
                date.fromisoformat(query["from"]),
                date.fromisoformat(query["to"]),
                int(query["first"]),
            )
        return Response(body, media_type="application/json")

    async def typename(_request: Request) -> Response:
        return Response(TYPENAME_BODY, media_type="application/json")

    routes = [Route("/tasks", tasks), Route("/typename", typename, methods=["GET", "POST"])]
    return Starlette(routes=routes, lifespan=lifespan)
