"""Small factories: every test builds the providers, people and tasks it needs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from casetasks.db import SessionFactory, unit_of_work
from schema.ids import to_global_id
from services import providers
from services.clock import Clock
from tests.graphql_client import Api

PASSWORD = "correct horse battery"
_serial = itertools.count(1)

TASK_FIELDS = """
    id name details dueDate status overdue kind version assignedToClient
    createdAt completedAt milestoneMonth
    client { id name }
    responsible { id name }
    createdBy { id name }
    completedBy { __typename ... on Staff { id name } ... on Client { id name } }
    serviceProvider { id name }
    originProvider { id name }
    history { kind at summary by { __typename ... on Staff { id name } } }
"""

CREATE_TASK = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { " + TASK_FIELDS + " } errors { field code message } } }"
)


@dataclass
class Person:
    id: str
    name: str
    email: str
    password: str = PASSWORD
    token: str = ""


@dataclass
class Provider:
    id: str
    name: str
    timezone: str
    admin: Person
    group_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class World:
    """Factories bound to one test's app and database."""

    def __init__(self, api: Api, session_factory: SessionFactory, clock: Clock) -> None:
        self.api = api
        self.session_factory = session_factory
        self.clock = clock

    async def provider(
        self,
        name: str | None = None,
        timezone: str = "Australia/Sydney",
        group: str | None = None,
        group_admin: bool = False,
    ) -> Provider:
        n = next(_serial)
        email = f"admin{n}@provider{n}.example"
        async with unit_of_work(self.session_factory) as session:
            created = await providers.create_provider(
                session,
                self.clock,
                name=name or f"Provider {n}",
                timezone=timezone,
                group_name=group,
                admin_name=f"Admin {n}",
                admin_email=email,
                admin_password=PASSWORD,
                group_admin=group_admin,
            )
        admin = Person(
            id=to_global_id("Staff", created.administrator.id or 0),
            name=created.administrator.name,
            email=email,
        )
        admin.token = await self.login(email, PASSWORD)
        return Provider(
            id=to_global_id("ServiceProvider", created.provider.id or 0),
            name=created.provider.name,
            timezone=timezone,
            admin=admin,
            group_id=(
                to_global_id("ServiceProviderGroup", created.group.id or 0)
                if created.group
                else None
            ),
        )

    async def login(self, email: str, password: str = PASSWORD) -> str:
        payload = await self.api.mutate(
            "login",
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
            " token errors { message } } }",
            {"e": email, "p": password},
        )
        assert payload["errors"] == [], payload
        return str(payload["token"])

    async def staff(
        self,
        provider: Provider,
        name: str | None = None,
        tasks: bool = True,
        administrator: bool = False,
    ) -> Person:
        n = next(_serial)
        person_name = name or f"Staff Member {n}"
        email = f"staff{n}@example.org"
        payload = await self.api.mutate(
            "createStaff",
            "mutation($input: CreateStaffInput!) { createStaff(input: $input) {"
            " staff { id name } errors { field code message } } }",
            {
                "input": {
                    "name": person_name,
                    "email": email,
                    "password": PASSWORD,
                    "isAdministrator": administrator,
                    "permissions": ["TASKS"] if tasks else [],
                }
            },
            provider.admin.token,
        )
        assert payload["errors"] == [], payload
        person = Person(id=payload["staff"]["id"], name=person_name, email=email)
        person.token = await self.login(email)
        return person

    async def client(
        self, provider: Provider, name: str | None = None, caseworker: Person | None = None
    ) -> str:
        payload = await self.api.mutate(
            "createClient",
            "mutation($input: CreateClientInput!) { createClient(input: $input) {"
            " client { id } errors { field code message } } }",
            {
                "input": {
                    "name": name or f"Client {next(_serial)}",
                    "caseworkerId": caseworker.id if caseworker else None,
                }
            },
            provider.admin.token,
        )
        assert payload["errors"] == [], payload
        return str(payload["client"]["id"])

    async def task(self, by: Person, **fields: Any) -> dict[str, Any]:
        fields.setdefault("name", f"Task {next(_serial)}")
        fields.setdefault("dueDate", "2027-03-15")
        fields.setdefault("responsibleIds", [by.id])
        payload = await self.api.mutate("createTask", CREATE_TASK, {"input": fields}, by.token)
        assert payload["errors"] == [], payload
        return payload["task"]  # type: ignore[no-any-return]
