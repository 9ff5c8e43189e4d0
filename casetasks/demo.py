"""A small, realistic demo: two providers of one group, their staff, clients and tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casetasks.db import create_engine, create_session_factory, unit_of_work
from casetasks.settings import Settings
from models import ServiceProvider, Staff
from services import clients as client_service
from services import providers, tasks
from services import staff as staff_service
from services.clock import SystemClock, today_in
from services.viewer import acting_as

PASSWORD = "demo-password"
GROUP = "Northside Employment Network"
TIMEZONE = "Australia/Sydney"

PROVIDERS: list[dict[str, Any]] = [
    {
        "name": "Northside Employment Services",
        "admin": ("Ana Silva", "ana@northside.example"),
        "staff": [
            ("Ben Okafor", "ben@northside.example"),
            ("Chloe Nguyen", "chloe@northside.example"),
        ],
        "clients": ["Daniel Harris", "Fatima Rahman", "George Papadopoulos", "Hannah Lee"],
    },
    {
        "name": "Harbour Community Support",
        "admin": ("Dev Patel", "dev@harbour.example"),
        "staff": [("Emma Walsh", "emma@harbour.example")],
        "clients": ["Isaac Brown", "Julia Kowalski"],
    },
]

# (name, days from today, client index or None, staff indexes responsible)
TASKS = [
    ("Call about job interview outcome", -2, 0, [0]),
    ("Review resume draft", 0, 1, [1]),
    ("Book skills assessment", 3, 2, [0, 1]),
    ("Follow up on training enrolment", 7, 3, [2]),
    ("Check transport allowance paperwork", 14, 0, [1]),
    ("Quarterly case review", 30, None, [0]),
]


async def _load_provider(session: AsyncSession, spec: dict, first: bool) -> None:
    clock = SystemClock()
    admin_name, admin_email = spec["admin"]
    created = await providers.create_provider(
        session,
        clock,
        name=spec["name"],
        timezone=TIMEZONE,
        group_name=GROUP,
        admin_name=admin_name,
        admin_email=admin_email,
        admin_password=PASSWORD,
        group_admin=first,
    )
    viewer = acting_as(created.administrator, created.provider)
    staff = [created.administrator]
    for name, email in spec["staff"]:
        staff.append(
            await staff_service.create_staff(
                session,
                viewer,
                clock,
                name=name,
                email=email,
                password=PASSWORD,
                is_administrator=False,
                permissions_granted=["TASKS"],
            )
        )
    clients = []
    for index, name in enumerate(spec["clients"]):
        caseworker = staff[index % len(staff)]
        clients.append(
            await client_service.create_client(
                session,
                viewer,
                clock,
                name=name,
                email=None,
                caseworker_id=caseworker.id,
                caseworker_given=True,
            )
        )
    today = today_in(clock, TIMEZONE)
    for name, days, client_index, responsible in TASKS:
        client = clients[client_index % len(clients)] if client_index is not None else None
        await tasks.create_task(
            session,
            viewer,
            clock,
            tasks.NewTask(
                name=name,
                due_date=today + timedelta(days=days),
                responsible_ids=[staff[i % len(staff)].id or 0 for i in responsible],
                client_id=client.id if client else None,
            ),
        )


def _logins() -> str:
    lines = ["Demo logins (password for all: demo-password):"]
    for spec in PROVIDERS:
        lines.append(f"  {spec['name']}:")
        lines.append(f"    {spec['admin'][1]}  (administrator)")
        lines.extend(f"    {email}" for _name, email in spec["staff"])
    return "\n".join(lines)


async def load(settings: Settings) -> str:
    """Loads the demo into an empty database; leaves a database with data as it is."""
    engine = create_engine(settings.database_url)
    try:
        factory = create_session_factory(engine)
        async with factory() as session:
            providers = await session.scalar(select(func.count()).select_from(ServiceProvider))
            demo_there = await session.scalar(
                select(func.count())
                .select_from(Staff)
                .where(col(Staff.email) == PROVIDERS[0]["admin"][1])
            )
        if providers:
            if demo_there:
                return "The demo is already loaded.\n" + _logins()
            return "The database already has data; the demo was not loaded."
        async with unit_of_work(factory) as session:
            for index, spec in enumerate(PROVIDERS):
                await _load_provider(session, spec, first=index == 0)
    finally:
        await engine.dispose()
    return "Demo loaded.\n" + _logins()
