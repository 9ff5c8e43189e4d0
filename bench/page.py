"""The measured page in each dialect, and one normal form to check that all agree.

The Tasks page of issue 9: one caseworker's open tasks due in a three-month window, the first
50 by due date, with totalCount, the client's name and the responsible staff's names.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

CASEWORKER = 3  # staff 3: provider 1, a caseworker with the Tasks permission, not administrator
DUE_FROM = date(2027, 1, 1)
DUE_TO = date(2027, 3, 31)
FIRST = 50


def global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def key_of(gid: str) -> int:
    return int(base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode().split(":")[1])


CASETASKS_QUERY = """
query TasksPage($filter: TaskFilter!, $first: Int!) {
  tasks(filter: $filter, orderBy: DUE_DATE_ASC, first: $first) {
    totalCount
    edges { node {
      id name dueDate status
      client { id name }
      responsible { id name }
    } }
  }
}
"""

CASETASKS_VARIABLES = {
    "filter": {
        "responsibleId": global_id("Staff", CASEWORKER),
        "dueFrom": DUE_FROM.isoformat(),
        "dueTo": DUE_TO.isoformat(),
    },
    "first": FIRST,
}

# PostGraphile reaches the page through a SQL function (its generated filters have no ranges).
POSTGRAPHILE_SCHEMA = "bench_pg"
POSTGRAPHILE_FUNCTION = f"""
CREATE SCHEMA IF NOT EXISTS {POSTGRAPHILE_SCHEMA};
CREATE OR REPLACE FUNCTION {POSTGRAPHILE_SCHEMA}.caseworker_tasks(
    caseworker int, due_from date, due_to date
) RETURNS SETOF public.task LANGUAGE sql STABLE AS $$
    SELECT t.* FROM public.task t
    WHERE t.provider_id = (SELECT provider_id FROM public.staff WHERE id = caseworker)
      AND t.status = 'OPEN' AND t.due_date BETWEEN due_from AND due_to
      AND EXISTS (SELECT 1 FROM public.task_responsible r
                  WHERE r.task_id = t.id AND r.staff_id = caseworker)
    ORDER BY t.due_date, t.id
$$;
-- Responsible people in their order: PostGraphile orders only by indexed columns unless told.
COMMENT ON COLUMN public.task_responsible.position IS E'@behavior +orderBy';
"""

POSTGRAPHILE_QUERY = """
query TasksPage($caseworker: Int!, $from: Date!, $to: Date!, $first: Int!) {
  benchPgCaseworkerTasks(caseworker: $caseworker, dueFrom: $from, dueTo: $to, first: $first) {
    totalCount
    nodes {
      rowId name dueDate status
      clientByClientId { rowId name }
      taskResponsiblesByTaskId(orderBy: POSITION_ASC) { nodes { staffByStaffId { rowId name } } }
    }
  }
}
"""

POSTGRAPHILE_VARIABLES = {
    "caseworker": CASEWORKER,
    "from": DUE_FROM.isoformat(),
    "to": DUE_TO.isoformat(),
    "first": FIRST,
}

TYPENAME_QUERY = "{__typename}"


def _gid_sql(type_name: str, column: str) -> str:
    encoded = f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"
    return f"rtrim(translate({encoded}, '+/', '-_'), '=')"


# The raw floor: one statement whose result is the response body.
RAW_SQL = f"""
WITH viewer AS (SELECT provider_id FROM staff WHERE id = $1),
matching AS (
    SELECT t.id, t.name, t.due_date, t.status, t.client_id
    FROM task t
    WHERE t.provider_id = (SELECT provider_id FROM viewer)
      AND t.status = 'OPEN' AND t.due_date BETWEEN $2 AND $3
      AND EXISTS (SELECT 1 FROM task_responsible r WHERE r.task_id = t.id AND r.staff_id = $1)
),
page AS (SELECT * FROM matching ORDER BY due_date, id LIMIT $4)
SELECT json_build_object('data', json_build_object('tasks', json_build_object(
    'totalCount', (SELECT count(*) FROM matching),
    'edges', coalesce((
        SELECT json_agg(json_build_object('node', json_build_object(
            'id', {_gid_sql("Task", "p.id")},
            'name', p.name,
            'dueDate', p.due_date,
            'status', p.status,
            'client', (SELECT json_build_object('id', {_gid_sql("Client", "c.id")}, 'name', c.name)
                       FROM client c WHERE c.id = p.client_id),
            'responsible', coalesce((
                SELECT json_agg(json_build_object('id', {_gid_sql("Staff", "s.id")},
                                                  'name', s.name) ORDER BY r.position)
                FROM task_responsible r JOIN staff s ON s.id = r.staff_id
                WHERE r.task_id = p.id), '[]')
        )) ORDER BY p.due_date, p.id)
        FROM page p), '[]')
)))::text
"""

RAW_PATH = f"/tasks?caseworker={CASEWORKER}&from={DUE_FROM}&to={DUE_TO}&first={FIRST}"


@dataclass(frozen=True)
class Row:
    task: int
    name: str
    due: str
    status: str
    client: str | None
    responsible: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    total: int
    rows: tuple[Row, ...]


def from_casetasks(body: dict[str, Any]) -> Page:
    """Also reads the raw route, which answers in the same shape."""
    if body.get("errors"):
        raise ValueError(json.dumps(body["errors"])[:500])
    tasks = body["data"]["tasks"]
    rows = tuple(
        Row(
            key_of(node["id"]),
            node["name"],
            node["dueDate"],
            node["status"],
            node["client"]["name"] if node["client"] else None,
            tuple(person["name"] for person in node["responsible"]),
        )
        for node in (edge["node"] for edge in tasks["edges"])
    )
    return Page(int(tasks["totalCount"]), rows)


def from_postgraphile(body: dict[str, Any]) -> Page:
    if body.get("errors"):
        raise ValueError(json.dumps(body["errors"])[:500])
    tasks = body["data"]["benchPgCaseworkerTasks"]
    rows = tuple(
        Row(
            int(node["rowId"]),
            node["name"],
            node["dueDate"],
            node["status"],
            node["clientByClientId"]["name"] if node["clientByClientId"] else None,
            tuple(r["staffByStaffId"]["name"] for r in node["taskResponsiblesByTaskId"]["nodes"]),
        )
        for node in tasks["nodes"]
    )
    return Page(int(tasks["totalCount"]), rows)
