"""EXPLAIN (ANALYZE, BUFFERS) of the Tasks page's statements, as custom and as generic plans.

Every stack here runs prepared statements, and after its fifth execution PostgreSQL may switch a
prepared statement to a generic plan (one made without the parameters' values). This prints, for
the page statement the read planner sends (resolvers/planner), the one the field-by-field path
sends (compiled from services/task_queries.py, exactly as the app compiles it) and the raw floor
of bench/page.py, the plan PostgreSQL runs:

- custom: `plan_cache_mode = force_custom_plan` (planned with the values on every execution);
- generic: `plan_cache_mode = force_generic_plan` (PREPARE/EXECUTE);
- auto after 5: PostgreSQL's default, after five executions (what a long-lived connection
  without the setting ends up running);

with the median planning and execution times over `--repeats` executions, and with `--filters`
the app's page statement for each Tasks-screen filter and order (custom plans), to show which
index serves it and that totalCount counts only what the filter leaves.

    python -m bench.explain --size L                 # the bench database casetasks_bench_l
    python -m bench.explain --size L --filters --label after-0005
    python -m bench.explain --database casetasks_bench_l --repeats 5

The report goes to stdout and to bench/results/<UTC time>-explain-<size>[-label].txt (with a
.json of the timings beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from bench import database
from bench.page import CASEWORKER, DUE_FROM, DUE_TO, FIRST, RAW_SQL
from models import Task, TaskKind
from services.pagination import encode_cursor
from services.task_queries import TaskFilter, TaskOrder, page_statements

RESULTS = Path(__file__).parent / "results"
MODES = ("force_custom_plan", "force_generic_plan", "auto")
PROVIDER = 1  # staff 3's provider
TODAY = date(2026, 12, 3)  # "today" for the overdue filter (the data is due 2026-01 to 2027-10)
PAGE_FILTER = TaskFilter(responsible_id=CASEWORKER, due_from=DUE_FROM, due_to=DUE_TO)


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str
    parameters: tuple[Any, ...]


@dataclass
class Explained:
    statement: str
    mode: str
    planning_ms: float
    execution_ms: float
    plan: str
    runs: list[tuple[float, float]] = field(default_factory=list)


def app_page(
    task_filter: TaskFilter,
    order: TaskOrder = TaskOrder.DUE_DATE_ASC,
    after: str | None = None,
    name: str = "casetasks page",
) -> Statement:
    """The page statement of services/task_queries.py for the bench caseworker's provider,
    compiled for asyncpg as the app's engine compiles it."""
    scope = col(Task.provider_id) == PROVIDER
    statement, _count = page_statements(scope, TODAY, task_filter, order, after, FIRST)
    compiled = statement.compile(dialect=postgresql.asyncpg.dialect())
    names = compiled.positiontup or []
    values = tuple(_plain(compiled.params[key]) for key in names)
    return Statement(name, str(compiled), values)


async def planned_page(connection: asyncpg.Connection) -> Statement:
    """The statement the read planner sends for the bench's page (bench/page.py's GraphQL
    query), as the caseworker who runs it: what casetasks executes today."""
    from graphql import parse

    import schema as served
    from bench.page import CASETASKS_QUERY, CASETASKS_VARIABLES
    from resolvers import planner
    from services.viewer import StaffViewer

    row = await connection.fetchrow(
        "SELECT s.name, s.provider_id, p.timezone, p.group_id FROM staff s "
        "JOIN service_provider p ON p.id = s.provider_id WHERE s.id = $1",
        CASEWORKER,
    )
    viewer = StaffViewer(
        staff_id=CASEWORKER,
        provider_id=row["provider_id"],
        provider_timezone=row["timezone"],
        group_id=row["group_id"],
        name=row["name"],
        is_administrator=False,
        is_group_administrator=False,
        tasks_permission=True,
        group_tasks_permission=False,
        session_id=0,
    )
    planned = planner.plan(
        planner.Asked(
            schema=served.build_schema()._schema,
            document=parse(CASETASKS_QUERY),
            variables=CASETASKS_VARIABLES,
            operation_name=None,
            viewer=viewer,
            viewer_today=TODAY,
            dialect_name="postgresql",
        )
    )
    values = planned.bind(datetime.combine(TODAY, datetime.min.time(), UTC))
    return Statement("casetasks planned page", planned.sql, tuple(values))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def raw_page() -> Statement:
    return Statement("raw floor", RAW_SQL, (CASEWORKER, DUE_FROM, DUE_TO, FIRST))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date | datetime):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _execute(parameters: tuple[Any, ...]) -> str:
    return f"EXECUTE bench_explain({', '.join(_literal(v) for v in parameters)})"


async def explain(
    connection: asyncpg.Connection, statement: Statement, mode: str, repeats: int
) -> Explained:
    execute = _execute(statement.parameters)
    await connection.execute(f"SET plan_cache_mode = {mode}")
    await connection.execute(f"PREPARE bench_explain AS {statement.sql}")
    try:
        if mode == "auto":
            for _ in range(5):  # the five custom plans PostgreSQL makes before it may switch
                await connection.execute(execute)
        runs: list[tuple[float, float]] = []
        for _ in range(repeats):
            document = await connection.fetchval(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}"
            )
            found = json.loads(document)[0]
            runs.append((found.get("Planning Time", 0.0), found["Execution Time"]))
        text = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
    finally:
        await connection.execute("DEALLOCATE bench_explain")
        await connection.execute("RESET plan_cache_mode")
    return Explained(
        statement.name,
        mode,
        round(statistics.median(p for p, _ in runs), 3),
        round(statistics.median(e for _, e in runs), 3),
        "\n".join(row[0] for row in text),
        runs,
    )


def filters() -> list[Statement]:
    """The Tasks screen's filters and orders, one at a time and as the measured page."""
    cases: list[tuple[str, TaskFilter, TaskOrder]] = [
        ("no filter (open tasks)", TaskFilter(), TaskOrder.DUE_DATE_ASC),
        ("no filter, DUE_DATE_DESC", TaskFilter(), TaskOrder.DUE_DATE_DESC),
        ("no filter, CREATED_AT_DESC", TaskFilter(), TaskOrder.CREATED_AT_DESC),
        ("includeCompleted", TaskFilter(include_completed=True), TaskOrder.DUE_DATE_ASC),
        (
            "includeCompleted, CREATED_AT_DESC",
            TaskFilter(include_completed=True),
            TaskOrder.CREATED_AT_DESC,
        ),
        ("dueFrom/dueTo", TaskFilter(due_from=DUE_FROM, due_to=DUE_TO), TaskOrder.DUE_DATE_ASC),
        ("responsibleId", TaskFilter(responsible_id=CASEWORKER), TaskOrder.DUE_DATE_ASC),
        (
            "the page: responsibleId + due window",
            PAGE_FILTER,
            TaskOrder.DUE_DATE_ASC,
        ),
        ("clientId", TaskFilter(client_id=1), TaskOrder.DUE_DATE_ASC),
        ("unassigned", TaskFilter(unassigned=True), TaskOrder.DUE_DATE_ASC),
        ("unassigned: false", TaskFilter(unassigned=False), TaskOrder.DUE_DATE_ASC),
        ("assignedToClient", TaskFilter(assigned_to_client=True), TaskOrder.DUE_DATE_ASC),
        ("overdue", TaskFilter(overdue=True), TaskOrder.DUE_DATE_ASC),
        ("overdue: false", TaskFilter(overdue=False), TaskOrder.DUE_DATE_ASC),
        (
            "kind POST_EMPLOYMENT_OUTREACH",
            TaskFilter(kind=TaskKind.POST_EMPLOYMENT_OUTREACH),
            TaskOrder.DUE_DATE_ASC,
        ),
        ("kind REPEATING", TaskFilter(kind=TaskKind.REPEATING), TaskOrder.DUE_DATE_ASC),
        ("search", TaskFilter(search="check-in 12"), TaskOrder.DUE_DATE_ASC),
    ]
    found = [app_page(f, order, name=label) for label, f, order in cases]
    # Keyset pagination: the second page starts after the first page's last row.
    after = encode_cursor(TaskOrder.DUE_DATE_ASC.value, ["2026-06-01", 500_000])
    found.append(app_page(TaskFilter(), TaskOrder.DUE_DATE_ASC, after, "no filter, after a cursor"))
    after = encode_cursor(TaskOrder.DUE_DATE_ASC.value, [DUE_FROM.isoformat(), 1])
    found.append(app_page(PAGE_FILTER, TaskOrder.DUE_DATE_ASC, after, "the page, after a cursor"))
    return found


async def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("--size", choices=["S", "L"], default="L")
    parser.add_argument("--database", help="default: the size's bench database")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--filters", action="store_true", help="also each filter and order")
    parser.add_argument("--label", default="", help="a suffix for the file name")
    args = parser.parse_args(argv)
    name = args.database or f"{database.PREFIX}_{args.size.lower()}"
    connection = await asyncpg.connect(database.dsn_of(name))
    lines: list[str] = []
    found: list[Explained] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        version = await connection.fetchval("SHOW server_version")
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('task', 'task_responsible') ORDER BY tablename, indexname"
        )
        say(f"# EXPLAIN of the Tasks page on {name} (PostgreSQL {version})")
        say(f"# {datetime.now(UTC).isoformat(timespec='seconds')}, {args.repeats} executions each")
        say("# indexes on task and task_responsible:")
        for row in indexes:
            say(f"#   {row['indexdef']}")
        for statement in (
            await planned_page(connection),
            app_page(
                TaskFilter(responsible_id=CASEWORKER, due_from=DUE_FROM, due_to=DUE_TO),
                name="casetasks page, field by field (task_queries)",
            ),
            raw_page(),
        ):
            say()
            say(f"## {statement.name}")
            say(statement.sql.strip())
            say(f"-- parameters: {', '.join(_literal(v) for v in statement.parameters)}")
            for mode in MODES:
                explained = await explain(connection, statement, mode, args.repeats)
                found.append(explained)
                say()
                say(
                    f"### {statement.name}, {mode}: planning {explained.planning_ms} ms, "
                    f"execution {explained.execution_ms} ms (medians)"
                )
                say(explained.plan)
        if args.filters:
            say()
            say("## the app's page statement per filter and order (custom plans)")
            for statement in filters():
                explained = await explain(connection, statement, "force_custom_plan", 3)
                found.append(explained)
                say()
                say(
                    f"### {statement.name}: planning {explained.planning_ms} ms, "
                    f"execution {explained.execution_ms} ms"
                )
                say(explained.plan)
    finally:
        await connection.close()
    say()
    say("## summary (median ms: planning + execution)")
    for item in found:
        say(
            f"{item.statement:45} {item.mode:20} {item.planning_ms:8.3f} + {item.execution_ms:9.3f}"
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-{args.label}" if args.label else ""
    path = RESULTS / f"{stamp}-explain-{args.size}{suffix}.txt"
    path.write_text("\n".join(lines) + "\n")
    summary = [
        {
            "statement": item.statement,
            "mode": item.mode,
            "planning_ms": item.planning_ms,
            "execution_ms": item.execution_ms,
        }
        for item in found
    ]
    path.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    asyncio.run(main())
