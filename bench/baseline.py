"""The baseline: the same Tasks page as a hand-written raw-asyncpg Starlette route."""

from __future__ import annotations

import base64
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = """
SELECT t.id, t.name, t.due_date, t.status, t.kind, t.client_id, t.created_by_id, t.provider_id
FROM task t WHERE t.provider_id = $1 AND t.status = 'OPEN'
ORDER BY t.due_date, t.id LIMIT $2
"""


def _gid(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def create_app() -> Starlette:
    pool: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pool["pool"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
        yield
        await pool["pool"].close()

    async def tasks(request: Request) -> Response:
        provider_id = int(request.query_params.get("provider", "1"))
        first = int(request.query_params.get("first", "50"))
        async with pool["pool"].acquire() as connection:
            rows = await connection.fetch(PAGE, provider_id, first)
            total = await connection.fetchval(
                "SELECT count(*) FROM task WHERE provider_id = $1 AND status = 'OPEN'", provider_id
            )
            ids = [r["id"] for r in rows]
            people = await connection.fetch(
                "SELECT r.task_id, s.id, s.name FROM task_responsible r JOIN staff s"
                " ON s.id = r.staff_id WHERE r.task_id = ANY($1) ORDER BY r.task_id, r.position",
                ids,
            )
            client_ids = list({r["client_id"] for r in rows if r["client_id"]})
            clients = {
                r["id"]: r["name"]
                for r in await connection.fetch(
                    "SELECT id, name FROM client WHERE id = ANY($1)", client_ids
                )
            }
        responsible: dict[int, list[dict[str, str]]] = defaultdict(list)
        for r in people:
            responsible[r["task_id"]].append({"id": _gid("Staff", r["id"]), "name": r["name"]})
        edges = [
            {
                "node": {
                    "id": _gid("Task", r["id"]),
                    "name": r["name"],
                    "dueDate": r["due_date"].isoformat(),
                    "status": r["status"],
                    "kind": r["kind"],
                    "client": (
                        {"id": _gid("Client", r["client_id"]), "name": clients[r["client_id"]]}
                        if r["client_id"]
                        else None
                    ),
                    "responsible": responsible[r["id"]],
                }
            }
            for r in rows
        ]
        body = {"data": {"tasks": {"totalCount": total, "edges": edges}}}
        return Response(json.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/tasks", tasks)], lifespan=lifespan)
