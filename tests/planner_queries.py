"""Hypothesis strategies for queries over the planned part of the schema: root fields with
filters, orders, pages and cursors; selection sets of Task, Client, Staff, Notification and
their connections; aliases, a named fragment, inline fragments, variables, @include and @skip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.planner_world import GARBAGE_CURSORS, GARBAGE_IDS, ORDERS, ROLES, PlannerWorld


@dataclass(frozen=True)
class Case:
    role: str
    query: str
    variables: dict[str, Any]

    def __repr__(self) -> str:  # how hypothesis shows a falsifying example
        return f"Case(role={self.role!r}, variables={self.variables!r},\n query={self.query})"


def literal(value: Any) -> str:
    """A GraphQL literal; enums are given as Enum(name)."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Enum:
    name: str


def plain(value: Any) -> Any:
    """The JSON a variable carries."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


TASK_SCALARS = [
    *("id", "name", "details", "dueDate", "status", "overdue", "kind", "assignedToClient"),
    *("createdAt", "completedAt", "milestoneMonth", "version", "__typename"),
]
CLIENT_SCALARS = ["id", "name", "email", "hasPortalAccess", "__typename"]
STAFF_SCALARS = [
    *("id", "name", "email", "isAdministrator", "isGroupAdministrator", "groupTasksPermission"),
    *("active", "permissions", "__typename"),
]
NOTIFICATION_SCALARS = ["id", "kind", "message", "createdAt", "read", "cursor", "__typename"]
PROVIDER_SCALARS = ["id", "name", "timezone", "__typename"]
# Staff are asked for more often than the roles that are refused most roots.
ROLE_WEIGHTS = {"admin": 3, "tasks": 3, "other": 2}
WEIGHTED_ROLES = [role for role in ROLES for _ in range(ROLE_WEIGHTS.get(role, 1))]
COMPLETED_BY = "completedBy { __typename ... on Staff { id name } ... on Client { id name } }"
SERIES = "series { id name rrule startDate until count }"
HISTORY = "history { kind at summary by { __typename ... on Staff { name } } }"

SEARCHES = ("Zoë", "zoë", "ZOË", "straße", "STRASSE", "🦄", '"', "\\", "%", "_", "call", "é", "")
DATES = ("2027-02-20", "2027-02-28", "2027-03-01", "2027-03-02", "2027-03-10", "2027-06-30")


@dataclass
class Builder:
    draw: Any
    world: PlannerWorld
    definitions: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    fragment: str | None = None

    def pick(self, values: Any) -> Any:
        return self.draw(st.sampled_from(list(values)))

    def chance(self, p: float = 0.5) -> bool:
        return bool(self.draw(st.floats(0, 1)) < p)

    # ------------------------------------------------------------ arguments

    def argument(self, name: str, graphql_type: str, value: Any) -> str:
        """name: value, inline or through a variable."""
        if self.chance(0.4):
            variable = f"v{len(self.definitions)}"
            self.definitions[variable] = graphql_type
            self.variables[variable] = plain(value)
            return f"{name}: ${variable}"
        return f"{name}: {literal(value)}"

    def arguments(self, pairs: list[tuple[str, str, Any]]) -> str:
        parts = [self.argument(name, kind, value) for name, kind, value in pairs]
        return f"({', '.join(parts)})" if parts else ""

    def page(self, kind: str) -> list[tuple[str, str, Any]]:
        pairs: list[tuple[str, str, Any]] = []
        if self.chance(0.8):
            pairs.append(("first", "Int", self.draw(st.integers(0, 5))))
        if self.chance(0.4):
            pairs.append(("after", "String", self.cursor(kind)))
        return pairs

    def cursor(self, kind: str) -> str:
        """Mostly one this connection handed out, sometimes another's, or garbage."""
        own = self.world.cursors.get(kind)
        if own and self.chance(0.75):
            return str(self.pick(own))
        every = [c for cursors in self.world.cursors.values() for c in cursors]
        if every and self.chance(0.5):
            return str(self.pick(every))
        return str(self.pick(GARBAGE_CURSORS))

    def some_id(self, ids: list[str]) -> str:
        return str(self.pick(ids if self.chance(0.85) else GARBAGE_IDS))

    def task_filter(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "clientId": lambda: self.some_id(self.world.client_ids),
            "responsibleId": lambda: self.some_id(self.world.staff_ids),
            "unassigned": lambda: self.draw(st.booleans()),
            "assignedToClient": lambda: self.draw(st.booleans()),
            "dueFrom": lambda: self.pick(DATES),
            "dueTo": lambda: self.pick(DATES),
            "overdue": lambda: self.draw(st.booleans()),
            "kind": lambda: Enum(self.pick(["STANDARD", "REPEATING", "POST_EMPLOYMENT_OUTREACH"])),
            "includeCompleted": lambda: self.draw(st.booleans()),
            "search": lambda: self.search(),
        }
        chosen = self.draw(st.lists(st.sampled_from(list(options)), max_size=3, unique=True))
        return {name: options[name]() for name in chosen}

    def search(self) -> str:
        if self.chance(0.8):
            return str(self.pick(SEARCHES))
        return str(self.draw(st.text(max_size=4)))

    # ------------------------------------------------------------ selections

    def fields(self, options: dict[str, Any], at_least: int = 1) -> str:
        """Some of the options (names, or callables giving a selection), one maybe with a
        directive, in drawn order."""
        names = self.draw(
            st.lists(st.sampled_from(list(options)), min_size=at_least, max_size=6, unique=True)
        )
        parts = []
        for name in names:
            made = options[name]
            part = made() if callable(made) else made
            if self.chance(0.1):
                part = self.directive(part)
            parts.append(part)
        return " ".join(parts)

    def directive(self, part: str) -> str:
        variable = f"flag{len(self.definitions)}"
        self.definitions[variable] = "Boolean!"
        self.variables[variable] = self.draw(st.booleans())
        name, _, rest = part.partition(" ")
        which = self.pick(["include", "skip"])
        return f"{name} @{which}(if: ${variable}) {rest}".strip()

    def task(self, depth: int = 0) -> str:
        options: dict[str, Any] = {name: name for name in TASK_SCALARS}
        if depth < 2:
            options.update(
                client=lambda: f"client {{ {self.client(depth + 1)} }}",
                serviceProvider=lambda: f"serviceProvider {{ {self.provider(depth + 1)} }}",
                originProvider=lambda: f"originProvider {{ {self.provider(depth + 1)} }}",
                responsible=lambda: f"responsible {{ {self.staff(depth + 1)} }}",
                createdBy=lambda: f"createdBy {{ {self.staff(depth + 1)} }}",
                completedBy=COMPLETED_BY,
                series=SERIES,
                history=HISTORY,
            )
        selection = self.fields(options)
        if depth == 0 and self.chance(0.25):
            selection += " " + self.task_fragment()
        if self.chance(0.15):
            selection += f" ... on Task {{ {self.fields({n: n for n in TASK_SCALARS})} }}"
        return selection

    def task_fragment(self) -> str:
        if self.fragment is None:
            self.fragment = "fragment TaskParts on Task { " + self.task(depth=1) + " }"
        return "...TaskParts"

    def client(self, depth: int = 0, union: bool = False) -> str:
        options: dict[str, Any] = {name: name for name in CLIENT_SCALARS}
        if union:  # Staff.email is String!: one response name may not carry both
            options["email"] = "clientEmail: email"
        options["employments"] = "employments { id employer startDate endDate }"
        if depth < 2:
            options.update(
                provider=lambda: f"provider {{ {self.provider(depth + 1)} }}",
                caseworker=lambda: f"caseworker {{ {self.staff(depth + 1)} }}",
                tasks=lambda: self.client_tasks(depth),
            )
        return self.fields(options)

    def client_tasks(self, depth: int) -> str:
        pairs: list[tuple[str, str, Any]] = []
        if self.chance():
            pairs.append(("includeCompleted", "Boolean", self.draw(st.booleans())))
        pairs += self.page("clientTasks")
        connection = self.connection(lambda: self.task(depth + 1))
        return f"tasks{self.arguments(pairs)} {{ {connection} }}"

    def staff(self, depth: int = 0) -> str:
        options: dict[str, Any] = {name: name for name in STAFF_SCALARS}
        if depth < 2:
            options["provider"] = lambda: f"provider {{ {self.provider(depth + 1)} }}"
        return self.fields(options)

    def provider(self, depth: int = 0) -> str:
        options: dict[str, Any] = {name: name for name in PROVIDER_SCALARS}
        if depth < 3:
            options.update(
                group="group { id name providers { id name } }",
                taskRecipients="taskRecipients { id name }",
                staff=lambda: (
                    "staff"
                    + self.arguments(
                        [("includeInactive", "Boolean", self.draw(st.booleans()))]
                        if self.chance()
                        else []
                    )
                    + " { id name email active }"
                ),
            )
        return self.fields(options)

    def notification(self, union: bool = False) -> str:
        options: dict[str, Any] = {name: name for name in NOTIFICATION_SCALARS}
        if union:  # Task.kind is a TaskKind
            options["kind"] = "notificationKind: kind"
        options["task"] = "task { id name }"
        return self.fields(options)

    def connection(self, node: Any, count: str = "totalCount") -> str:
        options: dict[str, Any] = {
            "edges": lambda: f"edges {{ cursor node {{ {node()} }} }}",
            "nodes": lambda: f"edges {{ node {{ {node()} }} }}",
            "pageInfo": lambda: (
                "pageInfo { "
                + self.fields({"hasNextPage": "hasNextPage", "endCursor": "endCursor"})
                + " }"
            ),
            "count": count,
            "typename": "__typename",
        }
        return self.fields(options)

    # ------------------------------------------------------------ roots

    def root(self) -> str:
        name = self.pick(
            [
                *("tasks", "tasks", "tasks", "myTasks", "task", "node", "me", "clients"),
                *("client", "notifications", "__typename"),
            ]
        )
        if name == "tasks":
            pairs: list[tuple[str, str, Any]] = []
            if self.chance(0.8):
                pairs.append(("filter", "TaskFilter", self.task_filter()))
            order = "DUE_DATE_ASC"
            if self.chance(0.5):
                order = self.pick(ORDERS)
                pairs.append(("orderBy", "TaskOrder", Enum(order)))
            pairs += self.page(f"tasks:{order}")
            return f"tasks{self.arguments(pairs)} {{ {self.connection(self.task)} }}"
        if name == "myTasks":
            pairs = [("includeCompleted", "Boolean", self.draw(st.booleans()))]
            pairs = pairs if self.chance() else []
            pairs += self.page("myTasks")
            return f"myTasks{self.arguments(pairs)} {{ {self.connection(self.task)} }}"
        if name == "task":
            pairs = [("id", "ID!", self.some_id(self.world.task_ids))]
            return f"task{self.arguments(pairs)} {{ {self.task()} }}"
        if name == "node":
            pairs = [("id", "ID!", self.some_id(self.world.node_ids))]
            return f"node{self.arguments(pairs)} {{ {self.node()} }}"
        if name == "me":
            staff, client = self.staff(), self.client(union=True)
            return f"me {{ __typename ... on Staff {{ {staff} }} ... on Client {{ {client} }} }}"
        if name == "clients":
            pairs = [("search", "String", self.search())] if self.chance() else []
            pairs += self.page("clients")
            return f"clients{self.arguments(pairs)} {{ {self.connection(self.client)} }}"
        if name == "client":
            pairs = [("id", "ID!", self.some_id(self.world.client_ids))]
            return f"client{self.arguments(pairs)} {{ {self.client()} }}"
        if name == "notifications":
            pairs = [("unreadOnly", "Boolean", self.draw(st.booleans()))] if self.chance() else []
            return (
                f"notifications{self.arguments(pairs + self.page('notifications'))}"
                f" {{ {self.connection(self.notification, 'unreadCount')} }}"
            )
        return "__typename"

    def node(self) -> str:
        options: dict[str, Any] = {
            "id": "id",
            "__typename": "__typename",
            "Task": lambda: f"... on Task {{ {self.task()} }}",
            "Client": lambda: f"... on Client {{ {self.client(union=True)} }}",
            "Staff": lambda: f"... on Staff {{ {self.staff()} }}",
            "Notification": lambda: f"... on Notification {{ {self.notification(union=True)} }}",
            "TaskSeries": "... on TaskSeries { id name rrule startDate until count }",
            "ServiceProvider": lambda: f"... on ServiceProvider {{ {self.provider()} }}",
            "ServiceProviderGroup": "... on ServiceProviderGroup { id name }",
        }
        return self.fields(options)


@st.composite
def cases(draw: Any, world: PlannerWorld) -> Case:
    builder = Builder(draw, world)
    roots = [builder.root() for _ in range(draw(st.integers(1, 3)))]
    if len(roots) > 1 or draw(st.booleans()):
        roots = [f"r{n}: {root}" for n, root in enumerate(roots)]
    definitions = ", ".join(f"${name}: {kind}" for name, kind in builder.definitions.items())
    head = f"query Generated({definitions})" if definitions else "query Generated"
    query = f"{head} {{ {' '.join(roots)} }}"
    if builder.fragment is not None:
        query += " " + builder.fragment
    return Case(draw(st.sampled_from(WEIGHTED_ROLES)), query, builder.variables)
