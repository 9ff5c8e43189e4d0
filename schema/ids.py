"""Opaque global IDs: base64 of "Type:key". Clients must not build or parse them."""

from __future__ import annotations

import base64
import binascii

TYPE_NAMES = frozenset(
    {
        "Task",
        "Staff",
        "Client",
        "ServiceProvider",
        "ServiceProviderGroup",
        "TaskSeries",
        "Notification",
        "Employment",
    }
)


# Keys are 32-bit INTEGER primary keys: a larger number names no row, and must not reach the
# database (PostgreSQL refuses it as a query argument, which would surface as INTERNAL).
MAX_KEY = 2**31 - 1


def to_global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    try:
        raw = base64.urlsafe_b64decode((global_id + "=" * (-len(global_id) % 4)).encode())
        type_name, _, key = raw.decode().partition(":")
        if type_name not in TYPE_NAMES or not (key.isascii() and key.isdigit()):
            return None
        return (type_name, int(key)) if int(key) <= MAX_KEY else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def key_of(global_id: str | None, type_name: str) -> int:
    """The key of an ID of the given type; 0 (which no row has) for anything else."""
    if global_id is None:
        return 0
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        return 0
    return decoded[1]
