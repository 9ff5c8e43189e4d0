"""graphql-http's server audits (the GraphQL over HTTP spec's own test suite, in node) against a
real `casetasks serve`: every one must pass, warnings included."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.live import ServeProcess
from tests.processes import process_env
from tests.services import need_npm_package

AUDITS = Path(__file__).parent / "graphql_http"


def audit_script() -> Path:
    need_npm_package(AUDITS, "graphql-http")
    return AUDITS / "audit.mjs"


async def test_every_server_audit_passes(database_url: str, tmp_path: Path) -> None:
    script = audit_script()
    server = ServeProcess(process_env(database_url, CASETASKS_ENV="development"), tmp_path)
    await server.start()
    try:
        audit = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            f"{server.http_url}/graphql",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(audit.communicate(), 120)
    finally:
        await server.stop()
    assert audit.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert len(results) == 61, f"graphql-http ran {len(results)} audits"
    failing = [
        f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"
    ]
    assert failing == [], "\n".join(failing)
