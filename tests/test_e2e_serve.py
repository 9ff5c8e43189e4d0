"""`casetasks serve` as a real process, used over real HTTP like a browser or integration."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.graphql_client import Api
from tests.processes import casetasks_command, free_port, process_env, run_cli

PASSWORD = "end to end password"
EMAIL = "e2e.admin@serve.example"
STARTUP_SECONDS = 60.0
SHUTDOWN_SECONDS = 15.0

TASK = "task { id name dueDate status version completedAt completedBy { __typename } }"


@dataclass
class Server:
    base_url: str
    log: Path
    process: asyncio.subprocess.Process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


async def _wait_until_ready(server: Server, http: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert server.process.returncode is None, (
            f"casetasks serve exited with {server.process.returncode}:\n{server.log_text()}"
        )
        with suppress(httpx.TransportError):
            if (await http.get("/readyz")).status_code == 200:
                return
        assert time.monotonic() < deadline, (
            f"/readyz not ready after {STARTUP_SECONDS} s:\n{server.log_text()}"
        )
        await asyncio.sleep(0.05)


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), SHUTDOWN_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"casetasks serve ignored SIGTERM for {SHUTDOWN_SECONDS} s") from None


@asynccontextmanager
async def serve(database_url: str, folder: Path) -> AsyncIterator[tuple[Server, httpx.AsyncClient]]:
    port = free_port()
    log = folder / "serve.stderr"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            casetasks_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=folder,
            env=process_env(database_url, LOG_LEVEL="info"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    server = Server(f"http://127.0.0.1:{port}", log, process)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=30) as http:
            await _wait_until_ready(server, http)
            yield server, http
    finally:
        returncode = await _stop(process)
    # Uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM is a clean stop.
    assert returncode in (0, -signal.SIGTERM), f"exited with {returncode}:\n{server.log_text()}"
    assert "Application shutdown complete" in server.log_text()


async def _create_provider(database_url: str, folder: Path) -> dict[str, Any]:
    finished = await run_cli(
        "create-provider",
        "--name",
        "Serve Street Services",
        "--timezone",
        "Australia/Sydney",
        "--admin-name",
        "Sam Server",
        "--admin-email",
        EMAIL,
        "--admin-password",
        PASSWORD,
        env=process_env(database_url),
        cwd=folder,
    )
    assert finished.returncode == 0, finished
    return json.loads(finished.stdout)  # type: ignore[no-any-return]


def _log_entries(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"a log line that is not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


async def test_serve_over_real_http(database_url: str, tmp_path: Path) -> None:
    created = await _create_provider(database_url, tmp_path)
    admin_id = created["administrator"]["id"]
    due = date.today() + timedelta(days=30)

    async with serve(database_url, tmp_path) as (server, http):
        api = Api(http)

        health = await http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["database"] == "reachable"

        # Production mode (process_env): no GraphiQL unless CASETASKS_GRAPHIQL=true.
        graphiql = await http.get("/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 404
        assert "graphiql" not in graphiql.text.lower()

        login = await api.mutate(
            "login",
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
            " token viewer { ... on Staff { id email } } errors { message } } }",
            {"e": EMAIL, "p": PASSWORD},
        )
        assert login["errors"] == [], login
        assert login["viewer"] == {"id": admin_id, "email": EMAIL}
        token = login["token"]
        assert token

        assert await api.error_codes("{ tasks { totalCount } }") == ["UNAUTHENTICATED"]

        create = await api.mutate(
            "createTask",
            "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
            f" {TASK} errors {{ field code message }} }} }}",
            {
                "input": {
                    "name": "Ring the employer",
                    "dueDate": due.isoformat(),
                    "responsibleIds": [admin_id],
                }
            },
            token,
        )
        assert create["errors"] == [], create
        task = create["task"]
        assert (task["name"], task["dueDate"], task["status"]) == (
            "Ring the employer",
            due.isoformat(),
            "OPEN",
        )

        listed = await api.data(
            "{ tasks { totalCount edges { node { id name dueDate } } } }", token=token
        )
        assert listed["tasks"]["totalCount"] == 1
        assert [edge["node"]["id"] for edge in listed["tasks"]["edges"]] == [task["id"]]

        postponed = await api.mutate(
            "postponeTask",
            "mutation($input: PostponeTaskInput!) { postponeTask(input: $input) {"
            f" {TASK} errors {{ field code message }} }} }}",
            {"input": {"id": task["id"], "by": "ONE_WEEK", "expectedVersion": task["version"]}},
            token,
        )
        assert postponed["errors"] == [], postponed
        assert postponed["task"]["dueDate"] == (due + timedelta(weeks=1)).isoformat()
        assert postponed["task"]["version"] > task["version"]

        completed = await api.mutate(
            "completeTask",
            "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
            f" {TASK} errors {{ field code message }} }} }}",
            {"input": {"id": task["id"], "expectedVersion": postponed["task"]["version"]}},
            token,
        )
        assert completed["errors"] == [], completed
        assert completed["task"]["status"] == "COMPLETED"
        assert completed["task"]["completedAt"]
        assert completed["task"]["completedBy"] == {"__typename": "Staff"}

        open_tasks = await api.data("{ tasks { totalCount } }", token=token)
        assert open_tasks["tasks"]["totalCount"] == 0
        every_task = await api.data(
            "{ tasks(filter: {includeCompleted: true}) { edges { node { id status } } } }",
            token=token,
        )
        assert [edge["node"] for edge in every_task["tasks"]["edges"]] == [
            {"id": task["id"], "status": "COMPLETED"}
        ]

    text = server.log_text()
    assert token not in text
    assert PASSWORD not in text
    assert "Traceback" not in text, text
    entries = _log_entries(text)
    assert not [entry for entry in entries if entry.get("level") in ("error", "critical")], text
    requests = [entry for entry in entries if {"method", "path", "status"} <= entry.keys()]
    seen = {(entry["method"], entry["path"], entry["status"]) for entry in requests}
    assert {
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("GET", "/graphql", 404),
        ("POST", "/graphql", 200),
    } <= seen, seen
    assert sum(entry["method"] == "POST" for entry in requests) >= 7
    assert all("?" not in str(entry["path"]) for entry in requests)
