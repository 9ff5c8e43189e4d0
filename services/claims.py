"""Rows whose unique key is a claim: whoever inserts first has it, and the others insert
nothing (INSERT ... ON CONFLICT DO NOTHING), so work that several instances may start at once
(a reminder, a day's digest) happens once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_unless_claimed(session: AsyncSession, table: Any) -> Any:
    """An INSERT into `table` that skips rows whose key is taken; add .values and .returning."""
    bind = session.bind
    dialect = postgresql if bind is not None and bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()
