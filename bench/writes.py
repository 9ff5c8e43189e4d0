"""B4: postpone, reassign and complete at a fixed rate, then every change checked in PostgreSQL.

Several caseworkers of the generated data, each signed in with their own token, change their own
open tasks (tasks they are responsible for, in their provider, not the client's to do) through
`casetasks serve`: 40% postponeTask (one to four weeks), 40% reassignTask (to themselves and a
colleague of the provider who was not responsible, who must receive one TASK_ASSIGNED
notification), 20% completeTask, every one with the expectedVersion read before the run. Each
mutation of a run touches a different task, so none waits for another's row lock or version.
The mutations leave on the open-loop schedule of bench.openloop (latency from the time each was
due), and afterwards the database must show each change exactly once: the due date moved, the
responsible rows, status and completed_at, the version one higher, one history event of the
right kind and version by the right person, the notifications a reassign creates and no other
new event or notification.

The page's caseworker (bench.page.CASEWORKER) and his provider are left alone, so B2's page is
the same before and after.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import openloop, page, servers
from bench import rate as rate_module
from bench.generate import PASSWORD
from bench.variants import LOGIN

ACTORS = 16  # at S only 9 are outside the page caseworker's provider
KINDS = ("postpone", "reassign", "complete", "postpone", "reassign")
POSTPONE_BY = (("ONE_WEEK", 7), ("TWO_WEEKS", 14), ("THREE_WEEKS", 21), ("FOUR_WEEKS", 28))

PAYLOAD = "task { id version status dueDate responsible { id } } errors { field code message }"
FIELDS = {"postpone": "postponeTask", "reassign": "reassignTask", "complete": "completeTask"}
INPUTS = {
    "postpone": "PostponeTaskInput",
    "reassign": "ReassignTaskInput",
    "complete": "CompleteTaskInput",
}
MUTATIONS = {
    kind: f"mutation($input: {INPUTS[kind]}!) {{ {field}(input: $input) {{ {PAYLOAD} }} }}"
    for kind, field in FIELDS.items()
}
EVENT_KINDS = {"postpone": "POSTPONED", "reassign": "REASSIGNED", "complete": "COMPLETED"}


@dataclass(frozen=True)
class Actor:
    staff_id: int
    provider_id: int
    email: str


@dataclass(frozen=True)
class Before:
    task_id: int
    version: int
    due_date: date
    responsible: tuple[int, ...]


@dataclass(frozen=True)
class Change:
    kind: str  # postpone, reassign or complete
    actor: Actor
    task: Before
    by: str | None = None  # postpone: PostponeBy
    days: int = 0  # postpone: how far
    colleague: int | None = None  # reassign: the staff member made responsible

    @property
    def new_responsible(self) -> tuple[int, ...]:
        assert self.colleague is not None
        return (self.actor.staff_id, self.colleague)

    def variables(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": page.global_id("Task", self.task.task_id),
            "expectedVersion": self.task.version,
        }
        if self.kind == "postpone":
            found["by"] = self.by
        elif self.kind == "reassign":
            found["responsibleIds"] = [page.global_id("Staff", s) for s in self.new_responsible]
        return {"input": found}


@dataclass(frozen=True)
class Snapshot:
    tasks: dict[int, list[Before]]  # per actor's staff id: their open tasks, no task twice
    colleagues: dict[int, list[int]]  # per provider: its active staff, but the page's caseworker
    last_event: int
    last_notification: int


async def choose_actors(connection: asyncpg.Connection, count: int = ACTORS) -> list[Actor]:
    """Caseworkers with the Tasks permission (not administrators), one provider after another,
    leaving out the provider of the page's caseworker."""
    rows = await connection.fetch(
        """
        SELECT id, provider_id, email FROM (
            SELECT s.id, s.provider_id, s.email,
                   row_number() OVER (PARTITION BY s.provider_id ORDER BY s.id) AS nth
            FROM staff s
            WHERE s.active AND s.tasks_permission AND NOT s.is_administrator
              AND s.provider_id <> (SELECT provider_id FROM staff WHERE id = $1)
        ) ranked ORDER BY nth, provider_id LIMIT $2
        """,
        page.CASEWORKER,
        count,
    )
    return [Actor(r["id"], r["provider_id"], r["email"]) for r in rows]


async def snapshot(connection: asyncpg.Connection, actors: Sequence[Actor]) -> Snapshot:
    rows = await connection.fetch(
        """
        SELECT t.id, t.version, t.due_date, me.staff_id AS actor,
               (SELECT array_agg(r.staff_id ORDER BY r.position) FROM task_responsible r
                WHERE r.task_id = t.id) AS responsible
        FROM task_responsible me JOIN task t ON t.id = me.task_id
        WHERE me.staff_id = ANY($1::int[]) AND t.status = 'OPEN' AND t.kind = 'STANDARD'
          AND NOT t.assigned_to_client
        ORDER BY t.id, me.staff_id
        """,
        [a.staff_id for a in actors],
    )
    tasks: dict[int, list[Before]] = {a.staff_id: [] for a in actors}
    seen: set[int] = set()
    for r in rows:
        if r["id"] not in seen:  # a task two actors share goes to the first
            seen.add(r["id"])
            before = Before(r["id"], r["version"], r["due_date"], tuple(r["responsible"]))
            tasks[r["actor"]].append(before)
    staff = await connection.fetch(
        "SELECT id, provider_id FROM staff WHERE active AND provider_id = ANY($1::int[])"
        " AND id <> $2 ORDER BY id",
        sorted({a.provider_id for a in actors}),
        page.CASEWORKER,
    )
    colleagues: dict[int, list[int]] = {}
    for r in staff:
        colleagues.setdefault(r["provider_id"], []).append(r["id"])
    marks = await connection.fetchrow(
        "SELECT (SELECT coalesce(max(id), 0) FROM task_event) AS events,"
        " (SELECT coalesce(max(id), 0) FROM notification) AS notifications"
    )
    assert marks is not None
    return Snapshot(tasks, colleagues, marks["events"], marks["notifications"])


def plan(count: int, actors: Sequence[Actor], found: Snapshot) -> list[Change]:
    """`count` changes, actor after actor, kind after kind (KINDS), each on a different task."""
    left = {a.staff_id: list(found.tasks[a.staff_id]) for a in actors}
    changes: list[Change] = []
    for i in range(count):
        actor = actors[i % len(actors)]
        kind = KINDS[(i // len(actors)) % len(KINDS)]
        if not left[actor.staff_id]:
            raise RuntimeError(
                f"B4: staff {actor.staff_id} has no open task left for change {i + 1} of"
                f" {count}; fewer --seconds or a lower --write-rate"
            )
        task = left[actor.staff_id].pop(0)
        if kind == "postpone":
            by, days = POSTPONE_BY[i % len(POSTPONE_BY)]
            changes.append(Change(kind, actor, task, by=by, days=days))
        elif kind == "reassign":
            others = [
                s
                for s in found.colleagues[actor.provider_id]
                if s != actor.staff_id and s not in task.responsible
            ]
            changes.append(Change(kind, actor, task, colleague=others[i % len(others)]))
        else:
            changes.append(Change(kind, actor, task))
    return changes


async def sign_in(port: int, actors: Sequence[Actor]) -> dict[int, str]:
    tokens = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        for actor in actors:
            variables = {"e": actor.email, "p": PASSWORD}
            answer = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
            token = answer.json()["data"]["login"]["token"]
            if not token:
                raise RuntimeError(f"B4: {actor.email} could not sign in: {answer.text}")
            tokens[actor.staff_id] = token
    return tokens


def requests(changes: Sequence[Change], tokens: dict[int, str]) -> list[bytes]:
    return [
        openloop.raw_request(
            "POST",
            "/graphql",
            json.dumps({"query": MUTATIONS[c.kind], "variables": c.variables()}).encode(),
            (("Authorization", f"Bearer {tokens[c.actor.staff_id]}"),),
        )
        for c in changes
    ]


def reply_ok(change: Change, status: int, body: str | None) -> bool:
    """HTTP 200, no errors, and the payload's task at the version after the change."""
    if status != 200 or body is None:
        return False
    try:
        answer = json.loads(body)
        payload = answer["data"][FIELDS[change.kind]]
    except (ValueError, KeyError, TypeError):
        return False
    return (
        not answer.get("errors")
        and not payload["errors"]
        and payload["task"] is not None
        and payload["task"]["version"] == change.task.version + 1
    )


async def verify(
    connection: asyncpg.Connection,
    changes: Sequence[Change],
    found: Snapshot,
    started: datetime,
    ended: datetime,
    replied: Sequence[bool],
) -> dict[str, Any]:
    """What PostgreSQL holds after the run, change by change; problems listed (first 20).
    `replied`: which changes the server acknowledged (see reply_ok)."""
    ids = [c.task.task_id for c in changes]
    tasks = {
        r["id"]: r
        for r in await connection.fetch(
            "SELECT id, version, due_date, status, completed_at, completed_by_staff_id"
            " FROM task WHERE id = ANY($1::int[])",
            ids,
        )
    }
    responsible = {
        r["task_id"]: tuple(r["staff"])
        for r in await connection.fetch(
            "SELECT task_id, array_agg(staff_id ORDER BY position) AS staff"
            " FROM task_responsible WHERE task_id = ANY($1::int[]) GROUP BY task_id",
            ids,
        )
    }
    events: dict[int, list[asyncpg.Record]] = {}
    for r in await connection.fetch(
        "SELECT task_id, kind, version, by_staff_id, summary FROM task_event WHERE id > $1",
        found.last_event,
    ):
        events.setdefault(r["task_id"], []).append(r)
    notes: dict[int | None, list[asyncpg.Record]] = {}
    for r in await connection.fetch(
        "SELECT task_id, kind, recipient_id FROM notification WHERE id > $1",
        found.last_notification,
    ):
        notes.setdefault(r["task_id"], []).append(r)

    problems: list[str] = []
    applied = doubled = lost = unanswered_applied = unanswered_untouched = assigned = 0
    for c, acknowledged in zip(changes, replied, strict=True):
        task_id = c.task.task_id
        row = tasks.get(task_id)
        mine = events.pop(task_id, [])
        told = notes.pop(task_id, [])
        if row is not None and row["version"] == c.task.version and not mine and not told:
            # Untouched: lost if the server said it was done; else it never got that far (no
            # reply by the deadline, under overload), which the latency bar counts.
            if acknowledged:
                lost += 1
                problems.append(f"{c.kind} task {task_id}: acknowledged, not in the database")
            else:
                unanswered_untouched += 1
            continue
        wrong: list[str] = []
        if row is None:
            wrong.append("the task is gone")
        else:
            if row["version"] != c.task.version + 1:
                wrong.append(f"version {c.task.version} -> {row['version']}")
            wrong += _state(c, row, responsible.get(task_id, ()), started, ended)
        if len(mine) != 1:
            wrong.append(f"{len(mine)} history events")
        elif (mine[0]["kind"], mine[0]["version"], mine[0]["by_staff_id"]) != (
            EVENT_KINDS[c.kind],
            c.task.version + 1,
            c.actor.staff_id,
        ):
            wrong.append(f"event {dict(mine[0])}")
        expected = {("TASK_ASSIGNED", c.colleague)} if c.kind == "reassign" else set()
        got = Counter((n["kind"], n["recipient_id"]) for n in told)
        assigned += got[("TASK_ASSIGNED", c.colleague)] if c.kind == "reassign" else 0
        if set(got) != expected or any(n != 1 for n in got.values()):
            wrong.append(f"notifications {dict(got)}, expected {sorted(expected)}")
        if len(mine) > 1 or (row is not None and row["version"] > c.task.version + 1):
            doubled += 1
        if wrong:
            problems.append(
                f"{c.kind} task {task_id} by staff {c.actor.staff_id}: " + "; ".join(wrong)
            )
        else:
            applied += 1
            unanswered_applied += not acknowledged
    # Anything written that no change of the run asked for.
    for touched, rows in events.items():
        problems.append(f"unexpected history on task {touched}: {[r['kind'] for r in rows]}")
    for noted, rows in notes.items():
        problems.append(f"unexpected notification on task {noted}: {[r['kind'] for r in rows]}")
    return {
        "changes": len(changes),
        "applied": applied,
        "lost": lost,
        "doubled": doubled,
        "applied_without_reply": unanswered_applied,
        "not_applied_without_reply": unanswered_untouched,
        "problems": len(problems),
        "first_problems": problems[:20],
        "by_kind": dict(Counter(c.kind for c in changes)),
        "task_assigned_notifications": assigned,
    }


def _state(
    change: Change,
    row: asyncpg.Record,
    responsible: tuple[int, ...],
    started: datetime,
    ended: datetime,
) -> list[str]:
    wrong = []
    before = change.task
    if change.kind == "postpone":
        if row["due_date"] != before.due_date + timedelta(days=change.days):
            wrong.append(f"due {before.due_date} -> {row['due_date']} ({change.by})")
    elif row["due_date"] != before.due_date:
        wrong.append(f"due date moved {before.due_date} -> {row['due_date']}")
    if change.kind == "reassign":
        if responsible != change.new_responsible:
            wrong.append(f"responsible {responsible}, expected {change.new_responsible}")
    elif responsible != before.responsible:
        wrong.append(f"responsible {before.responsible} -> {responsible}")
    if change.kind == "complete":
        done_at = row["completed_at"]
        if row["status"] != "COMPLETED" or row["completed_by_staff_id"] != change.actor.staff_id:
            wrong.append(f"status {row['status']} by {row['completed_by_staff_id']}")
        if done_at is None or not started - timedelta(seconds=1) <= done_at <= ended:
            wrong.append(f"completed_at {done_at}")
    elif row["status"] != "OPEN" or row["completed_at"] is not None:
        wrong.append(f"status {row['status']}")
    return wrong


async def run_once(
    server: servers.Server,
    dsn: str,
    actors: Sequence[Actor],
    tokens: dict[int, str],
    rate: float,
    seconds: float,
    connections: int,
) -> dict[str, Any]:
    """One open-loop run of rate x seconds changes, checked once the server is idle again."""
    connection = await asyncpg.connect(dsn)
    try:
        found = await snapshot(connection, actors)
        changes = plan(max(1, round(rate * seconds)), actors, found)
        started = datetime.now(UTC)
        out = await openloop.measure(
            server.port, requests(changes, tokens), rate, len(changes), connections, True
        )
        ok = [
            reply_ok(c, s, b)
            for c, s, b in zip(changes, out["statuses"], out["bodies"], strict=True)
        ]
        await rate_module.settle(server.pid)  # what it still works through after the deadline
        ended = datetime.now(UTC) + timedelta(seconds=1)
        checked = await verify(connection, changes, found, started, ended, ok)
    finally:
        await connection.close()
    measured = openloop.summary(out, ok)
    by_kind: dict[str, dict[str, float | None]] = {}
    for kind in FIELDS:
        mine = [
            v if good else None
            for c, v, good in zip(changes, out["latencies_ms"], ok, strict=True)
            if c.kind == kind
        ]
        by_kind[kind] = {
            "count": len(mine),
            "p50_ms": openloop.percentile_with_missing(mine, 50),
            "p95_ms": openloop.percentile_with_missing(mine, 95),
        }
    return measured | {"by_kind": by_kind, "verification": checked}


async def measure(
    args: argparse.Namespace, dsn: str, db: str, log: Path, stem: str
) -> dict[str, Any]:
    """B4 against casetasks: warm-up, then args.runs verified runs at args.write_rate."""
    connection = await asyncpg.connect(dsn)
    try:
        actors = await choose_actors(connection)
    finally:
        await connection.close()
    with servers.running("casetasks", dsn, log) as server:
        tokens = await sign_in(server.port, actors)

        async def run(seconds: float = args.seconds) -> dict[str, Any]:
            return await run_once(
                server, dsn, actors, tokens, args.write_rate, seconds, args.connections * 4
            )

        print(f"  B4 writes at {args.write_rate:g}/s", end="", flush=True)
        warm = await run(args.warmup) if args.warmup else None
        runs = [await rate_module.sampled(server, dsn, db, run) for _ in range(args.runs)]
        median = rate_module.by_p95(runs)
        check = median["verification"]
        print(
            f": p50 {median['p50_ms']} ms, p95 {median['p95_ms']} ms; applied"
            f" {check['applied']} of {check['changes']}, {check['problems']} problems",
            flush=True,
        )
        found: dict[str, Any] = {
            "bench": "B4",
            "variant": "casetasks postpone/reassign/complete",
            "server": "casetasks",
            "rate": args.write_rate,
            "actors": [a.staff_id for a in actors],
            "mix": {k: KINDS.count(k) / len(KINDS) for k in dict.fromkeys(KINDS)},
            "warmup_verification": warm["verification"] if warm else None,
            "median": median,
            "runs": runs,
        }
        if args.profile:
            found["profiles"] = {}
            found["profiles"]["writes"] = await rate_module.profiled(
                server, args.results / f"{stem}-profile-writes-{args.write_rate:g}", run
            )
    return found
