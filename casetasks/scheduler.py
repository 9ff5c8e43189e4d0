"""The server's timed work: making the occurrences of repeating tasks that are due (also
`casetasks materialize`) and the reminder pass (also `casetasks remind`). Safe with several
instances: each series is materialized under its row lock, occurrences have a unique key per
series and scheduled date, and each reminder is claimed under a unique key before it is sent."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiosmtplib
from sqlalchemy import select

from casetasks.db import unit_of_work
from models import DigestEmail, DigestStatus, ServiceProvider
from resolvers.context import Services
from services import digests, reminders, series
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


async def remind_due(services: Services, every_day_pass: bool = False) -> reminders.Sent:
    """Escalations for every provider, and the day's reminders of each provider whose
    sendAtHour has come and whose day has not been done (every_day_pass: done or not, as
    `casetasks remind` does; the claims keep anything from going out twice)."""
    now = services.clock.now()
    async with services.session_factory() as session:
        provider_ids = list(await session.scalars(select(ServiceProvider.id)))  # type: ignore[call-overload]
    sent = reminders.Sent()
    for provider_id in provider_ids:
        async with unit_of_work(services.session_factory) as session:
            provider = await session.get(ServiceProvider, provider_id)
            if provider is None:
                continue
            if reminders.day_is_due(provider, now, again=every_day_pass):
                sent.add(await reminders.day_pass(session, provider, now))
                if services.mailer is not None:
                    sent.digests += await digests.queue(session, provider, now)
            sent.escalations += await reminders.escalations(session, provider, now)
        await publish_committed(services.hub, take(session))
    return sent


async def send_digests(services: Services) -> int:
    """Sends the digests due now (claimed one by one, so instances share the work)."""
    mailer = services.mailer
    if mailer is None:
        return 0
    async with services.session_factory() as session:
        due = await digests.due_ids(session, services.clock.now())
    sent = 0
    for digest_id in due:
        async with unit_of_work(services.session_factory) as session:
            row = await digests.claim(session, digest_id, services.clock.now())
            message = digests.message_of(row) if row is not None else None
        if message is None:
            continue
        failure: Exception | None = None
        try:
            await mailer.send(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            failure = error
        async with unit_of_work(services.session_factory) as session:
            row = await session.get(DigestEmail, digest_id)
            assert row is not None
            if failure is None:
                row.status = DigestStatus.SENT.value
                row.sent_at = services.clock.now()
                sent += 1
            else:
                digests.after_failure(row, failure, services.clock.now())
    return sent


async def run_one_tick(services: Services) -> None:
    """Every job once, each counted in /metrics and failing alone."""
    jobs = (("materialize", materialize_due), ("remind", remind_due), ("digests", send_digests))
    for name, job in jobs:
        outcome = "failed"
        try:
            done = await job(services)
            outcome = "ok"
            if done:
                log.info("%s: %s", name, done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; trying again later", name)
        if services.metrics is not None:
            services.metrics.scheduler_passes.labels(outcome).inc()


async def run_periodically(services: Services, interval_seconds: float) -> None:
    """Catches up at once (a server that was down makes what it missed and sends the day's
    reminders), then on a timer."""
    while True:
        await run_one_tick(services)
        await asyncio.sleep(interval_seconds)
