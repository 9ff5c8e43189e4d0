"""The Node interface and the helpers that let ORM rows stand for GraphQL objects."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlmodel import SQLModel
from strawberry.types import Info

from resolvers.context import Context
from schema.ids import to_global_id

GraphQLInfo = Info[Context, None]


@strawberry.interface
class Node:
    id: strawberry.ID


def resolve_attribute(obj: Any, name: str) -> Any:
    """Strawberry's resolver for fields without one: a row's `id` is its global ID.

    Row classes are named like their GraphQL types, so `id` needs no resolver of its own; plain
    attributes take Strawberry's fast path, which matters on a page of fifty tasks.
    """
    if name == "id" and isinstance(obj, SQLModel):
        return to_global_id(type(obj).__name__, obj.id or 0)  # type: ignore[attr-defined]
    return getattr(obj, name)


def row_type_check(*row_classes: type) -> Any:
    """is_type_of for a GraphQL type whose resolvers hand back ORM rows of row_classes."""

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, *row_classes))

    return classmethod(is_type_of)
