"""Keyset pagination: opaque cursors holding the sort key of the last row seen.

Offsets shift when rows are inserted above the page; a sort key does not.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.errors import BadRequest

T = TypeVar("T")

MAX_PAGE_SIZE = 200
# What a page holds when first is null.
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def check_page_size(first: int | None, limit: int = MAX_PAGE_SIZE) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > limit:
        raise BadRequest(f"first must be between 0 and {limit}, got {first}")
    return first


def encode_cursor(order: str, key: Sequence[Any]) -> str:
    # Non-ASCII stays as UTF-8 (a JSON parser reads both): the read planner writes the same
    # bytes in SQL.
    raw = json.dumps([order, *key], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("after is not a cursor returned by this list") from None
    if not isinstance(values, list) or len(values) != arity + 1 or values[0] != order:
        raise BadRequest("after is not a cursor returned by this list (or its order changed)")
    return values[1:]
