"""The read planner: a query inside the planned part of the schema becomes one SQL statement
whose value is the response's data, instead of resolving field by field.

`plan` builds the statement (or raises Declined: the operation then executes field by field);
`run` executes it on one connection. Both paths answer the same JSON: the suite runs with
CASETASKS_PLANNER=check, which executes every read both ways and fails on a difference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetails, collect_subfields

from casetasks.db import ReadConnection
from resolvers.planner.objects import NOW, Declined, PayloadKey, Planner
from resolvers.planner.roots import ROOTS, arguments
from resolvers.planner.sql import MAX_PAIRS, Statement, dialect_named, install_sqlite
from services.auth import ViewerLookup
from services.recent import Recent
from services.viewer import Viewer

__all__ = [
    "Asked",
    "Declined",
    "PayloadTask",
    "Plan",
    "cached_plan",
    "install_sqlite",
    "payload_shape",
    "plan",
    "plan_tasks",
    "run",
    "run_confirming",
]


@dataclass(frozen=True)
class Plan:
    sql: str
    values: list[Any]
    # Response keys whose null means the field-by-field path would answer with an error.
    needs_value: tuple[str, ...]
    dialect: str
    # PostgreSQL: False when a generic plan serves every value (Planner.custom_plans); the
    # statement then runs on a connection that plans it once (Context.connection).
    custom_plans: bool = True

    def bind(self, now: datetime, task_ids: Sequence[int] = ()) -> list[Any]:
        """The values, with the request's instant in place of NOW and a payload's task id in
        place of its PayloadKey."""
        instant = dialect_named(self.dialect).adapt(now)
        return [
            instant
            if value is NOW
            else task_ids[value.index]
            if isinstance(value, PayloadKey)
            else value
            for value in self.values
        ]


@dataclass(frozen=True)
class Asked:
    """What a plan is made from: the operation as sent, who asks and on which day, and the
    database it is written for."""

    schema: GraphQLSchema
    document: DocumentNode
    variables: dict[str, Any] | None
    operation_name: str | None
    viewer: Viewer | None
    viewer_today: date | None
    dialect_name: str


_PLANS: Recent[tuple[Any, ...], Plan | Declined] = Recent(1024)


def variables_key(value: Any) -> bytes | str:
    """Variable values as a cache key: orjson with sorted keys, several times faster than
    json.dumps on every request; json where orjson refuses (an integer past 64 bits). The
    two never collide: one gives bytes, the other str."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True)


def cached_plan(asked: Asked, query: str) -> Plan | Declined:
    """plan() remembered by query text, variables, viewer and day: the same inputs plan the
    same statement (only the instant differs, bound at run time). The document itself is not
    part of the key: hashing one walks the whole tree."""
    key = (
        id(asked.schema),
        query,
        variables_key(asked.variables),
        asked.operation_name,
        asked.viewer,
        asked.viewer_today,
        asked.dialect_name,
    )
    found = _PLANS.get(key)
    if found is not None:
        return found
    try:
        found = plan(asked)
    except Declined as declined:
        found = declined
    _PLANS.put(key, found)
    return found


# Per query text and operation: the variables its selections use (outside its root fields'
# arguments).
_SELECTION_VARIABLES: Recent[tuple[str, str | None], frozenset[str]] = Recent(1024)
_ABSENT = "\x00absent"


def payload_shape(asked: Asked, query: str) -> tuple[Any, ...]:
    """What a mutation's payload plans depend on: the query, the viewer, the day and the
    values of the variables its selections and directives use. Not the values only its root
    fields' arguments use (the input, different on every call): those choose which task is
    changed, not how its payload is read."""
    names = _SELECTION_VARIABLES.get((query, asked.operation_name))
    if names is None:
        names = _selection_variables(asked.document, asked.operation_name)
        _SELECTION_VARIABLES.put((query, asked.operation_name), names)
    given = asked.variables or {}
    values = tuple(
        (name, variables_key(given[name]) if name in given else _ABSENT) for name in sorted(names)
    )
    return (
        id(asked.schema),
        query,
        asked.operation_name,
        values,
        asked.viewer,
        asked.viewer_today,
        asked.dialect_name,
    )


def _selection_variables(document: DocumentNode, operation_name: str | None) -> frozenset[str]:
    """Every variable the chosen operation uses, except inside its root fields' arguments;
    fragments are taken whole (at worst the key holds a variable more)."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_args: Any) -> None:
            names.add(node.name.value)

    chosen = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    if len(chosen) != 1:  # execution reports this; meanwhile every variable counts
        visit(document, Collect())
        return frozenset(names)
    operation = chosen[0]
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for directive in selection.directives or ():
                visit(directive, Collect())
            if selection.selection_set is not None:
                visit(selection.selection_set, Collect())
        else:
            visit(selection, Collect())
    for directive in operation.directives or ():
        visit(directive, Collect())
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            visit(definition, Collect())
    return frozenset(names)


def plan(asked: Asked) -> Plan:
    planner = _planner(asked)
    operation = planner.operation
    if operation.operation != OperationType.QUERY:
        raise Declined("not a query")
    statement = planner.statement
    query_type = asked.schema.query_type
    assert query_type is not None
    pairs: list[tuple[str, str]] = []
    needs_value: list[str] = []
    needs_sql = False
    for key, details in planner.subfields(query_type.name, _root_details(operation)).items():
        name = details[0].node.name.value
        if name == "__typename":
            pairs.append((key, "'Query'"))
            continue
        needs_sql = True
        root = ROOTS.get(name)
        if root is None:
            raise Declined(f"Query.{name}")
        render, null_is_error = root
        args = arguments(planner, query_type.fields[name], details)
        pairs.append((key, render(planner, details, args)))
        if null_is_error:
            needs_value.append(key)
    if not needs_sql:
        raise Declined("nothing to read")  # {__typename}: no statement needed
    # As text: the driver would decode json into Python objects only for them to be encoded again.
    sql, values = statement.finish(f"SELECT CAST({statement.dialect.obj(pairs)} AS TEXT)")
    return Plan(
        sql=sql,
        values=values,
        needs_value=tuple(needs_value),
        dialect=asked.dialect_name,
        custom_plans=planner.custom_plans,
    )


@dataclass(frozen=True)
class PayloadTask:
    """A mutation payload's `task { ... }`: where it sits in the answer, and its selection."""

    root_key: str
    task_key: str
    fields: list[FieldDetails]


def payload_tasks(asked: Asked) -> list[PayloadTask]:
    """The `task` selections of a mutation's TaskPayload fields (none for anything else)."""
    schema = asked.schema
    built = Executor.build(
        schema, asked.document, None, None, asked.variables, asked.operation_name
    )
    if isinstance(built, list):
        raise Declined("variables")
    if built.operation.operation != OperationType.MUTATION:
        return []
    mutation_type = schema.mutation_type
    assert mutation_type is not None
    collected = collect_subfields(
        schema,
        built.fragments,
        built.variable_values,
        built.operation,
        mutation_type,
        _root_details(built.operation),
    )
    found: list[PayloadTask] = []
    for root_key, details in collected.grouped_field_set.items():
        name = details[0].node.name.value
        if name.startswith("__") or get_named_type(mutation_type.fields[name].type).name != (
            "TaskPayload"
        ):
            continue
        payload_type = schema.type_map["TaskPayload"]
        assert isinstance(payload_type, GraphQLObjectType)
        inner = collect_subfields(
            schema, built.fragments, built.variable_values, built.operation, payload_type, details
        )
        for task_key, task_details in inner.grouped_field_set.items():
            if task_details[0].node.name.value == "task":
                found.append(PayloadTask(root_key, task_key, task_details))
    return found


def plan_tasks(asked: Asked, wanted: Sequence[PayloadTask]) -> Plan:
    """One statement reading the tasks of mutation payloads (after the commit), each with its
    own selection: an object keyed "0", "1"... in the order of wanted, the task ids bound at
    run time (Plan.bind)."""
    planner = _planner(asked)
    statement = planner.statement
    pairs = [
        (
            str(index),
            planner.row("Task", "task", planner.param(PayloadKey(index), "int"), payload.fields),
        )
        for index, payload in enumerate(wanted)
    ]
    if not pairs or len(pairs) > MAX_PAIRS:
        raise Declined("payload count")
    sql, values = statement.finish(f"SELECT CAST({statement.dialect.obj(pairs)} AS TEXT)")
    return Plan(
        sql=sql,
        values=values,
        needs_value=(),
        dialect=asked.dialect_name,
        custom_plans=planner.custom_plans,
    )


def _planner(asked: Asked) -> Planner:
    """A planner for the operation, its variables coerced as graphql-core executes them."""
    built = Executor.build(
        asked.schema, asked.document, None, None, asked.variables, asked.operation_name
    )
    if isinstance(built, list):
        raise Declined("variables")
    return Planner(
        schema=asked.schema,
        fragments=built.fragments,
        variables=built.variable_values,
        operation=built.operation,
        statement=Statement(dialect_named(asked.dialect_name)),
        viewer=asked.viewer,
        viewer_today=asked.viewer_today,
    )


def _root_details(operation: Any) -> list[Any]:
    """The operation's selection set as the field list collect_subfields expects."""
    root = FieldNode(name=NameNode(value="query"), selection_set=operation.selection_set)
    return [FieldDetails(root, None)]


async def run(
    connection: ReadConnection, planned: Plan, now: datetime, task_ids: Sequence[int] = ()
) -> str:
    """The statement's single value, on the request's read connection: the SQL as written, no
    ORM and no compilation (casetasks.db.ReadConnection)."""
    row = await _execute(connection, planned.sql, tuple(planned.bind(now, task_ids)))
    return str(row[0])


async def run_confirming(
    connection: ReadConnection,
    planned: Plan,
    now: datetime,
    lookup: ViewerLookup,
    lookup_values: tuple[Any, ...],
) -> tuple[str, tuple[Any, ...]]:
    """run() and, in the same statement (one snapshot, one round trip), the viewer row the
    request's token names now: the planned answer counts only if it is the viewer planned for."""
    values = tuple(planned.bind(now))
    sql = (
        f"SELECT ({planned.sql}) AS ct_data, ct_viewer.* FROM (SELECT 1) AS ct_one"
        f" LEFT JOIN ({lookup.numbered_from(len(values) + 1)}) AS ct_viewer ON 1 = 1"
    )
    row = await _execute(connection, sql, values + lookup_values)
    return str(row[0]), row[1:]


async def _execute(
    connection: ReadConnection, sql: str, values: tuple[Any, ...]
) -> tuple[Any, ...]:
    try:
        row = await connection.fetch_row(sql, values)
    except Exception as error:
        # SQLite's parser has a fixed stack: a deeply nested selection is executed field by field.
        if "parser stack overflow" in str(error):
            raise Declined("too deep for SQLite's parser") from None
        raise
    assert row is not None  # a SELECT without FROM, or LEFT JOINed to one row: always a row
    return row
