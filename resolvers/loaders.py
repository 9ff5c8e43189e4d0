"""DataLoaders: each batch opens its own short session, so concurrent fields never share one.

A list resolver prefetches the relations its selection asks for (one statement per relation);
field resolvers then take the loaded values synchronously with `Loader.get`, which saves a
coroutine per row and field on the hot path of the Tasks page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from casetasks.db import SessionFactory
from models import (
    Client,
    Employment,
    ServiceProvider,
    ServiceProviderGroup,
    Staff,
    Task,
    TaskEvent,
    TaskSeries,
)
from services import lookups

V = TypeVar("V")
Fetch = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, Any]]]


class Loader(DataLoader[int, V], Generic[V]):
    def load(self, key: int) -> Awaitable[V]:
        """The value's future, shielded: fields share it, and graphql-core cancels a field
        whose sibling failed; that must not cancel the load for the other fields waiting."""
        return asyncio.shield(super().load(key))

    def get(self, key: int) -> V | Awaitable[V]:
        """The value when already loaded, else an awaitable for it."""
        future = self.cache_map.get(key) if self.cache else None
        if future is not None and future.done() and future.exception() is None:
            return future.result()
        return self.load(key)

    async def prefetch(self, keys: Iterable[int]) -> None:
        wanted = {k for k in keys if k is not None}
        if wanted:
            await self.load_many(wanted)

    def forget(self, key: int) -> None:
        if self.cache and self.cache_map.get(key) is not None:
            self.clear(key)


def _loader(
    factory: SessionFactory, fetch: Fetch, default: Callable[[], Any] | None, cache: bool
) -> Loader[Any]:
    async def load(keys: list[int]) -> list[Any]:
        async with factory() as session:
            found = await fetch(session, keys)
        return [found.get(k, default() if default else None) for k in keys]

    return Loader(load_fn=load, cache=cache)


@dataclass(frozen=True)
class Loaders:
    staff: Loader[Staff | None]
    client: Loader[Client | None]
    provider: Loader[ServiceProvider | None]
    group: Loader[ServiceProviderGroup | None]
    responsible: Loader[list[Staff]]
    history: Loader[list[TaskEvent]]
    task: Loader[Task | None]
    employments: Loader[list[Employment]]
    series: Loader[TaskSeries | None]

    @classmethod
    def create(cls, factory: SessionFactory, cache: bool = True) -> Loaders:
        """cache=False for websocket connections, which live across many events."""
        return cls(
            staff=_loader(factory, lookups.staff_by_id, None, cache),
            client=_loader(factory, lookups.clients_by_id, None, cache),
            provider=_loader(factory, lookups.providers_by_id, None, cache),
            group=_loader(factory, lookups.groups_by_id, None, cache),
            responsible=_loader(factory, lookups.responsible_by_task, list, cache),
            history=_loader(factory, lookups.events_by_task, list, cache),
            task=_loader(factory, lookups.tasks_by_id, None, cache),
            employments=_loader(factory, lookups.employments_by_client, list, cache),
            series=_loader(factory, lookups.series_by_id, None, cache),
        )
