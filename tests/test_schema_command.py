"""`casetasks schema` prints the served schema's SDL for client code generators: from any
directory, without settings or a database, the same schema the server answers introspection
with, descriptions included."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from graphql import build_schema, lexicographic_sort_schema, print_schema

import schema
from tests.processes import casetasks_command


def test_the_printed_sdl_is_the_served_schema(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in {"DATABASE_URL", "SECRET_KEY", "BROADCAST_URL"}
    }
    env["CASETASKS_ENV"] = "production"  # no secret key set: the command must not need one
    printed = subprocess.run(
        [casetasks_command(), "schema"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    served = schema.build_schema()._schema
    sort = lexicographic_sort_schema
    expected = build_schema(print_schema(served))  # strawberry's enums, as SDL
    assert print_schema(sort(build_schema(printed))) == print_schema(sort(expected))
    assert '"""A page of tasks."""' in printed
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran
