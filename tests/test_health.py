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


async def test_browser_apps_of_configured_origins_may_call_the_api(settings: Settings) -> None:
    allowed = settings.model_copy(update={"cors_allow_origins": "https://portal.example.org"})
    app = create_app(allowed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casetasks.test") as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": "https://portal.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://portal.example.org"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

        other = await http.options(
            "/graphql",
            headers={
                "Origin": "https://elsewhere.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert "access-control-allow-origin" not in other.headers
    await app.state.engine.dispose()
