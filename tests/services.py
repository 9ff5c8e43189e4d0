"""Where the real PostgreSQL and Redis are, and whether a missing one fails or skips the run."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "CASETASKS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CASETASKS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("CASETASKS_REQUIRE_SERVICES") == "1"


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def need(name: str, url: str, default_port: int) -> None:
    """Skip without the service, unless CASETASKS_REQUIRE_SERVICES=1 makes that a failure."""
    if reachable(url, default_port):
        return
    message = f"{name} is not reachable at {urlsplit(url).hostname}:{urlsplit(url).port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and CASETASKS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def need_npm_package(folder: Path, package: str) -> None:
    """Skip without node or tests/<folder>'s npm packages (scripts/ensure_npm_packages.sh, run
    by `make test`), unless CASETASKS_REQUIRE_SERVICES=1 makes that a failure."""
    if shutil.which("node") is not None and (folder / "node_modules" / package).is_dir():
        return
    message = f"node and {package} (bash scripts/ensure_npm_packages.sh) are needed"
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
