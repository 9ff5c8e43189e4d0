"""The Node interface and the helpers that let ORM rows stand for GraphQL objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import strawberry
from sqlmodel import SQLModel
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from resolvers.context import Context
from schema.ids import to_global_id

GraphQLInfo = Info[Context, None]


@strawberry.interface
class Node:
    id: strawberry.ID


# The context of the operation being executed, for fields computed without a resolver.
CURRENT_CONTEXT: ContextVar[Context] = ContextVar("casetasks_context")

Computed = Callable[[Any, Context], Any]
_COMPUTED: dict[tuple[type, str], Computed] = {}


def computed(row_class: type, field_name: str) -> Callable[[Computed], Computed]:
    """Registers how a row's field is derived (a relation through a loader, `overdue`...).

    Strawberry gives a field with a resolver of its own a costly path (argument parsing, an
    Info object, extension wrapping: about 40 µs a field here), while a field without one only
    calls the default resolver. On a page of fifty tasks with relations that is most of the
    Python time, so the derived fields of rows are plain fields resolved by `resolve_attribute`.
    """

    def register(compute: Computed) -> Computed:
        _COMPUTED[(row_class, field_name)] = compute
        return compute

    return register


def resolve_attribute(obj: Any, name: str) -> Any:
    """Strawberry's resolver for fields without one: registered computed fields first; a row's
    `id` is its global ID (row classes are named like their GraphQL types); else the attribute.
    A computed field may return an awaitable, which execution awaits."""
    compute = _COMPUTED.get((type(obj), name))
    if compute is not None:
        return compute(obj, CURRENT_CONTEXT.get())
    if name == "id" and isinstance(obj, SQLModel):
        return to_global_id(type(obj).__name__, obj.id or 0)  # type: ignore[attr-defined]
    return getattr(obj, name)


class BindContext(SchemaExtension):
    """Makes the operation's context reachable from `resolve_attribute`."""

    def on_operation(self) -> Iterator[None]:
        token = CURRENT_CONTEXT.set(self.execution_context.context)
        try:
            yield
        finally:
            CURRENT_CONTEXT.reset(token)


def row_type_check(*row_classes: type) -> Any:
    """is_type_of for a GraphQL type whose resolvers hand back ORM rows of row_classes."""

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, *row_classes))

    return classmethod(is_type_of)
