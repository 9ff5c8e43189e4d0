"""Makes the occurrences of repeating tasks that are due: on a timer inside the server, and as
`casetasks materialize`. Safe with several instances: each series is materialized under its row
lock, and occurrences have a unique key per series and scheduled date."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from casetasks.db import unit_of_work
from resolvers.context import Services
from services import series
from services.outbox import take
from subscriptions.publisher import publish_committed

log = logging.getLogger("casetasks.scheduler")

# The furthest any timezone's calendar runs ahead of UTC.
_EARLIEST_OFFSET = timedelta(hours=14)


async def materialize_due(services: Services) -> int:
    """One pass over the series that may have occurrences due; returns how many were made."""
    now = services.clock.now()
    latest_today = (now + _EARLIEST_OFFSET).date() + timedelta(days=services.series_lead_days)
    async with services.session_factory() as session:
        candidates = await series.due_series_ids(
            session, latest_today, services.clock, services.series_lead_days
        )
    made = 0
    for series_id in candidates:
        async with unit_of_work(services.session_factory) as session:
            made += len(
                await series.materialize_one(
                    session, series_id, services.clock, services.series_lead_days
                )
            )
        await publish_committed(services.hub, take(session))
    return made


async def run_periodically(services: Services, interval_seconds: float) -> None:
    """Catches up at once (a server that was down makes what it missed), then on a timer."""
    while True:
        outcome = "failed"
        try:
            made = await materialize_due(services)
            outcome = "ok"
            if made:
                log.info("made %d occurrences of repeating tasks", made)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("materializing repeating tasks failed; trying again later")
        if services.metrics is not None:
            services.metrics.scheduler_passes.labels(outcome).inc()
        await asyncio.sleep(interval_seconds)
