"""The read planner: a query inside the planned part of the schema becomes one SQL statement
whose value is the response's data, instead of resolving field by field.

`plan` builds the statement (or raises Declined: the operation then executes field by field);
`run` executes it on one connection. Both paths answer the same JSON: the suite runs with
CASETASKS_PLANNER=check, which executes every read both ways and fails on a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from graphql import DocumentNode, GraphQLSchema, OperationType
from graphql.execution import Executor

from resolvers.planner.objects import Declined, Planner
from resolvers.planner.roots import ROOTS, arguments
from resolvers.planner.sql import Statement, dialect_named, install_sqlite
from services.viewer import Viewer

__all__ = ["Declined", "Plan", "install_sqlite", "plan"]


@dataclass(frozen=True)
class Plan:
    sql: str
    values: list[Any]
    # Response keys whose null means the field-by-field path would answer with an error.
    needs_value: tuple[str, ...]


def plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    viewer: Viewer | None,
    now: datetime,
    viewer_today: date | None,
    dialect_name: str,
) -> Plan:
    built = Executor.build(schema, document, None, None, variables, operation_name)
    if isinstance(built, list):
        raise Declined("variables")
    operation = built.operation
    if operation.operation != OperationType.QUERY:
        raise Declined("not a query")
    query_type = schema.query_type
    assert query_type is not None
    statement = Statement(dialect_named(dialect_name))
    planner = Planner(
        schema=schema,
        fragments=built.fragments,
        variables=built.variable_values,
        operation=operation,
        statement=statement,
        viewer=viewer,
        now=now,
        viewer_today=viewer_today,
    )
    pairs: list[tuple[str, str]] = []
    needs_value: list[str] = []
    for key, details in planner.subfields(query_type.name, _root_details(operation)).items():
        name = details[0].node.name.value
        if name == "__typename":
            pairs.append((key, "'Query'"))
            continue
        root = ROOTS.get(name)
        if root is None:
            raise Declined(f"Query.{name}")
        render, null_is_error = root
        args = arguments(planner, query_type.fields[name], details)
        pairs.append((key, render(planner, details, args)))
        if null_is_error:
            needs_value.append(key)
    if not pairs:
        raise Declined("nothing selected")
    # As text: the driver would decode json into Python objects only for them to be encoded again.
    sql, values = statement.finish(f"SELECT CAST({statement.dialect.obj(pairs)} AS TEXT)")
    return Plan(sql=sql, values=values, needs_value=tuple(needs_value))


def _root_details(operation: Any) -> list[Any]:
    """The operation's selection set as the field list collect_subfields expects."""
    from graphql import FieldNode, NameNode
    from graphql.execution.collect_fields import FieldDetails

    root = FieldNode(name=NameNode(value="query"), selection_set=operation.selection_set)
    return [FieldDetails(root, None)]


async def run(connection: Any, dialect_name: str, planned: Plan) -> str:
    """The statement's single value, on the request's connection (the driver's own API: no
    ORM, no SQL compilation)."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if dialect_name == "postgresql":
        return str(await driver.fetchval(planned.sql, *planned.values))
    try:
        cursor = await driver.execute(planned.sql, planned.values)
    except Exception as error:
        # SQLite's parser has a fixed stack: a deeply nested selection is executed field by field.
        if "parser stack overflow" in str(error):
            raise Declined("too deep for SQLite's parser") from None
        raise
    try:
        row = await cursor.fetchone()
    finally:
        await cursor.close()
    return str(row[0])
