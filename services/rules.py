"""Rules that depend on a row, written once as data.

A rule is a list of alternatives; an alternative is a conjunction of tests on a row's
attributes ("status equals OPEN", "due_date is before 2027-03-01"). `holds` evaluates a rule on
a loaded row; SQLAlchemy conditions (services) and the read planner's SQL (resolvers/planner)
are rendered from the same data, so every path applies one rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from models import TaskStatus


@dataclass(frozen=True, slots=True)
class Equals:
    """attribute == value."""

    attribute: str
    value: int | bool | str | None


@dataclass(frozen=True, slots=True)
class Before:
    """attribute < value (a calendar date)."""

    attribute: str
    value: date


Test = Equals | Before

Alternative = tuple[Test, ...]
"""All of its tests hold. An empty alternative always holds."""


def passes(test: Test, value: Any) -> bool:
    if isinstance(test, Before):
        return value is not None and value < test.value
    return bool(value == test.value)


def holds(alternatives: Sequence[Alternative], row: Mapping[str, Any]) -> bool:
    """Whether any alternative holds for a row given as attribute -> value."""
    return any(all(passes(t, row[t.attribute]) for t in tests) for tests in alternatives)


def overdue(today: date) -> Alternative:
    """Open and due before today (today in the task's provider's timezone)."""
    return (Equals("status", TaskStatus.OPEN.value), Before("due_date", today))
