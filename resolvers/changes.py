"""A change: one unit of work, and its events published once it has committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from casetasks.db import unit_of_work
from resolvers.context import Context
from services.outbox import take
from subscriptions.publisher import publish_committed


@asynccontextmanager
async def change(ctx: Context) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(ctx.session_factory) as session:
        yield session
    # Committed: a request cancelled now (its client gone, its time budget spent) still publishes.
    await asyncio.shield(publish_committed(ctx.services.hub, take(session)))
