"""The installed `casetasks` command, run from a folder outside the repository."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from casetasks.db import create_engine
from schema.ids import from_global_id
from tests.processes import Finished, empty_database, process_env, run_cli

PASSWORD = "a long enough password"


@dataclass
class Cli:
    database_url: str
    cwd: Path

    async def __call__(self, *args: str) -> Finished:
        return await run_cli(*args, env=process_env(self.database_url), cwd=self.cwd)

    async def ok(self, *args: str) -> str:
        finished = await self(*args)
        assert finished.returncode == 0, finished
        return finished.stdout

    async def create_provider(self, email: str, *extra: str, **options: str) -> Finished:
        arguments = {
            "name": "Westside Employment",
            "timezone": "Australia/Perth",
            "admin-name": "Wendy Admin",
            "admin-email": email,
            "admin-password": PASSWORD,
            **{key.replace("_", "-"): value for key, value in options.items()},
        }
        flags = [part for key, value in arguments.items() for part in (f"--{key}", value)]
        return await self("create-provider", *flags, *extra)

    async def count(self, table: str) -> int:
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    async with empty_database(request.param, tmp_path) as url:
        yield Cli(url, workdir)


@pytest.fixture
def migrated(database_url: str, tmp_path: Path) -> Cli:
    """A database already at head (conftest's migrated copy), for the commands after migrate."""
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    return Cli(database_url, workdir)


@pytest.fixture
def no_database(tmp_path: Path) -> Cli:
    """For arguments refused before any database is touched."""
    return Cli(f"sqlite+aiosqlite:///{tmp_path / 'never-created.db'}", tmp_path)


def assert_one_line_refusal(finished: Finished, *words: str) -> str:
    assert finished.returncode != 0, finished
    assert "Traceback" not in finished.stderr, finished.stderr
    assert len(finished.stderr_lines) == 1, finished.stderr
    line = finished.stderr_lines[0]
    assert line.startswith("casetasks: "), line
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def decoded(global_id: Any, type_name: str) -> int:
    assert isinstance(global_id, str)
    assert not global_id.isdigit(), f"{global_id!r} is not opaque"
    parsed = from_global_id(global_id)
    assert parsed is not None and parsed[0] == type_name, global_id
    return parsed[1]


async def test_migrate_twice_leaves_the_database_at_head(cli: Cli) -> None:
    for _ in range(2):
        assert "latest revision" in await cli.ok("migrate")
    assert await cli.count("alembic_version") == 1
    assert await cli.count("service_provider") == 0
    assert not any(cli.cwd.iterdir()), "the command wrote files into the working directory"


async def test_create_provider_prints_opaque_ids(migrated: Cli) -> None:
    finished = await migrated.create_provider("Wendy@Westside.example")
    assert finished.returncode == 0, finished
    created = json.loads(finished.stdout)
    decoded(created["provider"]["id"], "ServiceProvider")
    decoded(created["administrator"]["id"], "Staff")
    assert created["provider"]["timezone"] == "Australia/Perth"
    assert created["administrator"]["email"] == "wendy@westside.example"
    assert created["group"] is None
    assert await migrated.count("staff") == 1


async def test_group_is_created_once_and_reused(migrated: Cli) -> None:
    outputs = []
    for n, email in enumerate(["one@group.example", "two@group.example"]):
        finished = await migrated.create_provider(
            email, "--group-admin", name=f"Member {n}", group="Coastal Network"
        )
        assert finished.returncode == 0, finished
        outputs.append(json.loads(finished.stdout))
    first, second = (output["group"] for output in outputs)
    assert first["name"] == second["name"] == "Coastal Network"
    assert first["id"] == second["id"]
    decoded(first["id"], "ServiceProviderGroup")
    assert outputs[0]["provider"]["id"] != outputs[1]["provider"]["id"]
    assert all(output["administrator"]["isGroupAdministrator"] for output in outputs)
    assert await migrated.count("service_provider_group") == 1
    assert await migrated.count("service_provider") == 2


async def test_duplicate_administrator_email_is_refused(migrated: Cli) -> None:
    assert (await migrated.create_provider("taken@example.org")).returncode == 0
    again = await migrated.create_provider("TAKEN@example.org", name="Another Provider")
    assert_one_line_refusal(again, "email")
    assert again.stdout == ""
    assert await migrated.count("service_provider") == 1


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"admin_password": "short"}, ["password"]),
    ],
    ids=["bad-timezone", "short-password"],
)
async def test_invalid_values_are_refused_in_one_line(
    migrated: Cli, options: dict[str, str], words: list[str]
) -> None:
    finished = await migrated.create_provider("someone@example.org", **options)
    assert_one_line_refusal(finished, *words)
    assert await migrated.count("service_provider") == 0


async def test_missing_required_argument_is_refused_in_one_line(no_database: Cli) -> None:
    finished = await no_database("create-provider", "--name", "No Admin", "--timezone", "UTC")
    assert_one_line_refusal(finished, "--admin-name")
    assert not (no_database.cwd / "never-created.db").exists()


async def test_unknown_command_is_refused_in_one_line(no_database: Cli) -> None:
    assert_one_line_refusal(await no_database("frobnicate"), "frobnicate")


async def test_demo_loads_once_and_prints_logins(migrated: Cli) -> None:
    first = await migrated.ok("demo")
    assert "Demo loaded" in first
    assert "ana@northside.example" in first
    assert "demo-password" in first
    counts = {table: await migrated.count(table) for table in ("service_provider", "staff", "task")}
    assert counts["service_provider"] == 2
    assert counts["task"] > 0

    second = await migrated.ok("demo")
    assert "already loaded" in second
    assert "ana@northside.example" in second
    assert {table: await migrated.count(table) for table in counts} == counts


async def test_demo_leaves_a_database_with_other_data_alone(migrated: Cli) -> None:
    assert (await migrated.create_provider("owner@real.example")).returncode == 0
    assert "not loaded" in await migrated.ok("demo")
    assert await migrated.count("service_provider") == 1
