"""The benchmark's data: a seeded, deterministic population written with set-based SQL.

Every row is computed inside PostgreSQL from `generate_series` and a hash of the row number and
the seed (`hashint8`), so the same size and seed give the same rows on any machine, and L (one
million tasks) loads in minutes. The rows go through the app's real schema (its Alembic
migrations run first) and read back through the app: one password hash, made with the app's own
hasher, is shared by every account.

Layout, for T tasks (L: T = 1,000,000; S: T = 10,000):
- providers in groups of five (L: 20 providers in 4 groups), each with the same number of staff
  (L: 100) and clients (L: 5,000); staff number 0 of a provider is its administrator (and the
  group's administrator in the group's first provider), the last has no Tasks permission;
- S keeps each caseworker's load (about 500 tasks each), so the measured page is the same page
  at S and at L while everything around it grows a hundredfold;
- 10% of the tasks are occurrences of weekly series of 20 (all in the past: an occurrence exists
  from its scheduled date on; the app's own `casetasks materialize` runs after the load and
  finds nothing to make), 4% post-employment outreach
  (four per employment), the rest standard; 10% completed; 85% about a client; 5% of the
  standard ones assigned to the client; 2% sent across providers of a group; 3% unassigned;
  one responsible (the client's caseworker where there is a client), a second on 40%;
- history: CREATED for every task, COMPLETED for the completed ones; notifications:
  UNASSIGNED_TASK to the provider's administrator for open unassigned tasks (in an Unassigned
  stint since their creation), TASK_ASSIGNED to
  every second responsible, CLIENT_TASK_COMPLETED for tasks the client completed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import asyncpg

from services.passwords import hash_password

PASSWORD = "bench-password"
FIRST_DUE = date(2026, 1, 1)
DUE_DAYS = 640
# Occurrences exist from their scheduled date on, so every series lies wholly in the past (its
# last occurrence before 2026-12); its rule counts 20 weeks.
SERIES_FROM = date(2025, 1, 1)
SERIES_START_DAYS = 560
GROUP_SIZE = 5


@dataclass(frozen=True)
class Size:
    name: str
    tasks: int
    providers: int
    staff_per_provider: int
    clients_per_provider: int

    @property
    def staff(self) -> int:
        return self.providers * self.staff_per_provider

    @property
    def clients(self) -> int:
        return self.providers * self.clients_per_provider

    @property
    def series(self) -> int:
        return self.tasks // 10 // SERIES_LENGTH

    @property
    def employments(self) -> int:
        return self.tasks * 4 // 100 // 4


SERIES_LENGTH = 20
SIZES = {
    "S": Size("S", tasks=10_000, providers=4, staff_per_provider=5, clients_per_provider=250),
    "L": Size(
        "L", tasks=1_000_000, providers=20, staff_per_provider=100, clients_per_provider=5000
    ),
}


def h(expression: str, salt: int, seed: int) -> str:
    """A non-negative pseudo-random integer of a row number: the same on every run."""
    return f"(hashint8(({expression})::bigint * 1000003 + {salt * 7919 + seed}) & 2147483647)"


def _statements(size: Size, seed: int) -> list[tuple[str, str]]:
    sp, cp, providers = size.staff_per_provider, size.clients_per_provider, size.providers
    groups = (providers + GROUP_SIZE - 1) // GROUP_SIZE
    series_tasks = size.series * SERIES_LENGTH
    outreach_tasks = size.employments * 4

    def hh(expression: str, salt: int) -> str:
        return h(expression, salt, seed)

    # Per standard task n: its client (or none), provider, due date and flags.
    standard = f"""
        SELECT n,
               CASE WHEN {hh("n", 1)} % 100 < 85 THEN 1 + {hh("n", 2)} % {size.clients} END AS c,
               DATE '{FIRST_DUE}' + {hh("n", 4)} % {DUE_DAYS} AS due,
               {hh("n", 6)} % 100 < 5 AS to_client,
               {hh("n", 7)} % 100 < 2 AS crossing
        FROM generate_series({series_tasks + outreach_tasks + 1}, {size.tasks}) AS n
    """
    task_columns = (
        "id, provider_id, origin_provider_id, name, details, due_date, status, kind, client_id,"
        " assigned_to_client, created_by_id, created_at, completed_at, completed_by_staff_id,"
        " completed_by_client_id, milestone_month, series_id, scheduled_date, employment_id,"
        " version"
    )
    names = (
        "ARRAY['Call to check progress', 'Review job plan', 'Book interview practice',"
        " 'Collect payslips', 'Update resume', 'Follow up with employer',"
        " 'Arrange transport support', 'Check training enrolment']"
    )
    first_names = (
        "ARRAY['Ava', 'Noah', 'Mia', 'Leo', 'Isla', 'Jack', 'Zoe', 'Liam', 'Ruby', 'Oscar',"
        " 'Chloe', 'Henry', 'Grace', 'Lucas', 'Ella', 'Max', 'Ivy', 'Finn', 'Lily', 'Ethan']"
    )
    last_names = (
        "ARRAY['Smith', 'Nguyen', 'Brown', 'Wilson', 'Taylor', 'Martin', 'Lee', 'Walker',"
        " 'Khan', 'Harris', 'Young', 'King', 'Wright', 'Scott', 'Green', 'Baker', 'Adams',"
        " 'Hill', 'Chen', 'Patel']"
    )
    # A task's columns from (n, provider p, client c, due, kind columns...).
    completed = f"{hh('n', 5)} % 10 = 0"
    return [
        (
            "groups",
            f"""INSERT INTO service_provider_group (id, name)
            SELECT g, 'Employment Services Group ' || g FROM generate_series(1, {groups}) g""",
        ),
        (
            "providers",
            f"""INSERT INTO service_provider (id, name, timezone, group_id)
            SELECT p, 'Provider ' || p,
                   (ARRAY['Australia/Sydney', 'Australia/Perth', 'Australia/Brisbane',
                          'Australia/Adelaide'])[1 + (p - 1) % 4],
                   1 + (p - 1) / {GROUP_SIZE}
            FROM generate_series(1, {providers}) p""",
        ),
        (
            "staff",
            f"""INSERT INTO staff (id, provider_id, name, email, password_hash, is_administrator,
                is_group_administrator, tasks_permission, group_tasks_permission, active,
                created_at)
            SELECT s, 1 + (s - 1) / {sp},
                   ({first_names})[1 + {hh("s", 20)} % 20] || ' '
                       || ({last_names})[1 + {hh("s", 21)} % 20] || ' (staff ' || s || ')',
                   'staff' || s || '@bench.example', $1,
                   (s - 1) % {sp} = 0,
                   (s - 1) % {sp} = 0 AND ((s - 1) / {sp}) % {GROUP_SIZE} = 0,
                   (s - 1) % {sp} <> {sp - 1},
                   (s - 1) % {sp} < 2,
                   true, TIMESTAMPTZ '2025-06-01 00:00Z'
            FROM generate_series(1, {size.staff}) s""",
        ),
        (
            "clients",
            f"""INSERT INTO client (id, provider_id, name, email, caseworker_id,
                portal_password_hash, login_email, created_at)
            SELECT c, 1 + (c - 1) / {cp},
                   ({first_names})[1 + {hh("c", 22)} % 20] || ' '
                       || ({last_names})[1 + {hh("c", 23)} % 20] || ' (client ' || c || ')',
                   'client' || c || '@clients.example',
                   ((c - 1) / {cp}) * {sp} + 1 + ((c - 1) % {cp}) % {sp},
                   CASE WHEN c % 100 = 1 THEN $1 END,
                   CASE WHEN c % 100 = 1 THEN 'client' || c || '@clients.example' END,
                   TIMESTAMPTZ '2025-07-01 00:00Z' + ((c % 300) || ' days')::interval
            FROM generate_series(1, {size.clients}) c""",
        ),
        (
            "employments",
            f"""INSERT INTO employment (id, client_id, employer, start_date, end_date, created_at)
            SELECT e, 1 + ((e - 1) * 7) % {size.clients}, 'Employer ' || (1 + e % 500),
                   DATE '{FIRST_DUE}' + {hh("e", 30)} % 365, NULL,
                   TIMESTAMPTZ '2025-12-01 00:00Z'
            FROM generate_series(1, {size.employments}) e""",
        ),
        (
            "series",
            f"""INSERT INTO task_series (id, provider_id, name, details, rrule, start_date, until,
                count, client_id, assigned_to_client, created_by_id, created_at,
                materialized_until, ended)
            SELECT r, cl.provider_id, 'Weekly check-in ' || r, NULL,
                   'FREQ=WEEKLY;INTERVAL=1;COUNT={SERIES_LENGTH}',
                   DATE '{SERIES_FROM}' + {hh("r", 40)} % {SERIES_START_DAYS},
                   NULL, {SERIES_LENGTH}, cl.id, false, cl.caseworker_id,
                   TIMESTAMPTZ '2025-12-01 00:00Z',
                   DATE '{SERIES_FROM}' + {hh("r", 40)} % {SERIES_START_DAYS}
                       + 7 * ({SERIES_LENGTH} - 1),
                   false
            FROM generate_series(1, {size.series}) r
            JOIN client cl ON cl.id = 1 + ((r - 1) * 13) % {size.clients}""",
        ),
        (
            "series responsible",
            """INSERT INTO task_series_responsible (series_id, staff_id, position)
            SELECT id, created_by_id, 0 FROM task_series""",
        ),
        (
            "repeating tasks",
            f"""INSERT INTO task ({task_columns})
            SELECT n, r.provider_id, r.provider_id, r.name, NULL, d, CASE WHEN {completed}
                   THEN 'COMPLETED' ELSE 'OPEN' END, 'REPEATING', r.client_id, false,
                   r.created_by_id, d - interval '14 days' + time '09:00',
                   CASE WHEN {completed} THEN d + time '15:00' END,
                   CASE WHEN {completed} THEN r.created_by_id END, NULL, NULL, r.id, d, NULL,
                   CASE WHEN {completed} THEN 2 ELSE 1 END
            FROM generate_series(1, {series_tasks}) n
            JOIN task_series r ON r.id = 1 + (n - 1) / {SERIES_LENGTH}
            CROSS JOIN LATERAL (SELECT r.start_date + 7 * ((n - 1) % {SERIES_LENGTH}) AS d) due""",
        ),
        (
            "outreach tasks",
            f"""INSERT INTO task ({task_columns})
            SELECT n, cl.provider_id, cl.provider_id,
                   'Post-employment outreach: ' || m || ' month' || CASE WHEN m > 1 THEN 's'
                   ELSE '' END, NULL, d,
                   CASE WHEN {completed} THEN 'COMPLETED' ELSE 'OPEN' END,
                   'POST_EMPLOYMENT_OUTREACH', cl.id, false, cl.caseworker_id,
                   e.created_at, CASE WHEN {completed} THEN d + time '15:00' END,
                   CASE WHEN {completed} THEN cl.caseworker_id END, NULL, m, NULL, NULL, e.id,
                   CASE WHEN {completed} THEN 2 ELSE 1 END
            FROM generate_series({series_tasks + 1}, {series_tasks + outreach_tasks}) n
            JOIN employment e ON e.id = 1 + (n - {series_tasks} - 1) / 4
            JOIN client cl ON cl.id = e.client_id
            CROSS JOIN LATERAL (SELECT (ARRAY[1, 3, 6, 12])[1 + (n - {series_tasks} - 1) % 4] AS m)
                milestone
            CROSS JOIN LATERAL (SELECT (e.start_date + (m || ' months')::interval)::date AS d)
                due""",
        ),
        (
            "standard tasks",
            f"""INSERT INTO task ({task_columns})
            SELECT n, p, origin,
                   ({names})[1 + {hh("n", 8)} % 8] || ' #' || n,
                   CASE WHEN n % 3 > 0 THEN 'Notes for task ' || n END,
                   due, CASE WHEN {completed} THEN 'COMPLETED' ELSE 'OPEN' END, 'STANDARD', c,
                   c IS NOT NULL AND to_client, creator, due - interval '21 days' + time '09:00',
                   CASE WHEN {completed} THEN due + time '15:00' END,
                   CASE WHEN {completed} AND NOT (c IS NOT NULL AND to_client) THEN creator END,
                   CASE WHEN {completed} AND c IS NOT NULL AND to_client THEN c END,
                   NULL, NULL, NULL, NULL, CASE WHEN {completed} THEN 2 ELSE 1 END
            FROM ({standard}) t
            CROSS JOIN LATERAL (SELECT coalesce((c - 1) / {cp} + 1, 1 + {hh("n", 3)} % {providers})
                AS p) provider
            CROSS JOIN LATERAL (SELECT CASE WHEN crossing THEN
                ((p - 1) / {GROUP_SIZE}) * {GROUP_SIZE} + 1
                    + ((p - 1) % {GROUP_SIZE} + 1) % least({GROUP_SIZE},
                        {providers} - ((p - 1) / {GROUP_SIZE}) * {GROUP_SIZE})
                ELSE p END AS origin) o
            CROSS JOIN LATERAL (SELECT CASE WHEN origin <> p THEN (origin - 1) * {sp} + 1
                ELSE (p - 1) * {sp} + 1 + {hh("n", 10)} % {sp} END AS creator) cr""",
        ),
        (
            "responsible",
            f"""INSERT INTO task_responsible (task_id, staff_id, position)
            SELECT t.id, first_one, 0 FROM task t
            LEFT JOIN client cl ON cl.id = t.client_id
            CROSS JOIN LATERAL (SELECT coalesce(cl.caseworker_id,
                (t.provider_id - 1) * {sp} + 1 + {hh("t.id", 10)} % {sp}) AS first_one) f
            WHERE NOT t.assigned_to_client AND {hh("t.id", 9)} % 100 >= 3
            UNION ALL
            SELECT t.id, (t.provider_id - 1) * {sp} + 1
                   + ((cl.caseworker_id - 1) % {sp} + 1 + {hh("t.id", 11)} % {sp - 1}) % {sp}, 1
            FROM task t JOIN client cl ON cl.id = t.client_id
            WHERE NOT t.assigned_to_client AND {hh("t.id", 9)} % 100 >= 3
              AND {hh("t.id", 12)} % 100 < 40""",
        ),
        (
            # As the app keeps it (notifications.alert_unassigned, migration 0008): an
            # Unassigned task is in an Unassigned stint, which its alert belongs to.
            "unassigned stints",
            """UPDATE task t SET unassigned_since = t.created_at
            WHERE t.status = 'OPEN' AND NOT t.assigned_to_client
              AND NOT EXISTS (SELECT 1 FROM task_responsible r WHERE r.task_id = t.id)""",
        ),
        (
            "history",
            """INSERT INTO task_event (task_id, kind, at, by_staff_id, by_client_id, summary,
                version)
            SELECT id, 'CREATED', created_at, created_by_id, NULL::int, 'Created', 1 FROM task
            UNION ALL
            SELECT id, 'COMPLETED', completed_at, completed_by_staff_id, completed_by_client_id,
                   'Completed', 2
            FROM task WHERE status = 'COMPLETED'
            ORDER BY 3, 1""",
        ),
        (
            "notifications",
            f"""INSERT INTO notification (recipient_id, kind, task_id, client_id, message,
                created_at, read_at)
            SELECT (t.provider_id - 1) * {sp} + 1, 'UNASSIGNED_TASK', t.id, NULL::int,
                   'Unassigned task from ' || o.name || ': ' || t.name || ' (due '
                       || t.due_date || ')', t.created_at, NULL::timestamptz
            FROM task t JOIN service_provider o ON o.id = t.origin_provider_id
            WHERE t.status = 'OPEN' AND NOT t.assigned_to_client
              AND NOT EXISTS (SELECT 1 FROM task_responsible r WHERE r.task_id = t.id)
            UNION ALL
            SELECT r.staff_id, 'TASK_ASSIGNED', t.id, NULL::int,
                   s.name || ' made you responsible for: ' || t.name || ' (due '
                       || t.due_date || ')', t.created_at,
                   CASE WHEN t.id % 2 = 0 THEN t.created_at + interval '1 day' END
            FROM task_responsible r JOIN task t ON t.id = r.task_id
            JOIN staff s ON s.id = t.created_by_id
            WHERE r.position = 1 AND r.staff_id <> t.created_by_id
            UNION ALL
            SELECT cl.caseworker_id, 'CLIENT_TASK_COMPLETED', t.id, cl.id,
                   cl.name || ' completed: ' || t.name, t.completed_at, NULL
            FROM task t JOIN client cl ON cl.id = t.client_id
            WHERE t.completed_by_client_id IS NOT NULL
            ORDER BY 6, 3""",
        ),
    ]


SEQUENCED = (
    "service_provider_group",
    "service_provider",
    "staff",
    "client",
    "employment",
    "task_series",
    "task",
    "task_event",
    "notification",
)
COUNTED = (*SEQUENCED, "task_responsible", "task_series_responsible")


@dataclass(frozen=True)
class Loaded:
    seconds: float
    rows: dict[str, int]
    steps: dict[str, float]


async def generate(dsn: str, size: Size, seed: int = 1) -> Loaded:
    """Fills a freshly migrated, empty database."""
    started = time.perf_counter()
    password_hash = hash_password(PASSWORD)
    connection = await asyncpg.connect(dsn)
    steps: dict[str, float] = {}
    try:
        if await connection.fetchval("SELECT count(*) FROM task"):
            raise RuntimeError("the benchmark database is not empty")
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '256MB'")
        await connection.execute("SET work_mem = '64MB'")
        for name, statement in _statements(size, seed):
            step_started = time.perf_counter()
            try:
                if "$1" in statement:
                    await connection.execute(statement, password_hash)
                else:
                    await connection.execute(statement)
            except asyncpg.PostgresError as error:
                raise RuntimeError(f"generating {name}: {error}") from error
            steps[name] = round(time.perf_counter() - step_started, 2)
        for table in SEQUENCED:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        step_started = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        steps["vacuum analyze"] = round(time.perf_counter() - step_started, 2)
        rows = {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in COUNTED
        }
    finally:
        await connection.close()
    return Loaded(round(time.perf_counter() - started, 1), rows, steps)
