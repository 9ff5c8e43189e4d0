"""Load a page's relations before its rows resolve: one statement per selected relation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from models import ServiceProvider as ServiceProviderRow
from models import Task as TaskRow
from resolvers.context import Context
from schema.node import GraphQLInfo


def _names(selections: Iterable[Any], into: set[str], path: Sequence[str]) -> None:
    for selection in selections:
        name = getattr(selection, "name", None)
        if name is None:  # a fragment: its fields belong to the same level
            _names(selection.selections, into, path)
        elif not path:
            into.add(name)
        elif name == path[0]:
            _names(selection.selections, into, path[1:])


def node_fields(info: GraphQLInfo) -> set[str]:
    """The field names selected under edges { node { ... } } of this connection field."""
    found: set[str] = set()
    for field in info.selected_fields:
        _names(field.selections, found, ("edges", "node"))
    return found


async def prefetch_tasks(ctx: Context, rows: Sequence[TaskRow], fields: set[str]) -> None:
    if not rows:
        return
    loaders = ctx.loaders
    staff_ids: set[int] = set()
    client_ids: set[int] = set()
    provider_ids: set[int] = set()
    jobs: list[Awaitable[None]] = []
    if "responsible" in fields:
        jobs.append(loaders.responsible.prefetch(r.id for r in rows if r.id is not None))
    if "history" in fields:
        jobs.append(loaders.history.prefetch(r.id for r in rows if r.id is not None))
    if "client" in fields:
        client_ids.update(r.client_id for r in rows if r.client_id is not None)
    if "createdBy" in fields:
        staff_ids.update(r.created_by_id for r in rows if r.created_by_id is not None)
    if "completedBy" in fields:
        staff_ids.update(r.completed_by_staff_id for r in rows if r.completed_by_staff_id)
        client_ids.update(r.completed_by_client_id for r in rows if r.completed_by_client_id)
    if "serviceProvider" in fields:
        provider_ids.update(r.provider_id for r in rows)
    if "originProvider" in fields:
        provider_ids.update(r.origin_provider_id for r in rows)
    if "overdue" in fields:  # judged in each task's provider's timezone
        provider_ids.update(r.provider_id for r in rows if r.provider_id not in ctx.timezones)
    jobs += [
        loaders.staff.prefetch(staff_ids),
        loaders.client.prefetch(client_ids),
        loaders.provider.prefetch(provider_ids),
    ]
    await asyncio.gather(*jobs)
    for provider_id in provider_ids:
        provider = loaders.provider.get(provider_id)
        if isinstance(provider, ServiceProviderRow):
            ctx.timezones.setdefault(provider_id, provider.timezone)
