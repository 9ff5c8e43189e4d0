"""DataLoaders: each batch opens its own short session, so concurrent fields never share one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from casetasks.db import SessionFactory
from models import Client, ServiceProvider, ServiceProviderGroup, Staff, TaskEvent
from services import lookups

V = TypeVar("V")
Fetch = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, V]]]


def _loader(
    factory: SessionFactory, fetch: Fetch[V], default: Callable[[], V] | None, cache: bool
) -> DataLoader[int, V | None]:
    async def load(keys: list[int]) -> list[V | None]:
        async with factory() as session:
            found = await fetch(session, keys)
        return [found.get(k, default() if default else None) for k in keys]

    return DataLoader(load_fn=load, cache=cache)


@dataclass(frozen=True)
class Loaders:
    staff: DataLoader[int, Staff | None]
    client: DataLoader[int, Client | None]
    provider: DataLoader[int, ServiceProvider | None]
    group: DataLoader[int, ServiceProviderGroup | None]
    responsible: DataLoader[int, list[Staff] | None]
    history: DataLoader[int, list[TaskEvent] | None]
    provider_staff: DataLoader[int, list[Staff] | None]

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
            provider_staff=_loader(factory, lookups.staff_of_providers, list, cache),
        )
