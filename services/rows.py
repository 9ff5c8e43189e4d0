"""One row by id for a viewer: a row that does not exist and one the viewer may not see are the
same NotFound, so another provider's records cannot be told from missing ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.errors import NotFound

Row = TypeVar("Row", bound=SQLModel)


async def visible_row(
    session: AsyncSession,
    model: type[Row],
    row_id: int,
    visible: Callable[[Row], bool],
    *,
    lock: bool = False,
) -> Row:
    """The row, under its row lock with lock=True (to change it), when visible(row) holds."""
    row = await session.get(model, row_id, with_for_update=lock)
    if row is None or not visible(row):
        raise NotFound()
    return row
