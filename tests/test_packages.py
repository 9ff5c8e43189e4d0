"""Our top-level packages share names with PyPI projects: make sure the imported ones are ours."""

from __future__ import annotations

import importlib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ["casetasks", "models", "services", "resolvers", "schema", "subscriptions", "migrations"]
# Names taken on PyPI by unrelated projects; installing one would shadow or break ours.
STRANGERS = ["schema", "models", "subscriptions", "services", "resolvers", "migrations"]


@pytest.mark.parametrize("name", OURS)
def test_package_is_the_repositorys_own(name: str) -> None:
    package = importlib.import_module(name)
    file = getattr(package, "__file__", None)
    assert file is not None, f"{name} is a namespace package: add {name}/__init__.py"
    path = Path(file).resolve()
    assert path == ROOT / name / "__init__.py", f"{name} is imported from {path}"


@pytest.mark.parametrize("name", STRANGERS)
def test_no_pypi_distribution_of_that_name(name: str) -> None:
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution(name)
