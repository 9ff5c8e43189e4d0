"""A realistic provider for the Tasks page: staff, clients, thousands of tasks with history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import asyncpg

from services.passwords import hash_password

PASSWORD = "bench-password"


async def seed(dsn: str, tasks: int = 5000, staff: int = 12, clients: int = 400) -> str:
    """Returns the email of the provider's administrator."""
    rng = random.Random(7)
    now = datetime(2027, 3, 1, tzinfo=UTC)
    connection = await asyncpg.connect(dsn)
    try:
        provider_id = await connection.fetchval(
            "INSERT INTO service_provider (name, timezone) VALUES ($1, $2) RETURNING id",
            "Bench Employment Services",
            "Australia/Sydney",
        )
        password_hash = hash_password(PASSWORD)
        staff_ids = []
        for n in range(staff):
            staff_ids.append(
                await connection.fetchval(
                    "INSERT INTO staff (provider_id, name, email, password_hash, is_administrator,"
                    " is_group_administrator, tasks_permission, group_tasks_permission, active,"
                    " created_at) VALUES ($1, $2, $3, $4, $5, false, true, false, true, $6)"
                    " RETURNING id",
                    provider_id,
                    f"Caseworker {n}",
                    f"staff{n}@bench.example",
                    password_hash,
                    n == 0,
                    now,
                )
            )
        client_ids = []
        for n in range(clients):
            client_ids.append(
                await connection.fetchval(
                    "INSERT INTO client (provider_id, name, caseworker_id, created_at)"
                    " VALUES ($1, $2, $3, $4) RETURNING id",
                    provider_id,
                    f"Client {n:04d}",
                    rng.choice(staff_ids),
                    now,
                )
            )
        task_rows = [
            (
                provider_id,
                provider_id,
                f"Follow up {n}",
                "Call and check progress" if n % 3 else None,
                date(2027, 1, 1) + timedelta(days=rng.randrange(365)),
                "OPEN" if n % 7 else "COMPLETED",
                "STANDARD",
                rng.choice(client_ids) if n % 4 else None,
                False,
                rng.choice(staff_ids),
                now - timedelta(minutes=n),
                1,
            )
            for n in range(tasks)
        ]
        await connection.copy_records_to_table(
            "task",
            records=task_rows,
            columns=[
                "provider_id",
                "origin_provider_id",
                "name",
                "details",
                "due_date",
                "status",
                "kind",
                "client_id",
                "assigned_to_client",
                "created_by_id",
                "created_at",
                "version",
            ],
        )
        task_ids = [r["id"] for r in await connection.fetch("SELECT id FROM task ORDER BY id")]
        responsible = []
        for task_id in task_ids:
            for position, member in enumerate(rng.sample(staff_ids, rng.choice((1, 1, 2)))):
                responsible.append((task_id, member, position))
        await connection.copy_records_to_table(
            "task_responsible", records=responsible, columns=["task_id", "staff_id", "position"]
        )
        events = [(task_id, "CREATED", now, staff_ids[0], "Created", 1) for task_id in task_ids]
        await connection.copy_records_to_table(
            "task_event",
            records=events,
            columns=["task_id", "kind", "at", "by_staff_id", "summary", "version"],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return "staff0@bench.example"
