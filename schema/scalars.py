"""The contract's Date and DateTime scalars.

An impossible date ("2027-02-30") in a mutation's input must come back as a user error naming the
field, not as a GraphQL validation failure, so Date parsing hands such text on as InvalidDate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import strawberry
from graphql import StringValueNode, ValueNode

from services.validation import InvalidDate


def _serialize_date(value: date) -> str:
    return value.isoformat()


def _parse_date(value: Any) -> date | InvalidDate:
    if not isinstance(value, str):
        raise ValueError("Date must be a string in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else InvalidDate(value)
    except ValueError:
        return InvalidDate(value)


def _parse_date_literal(node: ValueNode, _variables: Any = None) -> date | InvalidDate:
    if not isinstance(node, StringValueNode):
        raise ValueError("Date must be a string in the form YYYY-MM-DD")
    return _parse_date(node.value)


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs an offset, e.g. 2027-03-01T09:00:00+00:00")
    return parsed.astimezone(UTC)


DateScalar = strawberry.scalar(
    name="Date",
    description='An ISO-8601 calendar date, e.g. "2027-03-01".',
    serialize=_serialize_date,
    parse_value=_parse_date,
    parse_literal=_parse_date_literal,
)

DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 instant with an offset, in UTC.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

SCALAR_OVERRIDES: dict[object, Any] = {date: DateScalar, datetime: DateTimeScalar}
