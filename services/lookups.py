"""Batch reads behind the DataLoaders: one statement per relation, whatever the page size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Client,
    Employment,
    ServiceProvider,
    ServiceProviderGroup,
    Staff,
    Task,
    TaskEvent,
    TaskResponsible,
    TaskSeries,
)


async def staff_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Staff]:
    rows = await session.scalars(select(Staff).where(col(Staff.id).in_(ids)))
    return {row.id: row for row in rows if row.id is not None}


async def clients_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Client]:
    rows = await session.scalars(select(Client).where(col(Client.id).in_(ids)))
    return {row.id: row for row in rows if row.id is not None}


async def providers_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, ServiceProvider]:
    query = select(ServiceProvider).where(col(ServiceProvider.id).in_(ids))
    return {row.id: row for row in await session.scalars(query) if row.id is not None}


async def groups_by_id(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, ServiceProviderGroup]:
    query = select(ServiceProviderGroup).where(col(ServiceProviderGroup.id).in_(ids))
    return {row.id: row for row in await session.scalars(query) if row.id is not None}


async def responsible_by_task(
    session: AsyncSession, task_ids: Sequence[int]
) -> dict[int, list[Staff]]:
    rows = await session.execute(
        select(col(TaskResponsible.task_id), Staff)
        .join(Staff, col(Staff.id) == col(TaskResponsible.staff_id))
        .where(col(TaskResponsible.task_id).in_(task_ids))
        .order_by(col(TaskResponsible.task_id), col(TaskResponsible.position))
    )
    found: dict[int, list[Staff]] = defaultdict(list)
    for task_id, staff in rows:
        found[task_id].append(staff)
    return found


async def events_by_task(
    session: AsyncSession, task_ids: Sequence[int]
) -> dict[int, list[TaskEvent]]:
    rows = await session.scalars(
        select(TaskEvent)
        .where(col(TaskEvent.task_id).in_(task_ids))
        .order_by(col(TaskEvent.task_id), col(TaskEvent.version), col(TaskEvent.id))
    )
    found: dict[int, list[TaskEvent]] = defaultdict(list)
    for event in rows:
        found[event.task_id].append(event)
    return found


async def tasks_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Task]:
    rows = await session.scalars(select(Task).where(col(Task.id).in_(ids)))
    return {row.id: row for row in rows if row.id is not None}


async def employments_by_client(
    session: AsyncSession, client_ids: Sequence[int]
) -> dict[int, list[Employment]]:
    rows = await session.scalars(
        select(Employment)
        .where(col(Employment.client_id).in_(client_ids))
        .order_by(col(Employment.start_date), col(Employment.id))
    )
    found: dict[int, list[Employment]] = defaultdict(list)
    for employment in rows:
        found[employment.client_id].append(employment)
    return found


async def provider_name(session: AsyncSession, provider_id: int) -> str:
    provider = await session.get(ServiceProvider, provider_id)
    return provider.name if provider else "another provider"


async def series_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, TaskSeries]:
    rows = await session.scalars(select(TaskSeries).where(col(TaskSeries.id).in_(ids)))
    return {row.id: row for row in rows if row.id is not None}
