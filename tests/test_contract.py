"""The served schema against the public contract (tests/contract/schema.graphql).

PENDING lists the contract's parts not built yet, as graphql-core describes their absence.
Building one makes its line fail here until it is removed; any other break fails at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DangerousChangeType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

import schema

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "tests" / "contract" / "schema.graphql"
SHARED_CONTRACT = ROOT.parent / "shared" / "contract" / "schema.graphql"

# Contract version 2 is built in full.
PENDING: frozenset[str] = frozenset()

# The contract's own words: the schema "may add more (new optional arguments, new fields,
# new types)". Every other dangerous change (a changed default, a new enum value or union
# member) alters what existing clients see.
ALLOWED_ADDITIONS = frozenset(
    {DangerousChangeType.OPTIONAL_ARG_ADDED, DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED}
)


def contract() -> GraphQLSchema:
    return build_schema(CONTRACT.read_text())


def served() -> GraphQLSchema:
    return schema.build_schema()._schema


def test_no_breaking_changes_beyond_the_pending_list() -> None:
    breaking = {change.description for change in find_breaking_changes(contract(), served())}
    built = sorted(PENDING - breaking)
    broken = sorted(breaking - PENDING)
    assert not built, "built now, remove from PENDING:\n" + "\n".join(built)
    assert not broken, "the served schema breaks the contract:\n" + "\n".join(broken)


def test_no_dangerous_changes() -> None:
    dangerous = [
        f"{change.type.name}: {change.description}"
        for change in find_dangerous_changes(contract(), served())
        if change.type not in ALLOWED_ADDITIONS
    ]
    assert dangerous == []


def test_contract_copy_matches_the_shared_contract() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"no shared contract at {SHARED_CONTRACT}")
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text()
