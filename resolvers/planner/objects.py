"""The planned types: each GraphQL field of a row as a SQL expression over that row's alias.

Every field here gives what the field-by-field path gives (schema/tasks.py, schema/people.py,
schema/notifications.py, schema/series.py), with the same rules from services.permissions;
anything else (a field with arguments, a list that needs its own page, a part a view refuses)
raises Declined and the operation takes the field-by-field path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues, get_argument_values

from resolvers.planner.sql import MAX_PAIRS, Dialect, Statement, quote
from services import permissions
from services.permissions import TaskPart, TaskView
from services.rules import Alternative, Before, Test, overdue
from services.viewer import ClientViewer, StaffViewer, Viewer


class Now:
    """Stands for the request's instant among a plan's values, so that plans can be reused."""

    def __repr__(self) -> str:
        return "NOW"


NOW = Now()


@dataclass(frozen=True)
class PayloadKey:
    """Stands for the id of a mutation payload's task (the index-th one read) among a plan's
    values: one plan serves every call of the same mutation, its ids bound after the commit."""

    index: int


class Declined(Exception):
    """The operation leaves the planned part of the schema: execute it field by field."""


Fields = list[FieldDetails]


@dataclass
class Planner:
    """Builds one operation's statement."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    statement: Statement
    viewer: Viewer | None
    viewer_today: date | None
    # A part of the statement whose best plan depends on its values (a broad list, a search,
    # an order the filter's index does not give): PostgreSQL must plan it per execution.
    custom_plans: bool = field(default=False)
    _aliases: int = field(default=0)
    _joins: list[list[str]] = field(default_factory=list)

    @property
    def dialect(self) -> Dialect:
        return self.statement.dialect

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def param(self, value: Any, cast: str = "") -> str:
        return self.statement.param(value, cast)

    def subfields(self, type_name: str, fields: Fields) -> dict[str, Fields]:
        object_type = self.schema.type_map[type_name]
        assert isinstance(object_type, GraphQLObjectType)
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, object_type, fields
        )
        if collected.new_defer_usages:
            raise Declined("@defer")
        return collected.grouped_field_set

    def obj(self, type_name: str, alias: str, fields: Fields) -> str:
        """The JSON object of the row `alias` of type_name, for the selections in fields."""
        render = OBJECT_FIELDS[type_name]
        with_arguments = FIELDS_WITH_ARGUMENTS.get(type_name, {})
        pairs: list[tuple[str, str]] = []
        for key, details in self.subfields(type_name, fields).items():
            name = details[0].node.name.value
            if name == "__typename":
                pairs.append((key, quote(type_name)))
                continue
            if name in with_arguments:
                object_type = self.schema.type_map[type_name]
                assert isinstance(object_type, GraphQLObjectType)
                args = get_argument_values(
                    object_type.fields[name], details[0].node, self.variables
                )
                pairs.append((key, with_arguments[name](self, alias, details, args)))
                continue
            if any(d.node.arguments for d in details):
                raise Declined(f"{type_name}.{name} with arguments")
            field_sql = render.get(name)
            if field_sql is None:
                raise Declined(f"{type_name}.{name}")
            pairs.append((key, field_sql(self, alias, details)))
        if len(pairs) > MAX_PAIRS:
            raise Declined("too many fields in one object")
        return self.dialect.obj(pairs)

    def row(
        self,
        type_name: str,
        table: str,
        key: str,
        fields: Fields,
        where: Callable[[str], str] | None = None,
    ) -> str:
        """The object of the row of table whose id is key (SQL), or null. Inside a SELECT the
        planner is building, the row is a LEFT JOIN of that SELECT (on a primary key: one row
        at most); elsewhere a subquery of its own. Joins keep statements flat, which SQLite's
        parser needs and PostgreSQL plans as well as subqueries."""
        alias = self.alias("r")
        condition = f"{alias}.id = {key}" + (f" AND {where(alias)}" if where else "")
        if self._joins:
            self._joins[-1].append(f"LEFT JOIN {table} {alias} ON {condition}")
            body = self.obj(type_name, alias, fields)
            return f"CASE WHEN {alias}.id IS NOT NULL THEN {body} END"
        joins, body = self.joined(lambda: self.obj(type_name, alias, fields))
        return self.dialect.json_value(
            f"(SELECT {body} FROM {table} {alias}{joins} WHERE {condition})"
        )

    def joined(self, build: Callable[[], str]) -> tuple[str, str]:
        """build() run with a new SELECT's join list open: the joins it added, and its SQL."""
        self._joins.append([])
        try:
            built = build()
        finally:
            joins = self._joins.pop()
        return "".join(f" {join}" for join in joins), built

    def array(self, source: str, where: str, order: str, element: Callable[[], str]) -> str:
        """A JSON array of element() for each row of `FROM source WHERE where`, in order."""
        joins, built = self.joined(element)
        return self.dialect.array(built, f"{source}{joins} WHERE {where}", order)

    def rule(self, alternatives: list[Alternative], columns: Callable[[str], str]) -> str:
        """A permissions rule as a SQL predicate; columns maps its attributes to SQL. Few
        parentheses: SQLite's parser has a fixed stack, and planned selections nest deep."""
        if not alternatives:
            return "1 = 0"
        rendered = []
        for tests in alternatives:
            parts = [self._equals(columns(t.attribute), t) for t in tests] or ["1 = 1"]
            rendered.append(parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")")
        return rendered[0] if len(rendered) == 1 else "(" + " OR ".join(rendered) + ")"

    def _equals(self, column: str, test: Test) -> str:
        value = test.value
        if isinstance(test, Before):
            return f"{column} < {self.param(value, 'date')}"
        if value is None:
            return f"{column} IS NULL"
        if isinstance(value, bool):  # IS, as the partial indexes are written
            return f"{column} IS {'TRUE' if value else 'FALSE'}"
        if isinstance(value, str):
            return f"{column} = {self.param(value, 'text')}"
        return f"{column} = {self.param(value, 'int')}"

    # ------------------------------------------------------------ tasks and their views

    def task_views(self) -> list[tuple[Alternative, TaskView]]:
        return permissions.task_view_rule(self.viewer)

    def task_visible(self, alias: str) -> str:
        """The task's view is not NONE."""
        return self.rule([tests for tests, _view in self.task_views()], _columns(alias))

    def task_shows(self, alias: str, part: TaskPart) -> str:
        """The view of the task (the first alternative that holds) shows part: an alternative
        showing it holds, and no earlier one hiding it does."""
        clauses: list[Alternative] = []
        hiding: list[str] = []
        for tests, view in self.task_views():
            if permissions.refusal(view, part) is not None:
                raise Declined(f"{part.value} is refused to this view")
            if permissions.task_shows(view, part):
                clauses.append(tests)
                if hiding:
                    raise Declined("a view showing a part after one hiding it")
            else:
                hiding.append(self.rule([tests], _columns(alias)))
        return self.rule(clauses, _columns(alias))

    def today_of_provider(self, provider_column: str) -> str:
        """Today in the provider's timezone (the viewer's own from Python, others in SQL)."""
        now = self.param(NOW, "timestamptz")
        tz = f"(SELECT p.timezone FROM service_provider p WHERE p.id = {provider_column})"
        elsewhere = self.dialect.local_date(now, tz)
        if self.viewer is None or self.viewer_today is None:
            return elsewhere
        own = self.param(self.viewer.provider_id, "int")
        today = self.param(self.viewer_today, "date")
        return f"(CASE WHEN {provider_column} = {own} THEN {today} ELSE {elsewhere} END)"

    @property
    def sqlite(self) -> bool:
        return self.dialect.name == "sqlite"

    def viewer_union(self, staff_column: str, client_column: str, fields: Fields) -> str:
        staff = self.row("Staff", "staff", staff_column, fields)
        client = self.row("Client", "client", client_column, fields)
        return (
            f"CASE WHEN {staff_column} IS NOT NULL THEN {staff} "
            f"WHEN {client_column} IS NOT NULL THEN {client} END"
        )


def _columns(alias: str) -> Callable[[str], str]:
    return lambda attribute: f"{alias}.{attribute}"


FieldSql = Callable[[Planner, str, Fields], str]


def _column(name: str) -> FieldSql:
    return lambda _p, alias, _f: f"{alias}.{name}"


def _flag(name: str) -> FieldSql:
    return lambda p, alias, _f: p.dialect.boolean(f"{alias}.{name}")


def _instant(name: str) -> FieldSql:
    return lambda p, alias, _f: p.dialect.instant(f"{alias}.{name}")


def _global_id(type_name: str) -> FieldSql:
    return lambda p, alias, _f: p.dialect.global_id(type_name, f"{alias}.id")


def _when_shown(part: TaskPart, value: FieldSql, otherwise: str = "NULL") -> FieldSql:
    def render(p: Planner, alias: str, fields: Fields) -> str:
        shown = p.task_shows(alias, part)
        return f"CASE WHEN {shown} THEN {value(p, alias, fields)} ELSE {otherwise} END"

    return render


def _task_overdue(p: Planner, alias: str, _f: Fields) -> str:
    """rules.overdue, with today in the task's provider's timezone (a SQL expression here)."""
    today = p.today_of_provider(f"{alias}.provider_id")
    tests = [
        f"{alias}.{t.attribute} < {today}"
        if isinstance(t, Before)
        else p.rule([(t,)], _columns(alias))
        for t in overdue(date.min)
    ]
    return p.dialect.boolean("(" + " AND ".join(tests) + ")")


def _responsible(p: Planner, alias: str, fields: Fields) -> str:
    staff = p.alias("s")
    link = p.alias("l")
    return p.array(
        f"task_responsible {link} JOIN staff {staff} ON {staff}.id = {link}.staff_id",
        f"{link}.task_id = {alias}.id",
        f"{link}.position, {link}.staff_id",
        lambda: p.obj("Staff", staff, fields),
    )


def _history(p: Planner, alias: str, fields: Fields) -> str:
    event = p.alias("e")
    return p.array(
        f"task_event {event}",
        f"{event}.task_id = {alias}.id",
        f"{event}.version, {event}.id",
        lambda: p.obj("TaskEvent", event, fields),
    )


def _empty_list(p: Planner) -> str:
    return p.dialect.literal_json("[]")


TASK: dict[str, FieldSql] = {
    "id": _global_id("Task"),
    "name": _column("name"),
    "details": _when_shown(TaskPart.DETAILS, _column("details")),
    "dueDate": _column("due_date"),
    "status": _column("status"),
    "overdue": _task_overdue,
    "kind": _column("kind"),
    "client": lambda p, a, f: (
        f"CASE WHEN {a}.client_id IS NOT NULL AND {p.task_shows(a, TaskPart.CLIENT)} "
        f"THEN {p.row('Client', 'client', f'{a}.client_id', f)} END"
    ),
    "serviceProvider": lambda p, a, f: p.row(
        "ServiceProvider", "service_provider", f"{a}.provider_id", f
    ),
    "originProvider": lambda p, a, f: p.row(
        "ServiceProvider", "service_provider", f"{a}.origin_provider_id", f
    ),
    "responsible": lambda p, a, f: (
        f"CASE WHEN {p.task_shows(a, TaskPart.RESPONSIBLE)} THEN {_responsible(p, a, f)} "
        f"ELSE {_empty_list(p)} END"
    ),
    "assignedToClient": _flag("assigned_to_client"),
    "createdBy": lambda p, a, f: (
        f"CASE WHEN {a}.created_by_id IS NOT NULL AND {p.task_shows(a, TaskPart.CREATED_BY)} "
        f"THEN {p.row('Staff', 'staff', f'{a}.created_by_id', f)} END"
    ),
    "createdAt": _instant("created_at"),
    "completedAt": _instant("completed_at"),
    "completedBy": lambda p, a, f: (
        f"CASE WHEN {p.task_shows(a, TaskPart.COMPLETED_BY)} THEN "
        f"{p.viewer_union(f'{a}.completed_by_staff_id', f'{a}.completed_by_client_id', f)} END"
    ),
    "series": lambda p, a, f: (
        f"CASE WHEN {a}.series_id IS NOT NULL AND {p.task_shows(a, TaskPart.SERIES)} "
        f"THEN {p.row('TaskSeries', 'task_series', f'{a}.series_id', f)} END"
    ),
    "milestoneMonth": _when_shown(TaskPart.MILESTONE, _column("milestone_month")),
    "version": _column("version"),
    "history": lambda p, a, f: (
        f"CASE WHEN {p.task_shows(a, TaskPart.HISTORY)} THEN {_history(p, a, f)} "
        f"ELSE {_empty_list(p)} END"
    ),
}

TASK_EVENT: dict[str, FieldSql] = {
    "kind": _column("kind"),
    "at": _instant("at"),
    "summary": _column("summary"),
    "by": lambda p, a, f: p.viewer_union(f"{a}.by_staff_id", f"{a}.by_client_id", f),
}


def _colleague(p: Planner, alias: str) -> str:
    return p.rule(permissions.staff_details_rule(p.viewer), _columns(alias))


def _staff_group_rule(p: Planner, alias: str) -> str:
    def columns(attribute: str) -> str:
        if attribute == "provider_group_id":
            return f"(SELECT g.group_id FROM service_provider g WHERE g.id = {alias}.provider_id)"
        return f"{alias}.{attribute}"

    return p.rule(permissions.group_tasks_permission_rule(p.viewer), columns)


TASKS_PERMISSION = '["TASKS"]'

STAFF: dict[str, FieldSql] = {
    "id": _global_id("Staff"),
    "name": _column("name"),
    "email": lambda p, a, _f: f"CASE WHEN {_colleague(p, a)} THEN {a}.email ELSE '' END",
    "isAdministrator": lambda p, a, _f: p.dialect.boolean(
        f"({a}.is_administrator AND {_colleague(p, a)})"
    ),
    "isGroupAdministrator": lambda p, a, _f: p.dialect.boolean(
        f"({a}.is_group_administrator AND {_colleague(p, a)})"
    ),
    "groupTasksPermission": lambda p, a, _f: p.dialect.boolean(
        f"({a}.group_tasks_permission AND {_staff_group_rule(p, a)})"
    ),
    "active": _flag("active"),
    "provider": lambda p, a, f: p.row("ServiceProvider", "service_provider", f"{a}.provider_id", f),
    "permissions": lambda p, a, _f: (
        f"CASE WHEN {a}.tasks_permission AND {_colleague(p, a)} "
        f"THEN {p.dialect.literal_json(TASKS_PERMISSION)} ELSE {_empty_list(p)} END"
    ),
}


def _employments(p: Planner, alias: str, fields: Fields) -> str:
    job = p.alias("j")
    return p.array(
        f"employment {job}",
        f"{job}.client_id = {alias}.id",
        f"{job}.start_date, {job}.id",
        lambda: p.obj("Employment", job, fields),
    )


CLIENT: dict[str, FieldSql] = {
    "id": _global_id("Client"),
    "name": _column("name"),
    "email": _column("email"),
    "provider": lambda p, a, f: p.row("ServiceProvider", "service_provider", f"{a}.provider_id", f),
    "caseworker": lambda p, a, f: (
        f"CASE WHEN {a}.caseworker_id IS NOT NULL "
        f"THEN {p.row('Staff', 'staff', f'{a}.caseworker_id', f)} END"
    ),
    "employments": _employments,
    "hasPortalAccess": lambda p, a, _f: p.dialect.boolean(
        f"({a}.portal_password_hash IS NOT NULL)"
    ),
}

EMPLOYMENT: dict[str, FieldSql] = {
    "id": _global_id("Employment"),
    "employer": _column("employer"),
    "startDate": _column("start_date"),
    "endDate": _column("end_date"),
}


def _provider_group(p: Planner, alias: str, fields: Fields) -> str:
    viewer = p.viewer
    if not isinstance(viewer, StaffViewer):
        raise Declined("ServiceProvider.group is refused to anyone but staff")
    if viewer.group_id is None:
        return "NULL"
    group = p.param(viewer.group_id, "int")
    row = p.row("ServiceProviderGroup", "service_provider_group", f"{alias}.group_id", fields)
    return f"CASE WHEN {alias}.group_id = {group} THEN {row} END"


PROVIDER: dict[str, FieldSql] = {
    "id": _global_id("ServiceProvider"),
    "name": _column("name"),
    "timezone": _column("timezone"),
    "group": _provider_group,
}

GROUP: dict[str, FieldSql] = {
    "id": _global_id("ServiceProviderGroup"),
    "name": _column("name"),
}

SERIES: dict[str, FieldSql] = {
    "id": _global_id("TaskSeries"),
    "name": _column("name"),
    "details": _column("details"),
    # The RRULE line only: a series with skipped dates stores an EXDATE line after it.
    "rrule": lambda p, alias, _f: p.dialect.first_line(f"{alias}.rrule"),
    "startDate": _column("start_date"),
    "until": _column("until"),
    "count": _column("count"),
}


def _notification_task(p: Planner, alias: str, fields: Fields) -> str:
    """The task, or null when the viewer may not see it at all (as visible_task)."""
    return (
        f"CASE WHEN {alias}.task_id IS NOT NULL THEN "
        f"{p.row('Task', 'task', f'{alias}.task_id', fields, where=p.task_visible)} END"
    )


NOTIFICATION: dict[str, FieldSql] = {
    "id": _global_id("Notification"),
    "kind": _column("kind"),
    "message": _column("message"),
    "createdAt": _instant("created_at"),
    "task": _notification_task,
    "read": lambda p, a, _f: p.dialect.boolean(f"({a}.read_at IS NOT NULL)"),
    "cursor": lambda p, a, _f: p.dialect.cursor("NOTIFICATION", [(f"{a}.id", "int")]),
}

OBJECT_FIELDS: dict[str, dict[str, FieldSql]] = {
    "Task": TASK,
    "TaskEvent": TASK_EVENT,
    "Staff": STAFF,
    "Client": CLIENT,
    "Employment": EMPLOYMENT,
    "ServiceProvider": PROVIDER,
    "ServiceProviderGroup": GROUP,
    "TaskSeries": SERIES,
    "Notification": NOTIFICATION,
}


# ---------------------------------------------------------------- lists under a row

ListSql = Callable[[Planner, str, Fields, dict[str, Any]], str]


def _staff_list(p: Planner, provider: str, fields: Fields, active_only: bool) -> str:
    s = p.alias("s")
    where = f"{s}.provider_id = {provider}" + (f" AND {s}.active = TRUE" if active_only else "")
    return p.array(f"staff {s}", where, f"{s}.name, {s}.id", lambda: p.obj("Staff", s, fields))


def _provider_staff(p: Planner, alias: str, fields: Fields, args: dict[str, Any]) -> str:
    """services.staff.list_staff: own staff (inactive too on request); a recipient's active
    staff for a sender holding the group Tasks permission; nobody else's."""
    viewer = p.viewer
    if not isinstance(viewer, StaffViewer):
        raise Declined("ServiceProvider.staff is for staff")
    own = p.param(viewer.provider_id, "int")
    include_inactive = bool(_argument(args, "include_inactive"))
    own_staff = _staff_list(p, f"{alias}.id", fields, not include_inactive)
    branches = f"WHEN {alias}.id = {own} THEN {own_staff} "
    if permissions.may_send_to_group(viewer) and viewer.group_id is not None:
        group = p.param(viewer.group_id, "int")
        branches += (
            f"WHEN {alias}.group_id = {group} THEN {_staff_list(p, f'{alias}.id', fields, True)} "
        )
    return f"CASE {branches}ELSE {_empty_list(p)} END"


def _recipient_list(p: Planner, fields: Fields, condition: Callable[[str], str]) -> str:
    r = p.alias("p")
    return p.array(
        f"service_provider {r}",
        condition(r),
        f"{r}.name, {r}.id",
        lambda: p.obj("ServiceProvider", r, fields),
    )


def _argument(args: dict[str, Any], python_name: str) -> Any:
    camel = python_name.split("_")[0] + "".join(w.title() for w in python_name.split("_")[1:])
    return args.get(python_name, args.get(camel))


def _task_recipients(p: Planner, alias: str, fields: Fields, _args: dict[str, Any]) -> str:
    """services.providers.task_recipients, shown on the viewer's own provider only."""
    viewer = p.viewer
    if not isinstance(viewer, StaffViewer):
        raise Declined("ServiceProvider.taskRecipients is for staff")
    if not permissions.may_send_to_group(viewer) or viewer.group_id is None:
        return _empty_list(p)
    own = p.param(viewer.provider_id, "int")
    group = p.param(viewer.group_id, "int")
    others = _recipient_list(p, fields, lambda r: f"{r}.group_id = {group} AND {r}.id <> {own}")
    return f"CASE WHEN {alias}.id = {own} THEN {others} ELSE {_empty_list(p)} END"


def _group_providers(p: Planner, alias: str, fields: Fields, _args: dict[str, Any]) -> str:
    return _recipient_list(p, fields, lambda r: f"{r}.group_id = {alias}.id")


def _client_tasks(p: Planner, alias: str, fields: Fields, args: dict[str, Any]) -> str:
    from resolvers.planner.roots import client_tasks

    return client_tasks(p, alias, fields, args)


FIELDS_WITH_ARGUMENTS: dict[str, dict[str, ListSql]] = {
    "ServiceProvider": {"staff": _provider_staff, "taskRecipients": _task_recipients},
    "ServiceProviderGroup": {"providers": _group_providers},
    "Client": {"tasks": _client_tasks},
}


def client_viewer(viewer: Viewer | None) -> ClientViewer | None:
    return viewer if isinstance(viewer, ClientViewer) else None
