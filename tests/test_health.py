"""Liveness (/healthz) and readiness (/readyz, which needs the database)."""

from __future__ import annotations

from pathlib import Path

import httpx

from casetasks.app import create_app
from casetasks.settings import Settings
from tests.conftest import Env


async def test_healthz(env: Env) -> None:
    response = await env.api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_with_the_database_reachable(env: Env) -> None:
    response = await env.api.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


async def test_readyz_without_the_database(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'casetasks.db'}",
        secret_key="test-secret-key-not-for-production",
        casetasks_env="test",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http:
            ready = await http.get("/readyz")
            alive = await http.get("/healthz")
    finally:
        await app.state.engine.dispose()
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    assert alive.status_code == 200
