"""SQL text for the read planner, in PostgreSQL's and SQLite's words.

A planned operation is one statement whose single value is the response's `data` as JSON text.
PostgreSQL assembles it with json_build_object and json_agg; SQLite with json_object and
json_group_array, plus a few functions registered on its connections (`install_sqlite`) for
what it cannot spell: base64 ids and cursors, instants in UTC, a date in a timezone.
Parameters are numbered ($1 / ?1), so fragments may be built in any order and share values.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.pagination import encode_cursor
from services.recurrence import rule_of

# A JSON object of more pairs than this is not planned (PostgreSQL's functions take 100 args).
MAX_PAIRS = 50


def quote(text: str) -> str:
    """A SQL string literal (for names the planner itself chose: keys, type names)."""
    return "'" + text.replace("'", "''") + "'"


_MARK = re.compile("\x00(\\d+):([a-z]*)\x00")


class Statement:
    """Collects parameters while SQL text is built; `finish` numbers the ones the text uses
    (a fragment built and then left out must not leave a parameter PostgreSQL cannot type)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._values: list[Any] = []
        self._indexes: dict[tuple[type, Any], int] = {}

    def param(self, value: Any, cast: str = "") -> str:
        """A placeholder for value; the same value shares one parameter."""
        key = (type(value), value)
        index = self._indexes.get(key)
        if index is None:
            self._values.append(self.dialect.adapt(value))
            index = self._indexes[key] = len(self._values) - 1
        return f"\x00{index}:{cast}\x00"

    def finish(self, text: str) -> tuple[str, list[Any]]:
        numbers: dict[int, int] = {}
        values: list[Any] = []

        def number(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if index not in numbers:
                values.append(self._values[index])
                numbers[index] = len(values)
            return self.dialect.placeholder(numbers[index], match.group(2))

        return _MARK.sub(number, text), values


class Dialect(ABC):
    """What differs between PostgreSQL and SQLite in the planner's SQL."""

    name = ""

    @abstractmethod
    def placeholder(self, number: int, cast: str) -> str: ...

    def adapt(self, value: Any) -> Any:
        return value

    @abstractmethod
    def obj(self, pairs: list[tuple[str, str]]) -> str: ...

    @abstractmethod
    def array(self, element: str, source: str, order: str) -> str:
        """A JSON array of element for each row of `FROM source`, in order; [] for none."""

    def json_value(self, expression: str) -> str:
        """A JSON value (object, array) coming out of a scalar subquery."""
        return expression

    def boolean(self, expression: str) -> str:
        return expression

    @abstractmethod
    def literal_json(self, text: str) -> str: ...

    @abstractmethod
    def global_id(self, type_name: str, key: str) -> str: ...

    @abstractmethod
    def instant(self, column: str) -> str:
        """A stored instant as the DateTime scalar writes it (isoformat in UTC)."""

    @abstractmethod
    def cursor(self, order: str, keys: list[tuple[str, str]]) -> str:
        """encode_cursor(order, keys); each key as (SQL expression, kind: int/text/date/instant)."""

    @abstractmethod
    def local_date(self, instant_param: str, timezone: str) -> str: ...

    @abstractmethod
    def first_line(self, text: str) -> str:
        """The text up to its first newline, without a leading "RRULE:" (see rule_of)."""

    def coalesce_count(self, source: str) -> str:
        return f"(SELECT count(*) FROM {source})"


class Postgres(Dialect):
    name = "postgresql"

    def placeholder(self, number: int, cast: str) -> str:
        return f"${number}::{cast}" if cast else f"${number}"

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{quote(key)}, {value}" for key, value in pairs)
        return f"json_build_object({inner})"

    def array(self, element: str, source: str, order: str) -> str:
        return f"coalesce((SELECT json_agg({element} ORDER BY {order}) FROM {source}), '[]'::json)"

    def literal_json(self, text: str) -> str:
        return f"{quote(text)}::json"

    def global_id(self, type_name: str, key: str) -> str:
        return _base64url(f"{quote(type_name + ':')} || {key}")

    def instant(self, column: str) -> str:
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN {column} IS NULL THEN NULL ELSE "
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN extract(microseconds FROM {utc})::int % 1000000 = 0 THEN '' "
            f"ELSE to_char({utc}, '.US') END || '+00:00' END"
        )

    def cursor(self, order: str, keys: list[tuple[str, str]]) -> str:
        parts = [quote(json.dumps(order) + ",")]
        for index, (expression, kind) in enumerate(keys):
            if index:
                parts.append("','")
            if kind == "int":
                parts.append(f"({expression})::text")
            elif kind == "date":
                parts.append(f"'\"' || to_char({expression}, 'YYYY-MM-DD') || '\"'")
            elif kind == "instant":
                parts.append(f"'\"' || {self.instant(expression)} || '\"'")
            else:
                parts.append(f"to_json({expression}::text)::text")
        text = "'[' || " + " || ".join(parts) + " || ']'"
        return _base64url(text)

    def local_date(self, instant_param: str, timezone: str) -> str:
        return f"({instant_param} AT TIME ZONE {timezone})::date"

    def first_line(self, text: str) -> str:
        return f"regexp_replace(split_part({text}, chr(10), 1), '^RRULE:', '')"


def _base64url(text: str) -> str:
    # encode() breaks lines every 76 characters: translate drops the newlines with '+' and '/'.
    return (
        f"rtrim(translate(encode(convert_to({text}, 'UTF8'), 'base64'), "
        f"'+/' || chr(10), '-_'), '=')"
    )


class Sqlite(Dialect):
    name = "sqlite"

    def placeholder(self, number: int, cast: str) -> str:
        return f"?{number}"

    def adapt(self, value: Any) -> Any:
        # Dates and instants are stored as ISO text; an instant keeps its offset for
        # ct_local_date.
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{quote(key)}, {value}" for key, value in pairs)
        return f"json_object({inner})"

    def array(self, element: str, source: str, order: str) -> str:
        # SQLite 3.40 has no ORDER BY inside aggregates: the rows come ordered from a subquery.
        # An aggregate over no rows still gives one row: "[]".
        return (
            f"json((SELECT json_group_array(json(ct_element)) FROM "
            f"(SELECT {element} AS ct_element FROM {source} ORDER BY {order})))"
        )

    def json_value(self, expression: str) -> str:
        return f"json({expression})"

    def boolean(self, expression: str) -> str:
        return f"json(CASE WHEN {expression} THEN 'true' ELSE 'false' END)"

    def literal_json(self, text: str) -> str:
        return f"json({quote(text)})"

    def global_id(self, type_name: str, key: str) -> str:
        return f"ct_global_id({quote(type_name)}, {key})"

    def instant(self, column: str) -> str:
        return f"ct_instant({column})"

    def cursor(self, order: str, keys: list[tuple[str, str]]) -> str:
        values = ", ".join(
            f"ct_instant({expression})" if kind == "instant" else expression
            for expression, kind in keys
        )
        return f"ct_cursor({quote(order)}, {values})"

    def local_date(self, instant_param: str, timezone: str) -> str:
        return f"ct_local_date({instant_param}, {timezone})"

    def first_line(self, text: str) -> str:
        return f"ct_rule_of({text})"


def dialect_named(name: str) -> Dialect:
    return Postgres() if name == "postgresql" else Sqlite()


# ---------------------------------------------------------------- SQLite's helpers


def _global_id(type_name: str, key: int | None) -> str | None:
    from schema.ids import to_global_id

    return None if key is None else to_global_id(type_name, key)


def _instant(stored: str | None) -> str | None:
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).isoformat()


def _cursor(order: str, *keys: Any) -> str:
    return encode_cursor(order, list(keys))


def _local_date(instant: str, timezone: str) -> str:
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(timezone)).date().isoformat()


def install_sqlite(dbapi_connection: Any) -> None:
    """Registers the planner's functions on a new SQLite connection."""
    dbapi_connection.create_function("ct_global_id", 2, _global_id, deterministic=True)
    dbapi_connection.create_function("ct_instant", 1, _instant, deterministic=True)
    dbapi_connection.create_function("ct_cursor", -1, _cursor, deterministic=True)
    dbapi_connection.create_function("ct_local_date", 2, _local_date, deterministic=True)
    dbapi_connection.create_function("ct_rule_of", 1, rule_of, deterministic=True)


def iso_date(value: date) -> str:
    return value.isoformat()
