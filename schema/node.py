"""The Node interface and the helpers that let ORM rows stand for GraphQL objects."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers.context import Context

GraphQLInfo = Info[Context, None]


@strawberry.interface
class Node:
    id: strawberry.ID


def row_type_check(*row_classes: type) -> Any:
    """is_type_of for a GraphQL type whose resolvers hand back ORM rows of row_classes."""

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, *row_classes))

    return classmethod(is_type_of)
