"""Connections: edges with opaque cursors, page info and totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from models import Client as ClientRow
from models import Task as TaskRow
from services.pagination import Page

if TYPE_CHECKING:
    from schema.people import Client
    from schema.tasks import Task

E = TypeVar("E")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next_page, end_cursor=page.end_cursor)


def edges(page: Page[Any], edge: Callable[..., E]) -> list[E]:
    """The page's rows, each with its cursor; the rows stand for the GraphQL nodes."""
    return [edge(cursor=c, node=row) for c, row in zip(page.cursors, page.rows, strict=True)]


@strawberry.type
class TaskEdge:
    cursor: str
    node: Annotated[Task, strawberry.lazy("schema.tasks")]


@strawberry.type
class TaskConnection:
    edges: list[TaskEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[TaskRow], total_count: int) -> TaskConnection:
        return cls(
            edges=edges(page, TaskEdge), page_info=PageInfo.of(page), total_count=total_count
        )


@strawberry.type
class ClientEdge:
    cursor: str
    node: Annotated[Client, strawberry.lazy("schema.people")]


@strawberry.type
class ClientConnection:
    edges: list[ClientEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[ClientRow], total_count: int) -> ClientConnection:
        return cls(
            edges=edges(page, ClientEdge), page_info=PageInfo.of(page), total_count=total_count
        )
