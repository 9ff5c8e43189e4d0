"""The planned Query fields: each root field as a scalar subquery giving its JSON value.

Arguments are checked with the services' own functions (page sizes, cursors, filters, the
role a list needs); where the field-by-field path would answer with an error, or a root
would be null because of one (not found, another provider's), the plan is declined or its
answer discarded (`needs_value`), and the field-by-field path gives the error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from graphql.execution.values import get_argument_values

from resolvers.planner.objects import Declined, Fields, Planner
from schema.ids import from_global_id, key_of
from services import permissions, task_queries
from services.errors import DomainError
from services.notifications import notification_id_of
from services.pagination import check_page_size, decode_cursor
from services.rules import overdue
from services.validation import clean, contains_pattern
from services.viewer import ClientViewer, StaffViewer

RootSql = Callable[[Planner, Fields, dict[str, Any]], str]


def _checked(run: Callable[[], Any]) -> Any:
    """A service check that would make the field an error declines the plan."""
    try:
        return run()
    except DomainError as error:
        raise Declined(type(error).__name__) from None


# ---------------------------------------------------------------- connections


@dataclass(frozen=True)
class Matching:
    """A filter that leaves few rows (one person's or one client's tasks): totalCount and the
    page then read the matching keys once, instead of counting with a second scan. A broad
    list (a whole provider's open tasks) keeps the two reads: an index-only count and a page
    that stops after `first` rows cost less there than collecting every key to sort it."""

    where: Callable[[str], list[str]]  # the filter, without the cursor's keyset
    after: Callable[[str], str]  # the keyset condition after the cursor, or ""
    keys: tuple[str, ...]  # the columns the order reads, id among them


class Page:
    """A keyset page over a table: its rows (fetched once, one more than shown), counts, and
    the edges' cursors, as the JSON of a connection."""

    def __init__(
        self,
        planner: Planner,
        table: str,
        where: Callable[[str], list[str]],
        order: Callable[[str], str],
        limit: int,
        cursor: Callable[[str], str],
        counts: dict[str, Callable[[str], str]],
        matching: Matching | None = None,
        same_plan_for_all_values: bool = False,
    ) -> None:
        """same_plan_for_all_values: the page starts from an index whatever its values are
        (one person's or one client's tasks by due date), so a generic plan serves it."""
        if not same_plan_for_all_values:
            planner.custom_plans = True
        self.p = planner
        self.table = table
        self.where = where
        self.order = order
        self.limit = limit
        self.cursor = cursor
        self.counts = counts
        self.matching = matching

    def _rows(self, rows: str, a: str, counted: bool) -> tuple[str, str | None]:
        """The page's rows as a CTE, and with a Matching and totalCount asked for, the count
        read from the same matching keys."""
        p = self.p
        one_more = p.param(self.limit + 1, "int")
        if self.matching is None or not counted:
            conditions = " AND ".join(self.where(a)) or "1 = 1"
            return (
                f"{rows} AS (SELECT {a}.*, row_number() OVER (ORDER BY {self.order(a)}) AS ct_n "
                f"FROM {self.table} {a} WHERE {conditions} "
                f"ORDER BY {self.order(a)} LIMIT {one_more})"
            ), None
        matching, shown = p.alias("matching"), p.alias("shown")
        keys = ", ".join(f"{a}.{column}" for column in self.matching.keys)
        conditions = " AND ".join(self.matching.where(a)) or "1 = 1"
        after = self.matching.after(a)
        return (
            f"{matching} AS MATERIALIZED (SELECT {keys} FROM {self.table} {a} "
            f"WHERE {conditions}), "
            f"{shown} AS (SELECT {a}.id FROM {matching} {a} {'WHERE ' + after if after else ''} "
            f"ORDER BY {self.order(a)} LIMIT {one_more}), "
            f"{rows} AS (SELECT {a}.*, row_number() OVER (ORDER BY {self.order(a)}) AS ct_n "
            f"FROM {self.table} {a} WHERE {a}.id IN (SELECT id FROM {shown}))"
        ), f"(SELECT count(*) FROM {matching})"

    def connection(self, type_name: str, node_type: str, fields: Fields) -> str:
        p = self.p
        d = p.dialect
        rows = p.alias("page")
        a = p.alias("t")
        limit = p.param(self.limit, "int")
        asked = p.subfields(type_name, fields)
        counted = any(details[0].node.name.value == "totalCount" for details in asked.values())
        cte, shared_count = self._rows(rows, a, counted)
        pairs: list[tuple[str, str]] = []
        for key, details in asked.items():
            name = details[0].node.name.value
            if name == "__typename":
                pairs.append((key, f"'{type_name}'"))
            elif name == "edges":
                edge_type = type_name.replace("Connection", "Edge")
                edges = p.array(
                    f"{rows} {a}",
                    f"{a}.ct_n <= {limit}",
                    f"{a}.ct_n",
                    lambda: self._edge(edge_type, node_type, a, details),  # noqa: B023
                )
                pairs.append((key, edges))
            elif name == "pageInfo":
                pairs.append((key, self._page_info(rows, a, limit, details)))
            elif name == "totalCount" and shared_count is not None:
                pairs.append((key, shared_count))
            elif name in self.counts:
                pairs.append((key, self.counts[name](self.table)))
            else:
                raise Declined(f"{type_name}.{name}")
        return d.json_value(f"(WITH {cte} SELECT {d.obj(pairs)})")

    def _edge(self, edge_type: str, node_type: str, a: str, fields: Fields) -> str:
        p = self.p
        pairs: list[tuple[str, str]] = []
        for key, details in p.subfields(edge_type, fields).items():
            name = details[0].node.name.value
            if name == "__typename":
                pairs.append((key, f"'{edge_type}'"))
            elif name == "cursor":
                pairs.append((key, self.cursor(a)))
            elif name == "node":
                pairs.append((key, p.obj(node_type, a, details)))
            else:
                raise Declined(f"{edge_type}.{name}")
        return p.dialect.obj(pairs)

    def _page_info(self, rows: str, a: str, limit: str, fields: Fields) -> str:
        p = self.p
        pairs: list[tuple[str, str]] = []
        least = "min" if p.sqlite else "least"
        for key, details in p.subfields("PageInfo", fields).items():
            name = details[0].node.name.value
            if name == "__typename":
                pairs.append((key, "'PageInfo'"))
            elif name == "hasNextPage":
                more = f"(SELECT count(*) FROM {rows}) > {limit}"
                pairs.append((key, p.dialect.boolean(more)))
            elif name == "endCursor":
                last = f"(SELECT {least}(count(*), {limit}) FROM {rows})"
                cursor = f"(SELECT {self.cursor(a)} FROM {rows} {a} WHERE {a}.ct_n = {last})"
                pairs.append((key, cursor))
            else:
                raise Declined(f"PageInfo.{name}")
        return p.dialect.obj(pairs)


# ---------------------------------------------------------------- tasks


def _task_cursor(p: Planner, order: task_queries.TaskOrder) -> Callable[[str], str]:
    if order == task_queries.TaskOrder.CREATED_AT_DESC:
        return lambda a: p.dialect.cursor(
            order.value, [(f"{a}.created_at", "instant"), (f"{a}.id", "int")]
        )
    return lambda a: p.dialect.cursor(order.value, [(f"{a}.due_date", "date"), (f"{a}.id", "int")])


def _task_order(order: task_queries.TaskOrder, a: str) -> str:
    if order == task_queries.TaskOrder.CREATED_AT_DESC:
        return f"{a}.created_at DESC, {a}.id DESC"
    if order == task_queries.TaskOrder.DUE_DATE_DESC:
        return f"{a}.due_date DESC, {a}.id DESC"
    return f"{a}.due_date ASC, {a}.id ASC"


def _task_after(p: Planner, order: task_queries.TaskOrder, after: str | None, a: str) -> str:
    if after is None:
        return ""
    first_value, last_id = _checked(lambda: decode_cursor(after, order.value, 2))
    try:
        if order == task_queries.TaskOrder.CREATED_AT_DESC:
            instant = datetime.fromisoformat(first_value)
            key = p.param(_stored_instant(p, instant), "timestamptz")
            column = f"{a}.created_at"
        else:
            key = p.param(date.fromisoformat(first_value), "date")
            column = f"{a}.due_date"
    except (TypeError, ValueError):
        raise Declined("cursor") from None
    if type(last_id) is not int or not 0 <= last_id <= 2**31 - 1:
        raise Declined("cursor")
    last = p.param(last_id, "int")
    sign = ">" if order == task_queries.TaskOrder.DUE_DATE_ASC else "<"
    return f"({column}, {a}.id) {sign} ({key}, {last})"


def _stored_instant(p: Planner, instant: datetime) -> Any:
    if instant.tzinfo is None:
        raise ValueError("naive")
    if p.sqlite:  # as SQLAlchemy stores it there
        return instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return instant


def _task_filter(p: Planner, f: task_queries.TaskFilter, a: str) -> list[str]:
    """task_queries.filtered, in the planner's SQL."""
    conditions: list[str] = []
    if not f.include_completed:
        conditions.append(f"{a}.status = 'OPEN'")
    if f.client_id is not None:
        conditions.append(f"{a}.client_id = {p.param(f.client_id, 'int')}")
    if f.responsible_id is not None:
        # IN over the person's assignments, not a correlated EXISTS (SQLite runs that per task).
        conditions.append(
            f"{a}.id IN (SELECT r.task_id FROM task_responsible r "
            f"WHERE r.staff_id = {p.param(f.responsible_id, 'int')})"
        )
    if f.unassigned is not None:
        nobody = (
            f"(NOT EXISTS (SELECT 1 FROM task_responsible r WHERE r.task_id = {a}.id) "
            f"AND {a}.assigned_to_client = FALSE)"
        )
        conditions.append(nobody if f.unassigned else f"NOT {nobody}")
    if f.assigned_to_client is not None:
        # IS TRUE as the partial index of migration 0005 is written.
        flag = "TRUE" if f.assigned_to_client else "FALSE"
        conditions.append(f"{a}.assigned_to_client IS {flag}")
    if f.due_from is not None:
        conditions.append(f"{a}.due_date >= {p.param(f.due_from, 'date')}")
    if f.due_to is not None:
        conditions.append(f"{a}.due_date <= {p.param(f.due_to, 'date')}")
    if f.overdue is not None:
        assert p.viewer_today is not None
        late = p.rule([overdue(p.viewer_today)], lambda attribute: f"{a}.{attribute}")
        if f.overdue:
            conditions.append(late)
        elif f.include_completed:
            conditions.append(f"NOT {late}")
        else:  # open tasks only already: "not overdue" is a range of the due-date index
            conditions.append(f"{a}.due_date >= {p.param(p.viewer_today, 'date')}")
    if f.kind is not None:
        conditions.append(f"{a}.kind = {p.param(f.kind.value, 'text')}")
    if text := clean(f.search):
        pattern = p.param(contains_pattern(text), "text")
        conditions.append(
            f"(lower({a}.name) LIKE {pattern} ESCAPE '\\' OR "
            f"lower(coalesce({a}.details, '')) LIKE {pattern} ESCAPE '\\')"
        )
    return conditions


def _task_page(
    p: Planner,
    fields: Fields,
    scope: permissions.Alternative,
    task_filter: task_queries.TaskFilter,
    order: task_queries.TaskOrder,
    first: int | None,
    after: str | None,
    of_client: str | None = None,
) -> str:
    """A page of tasks; of_client: only those of the client row of that alias (Client.tasks)."""
    limit = _checked(lambda: check_page_size(first))

    def where(a: str) -> list[str]:
        conditions = [p.rule([scope], lambda attribute: f"{a}.{attribute}")]
        if of_client is not None:
            conditions.append(f"{a}.client_id = {of_client}.id")
        conditions += _task_filter(p, task_filter, a)
        return conditions

    def where_after(a: str) -> list[str]:
        keyset = _task_after(p, order, after, a)
        return [*where(a), keyset] if keyset else where(a)

    def total(_table: str) -> str:
        counted = p.alias("t")
        return f"(SELECT count(*) FROM task {counted} WHERE {' AND '.join(where(counted))})"

    selective = (
        task_filter.responsible_id is not None
        or task_filter.client_id is not None
        or of_client is not None
    )
    # Measured at 1M tasks (bench/README.md, "Generic plans for one person's pages"): a
    # generic plan reads one person's or one client's tasks by due date as the custom plan
    # does; by creation time, with a search or with `unassigned` it reads far more.
    same_plan = (
        selective
        and order != task_queries.TaskOrder.CREATED_AT_DESC
        and not clean(task_filter.search)
        and task_filter.unassigned is None
    )
    keys = (
        ("created_at", "id")
        if order == task_queries.TaskOrder.CREATED_AT_DESC
        else ("due_date", "id")
    )
    page = Page(
        p,
        "task",
        where_after,
        lambda a: _task_order(order, a),
        limit,
        _task_cursor(p, order),
        {"totalCount": total},
        Matching(where, lambda a: _task_after(p, order, after, a), keys) if selective else None,
        same_plan_for_all_values=same_plan,
    )
    return page.connection("TaskConnection", "Task", fields)


def tasks(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    from schema.inputs import TaskFilter
    from schema.query import _domain_filter

    staff = _checked(lambda: permissions.require_tasks(p.viewer))
    given = args.get("filter")
    given = TaskFilter(**{_snake(k): v for k, v in given.items()}) if given is not None else None
    task_filter = _checked(lambda: _domain_filter(given))
    order = task_queries.TaskOrder(args.get("order_by") or task_queries.TaskOrder.DUE_DATE_ASC)
    return _task_page(
        p,
        fields,
        permissions.task_list_scope(staff),
        task_filter,
        order,
        args.get("first"),
        args.get("after"),
    )


def my_tasks(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    client = _checked(lambda: permissions.require_client(p.viewer))
    task_filter = task_queries.TaskFilter(include_completed=bool(args.get("include_completed")))
    return _task_page(
        p,
        fields,
        permissions.task_list_scope(client),
        task_filter,
        task_queries.TaskOrder.DUE_DATE_ASC,
        args.get("first"),
        args.get("after"),
    )


def client_tasks(p: Planner, client: str, fields: Fields, args: dict[str, Any]) -> str:
    """Client.tasks: the Tasks screen filtered to the client (services.task_queries)."""
    staff = _checked(lambda: permissions.require_tasks(p.viewer))
    args = {_snake(name): value for name, value in args.items()}
    return _task_page(
        p,
        fields,
        permissions.task_list_scope(staff),
        task_queries.TaskFilter(include_completed=bool(args.get("include_completed"))),
        task_queries.TaskOrder.DUE_DATE_ASC,
        args.get("first"),
        args.get("after"),
        of_client=client,
    )


def task(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    _checked(lambda: permissions.require_task_reader(p.viewer))
    key = key_of(args["id"], "Task")
    return p.row("Task", "task", p.param(key, "int"), fields, where=p.task_visible)


# ---------------------------------------------------------------- people


def me(p: Planner, fields: Fields, _args: dict[str, Any]) -> str:
    viewer = p.viewer
    if isinstance(viewer, StaffViewer):
        return p.row("Staff", "staff", p.param(viewer.staff_id, "int"), fields)
    if isinstance(viewer, ClientViewer):
        return p.row("Client", "client", p.param(viewer.client_id, "int"), fields)
    return "NULL"


def client(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    return _client_by_key(p, fields, key_of(args["id"], "Client"))


def _client_by_key(p: Planner, fields: Fields, key: int) -> str:
    viewer = _checked(lambda: permissions.require_signed_in(p.viewer))
    if isinstance(viewer, ClientViewer) and viewer.client_id != key:
        raise Declined("another client")
    provider = p.param(viewer.provider_id, "int")
    return p.row(
        "Client",
        "client",
        p.param(key, "int"),
        fields,
        where=lambda a: f"{a}.provider_id = {provider}",
    )


def clients(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    staff = _checked(lambda: permissions.require_staff(p.viewer))
    limit = _checked(lambda: check_page_size(args.get("first")))
    provider = p.param(staff.provider_id, "int")
    text = clean(args.get("search"))
    pattern = p.param(contains_pattern(text), "text") if text else None
    after = args.get("after")
    keyset: tuple[str, str] | None = None
    if after is not None:
        name, last_id = _checked(lambda: decode_cursor(after, "CLIENT_NAME", 2))
        if not isinstance(name, str) or type(last_id) is not int or not 0 <= last_id < 2**31:
            raise Declined("cursor")
        keyset = (p.param(name, "text"), p.param(last_id, "int"))

    def where(a: str) -> list[str]:
        conditions = [f"{a}.provider_id = {provider}"]
        if pattern:
            conditions.append(
                f"(lower({a}.name) LIKE {pattern} ESCAPE '\\' OR "
                f"lower(coalesce({a}.email, '')) LIKE {pattern} ESCAPE '\\')"
            )
        return conditions

    def where_after(a: str) -> list[str]:
        if keyset is None:
            return where(a)
        return [*where(a), f"(lower({a}.name), {a}.id) > ({keyset[0]}, {keyset[1]})"]

    def total(_table: str) -> str:
        counted = p.alias("c")
        return f"(SELECT count(*) FROM client {counted} WHERE {' AND '.join(where(counted))})"

    def cursor(a: str) -> str:
        keys = [(f"lower({a}.name)", "text"), (f"{a}.id", "int")]
        return p.dialect.cursor("CLIENT_NAME", keys)

    page = Page(
        p,
        "client",
        where_after,
        lambda a: f"lower({a}.name), {a}.id",
        limit,
        cursor,
        {"totalCount": total},
    )
    return page.connection("ClientConnection", "Client", fields)


# ---------------------------------------------------------------- notifications


def notifications(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    staff = _checked(lambda: permissions.require_staff(p.viewer))
    limit = _checked(lambda: check_page_size(args.get("first")))
    mine = p.param(staff.staff_id, "int")
    unread_only = bool(args.get("unread_only"))
    after = args.get("after")
    after_id = _checked(lambda: notification_id_of(after)) if after is not None else None

    def where(a: str) -> list[str]:
        conditions = [f"{a}.recipient_id = {mine}"]
        if unread_only:
            conditions.append(f"{a}.read_at IS NULL")
        if after_id is not None:
            conditions.append(f"{a}.id < {p.param(after_id, 'int')}")
        return conditions

    def unread(_table: str) -> str:
        u = p.alias("u")
        return (
            f"(SELECT count(*) FROM notification {u} "
            f"WHERE {u}.recipient_id = {mine} AND {u}.read_at IS NULL)"
        )

    def cursor(a: str) -> str:
        return p.dialect.cursor("NOTIFICATION", [(f"{a}.id", "int")])

    page = Page(
        p, "notification", where, lambda a: f"{a}.id DESC", limit, cursor, {"unreadCount": unread}
    )
    return page.connection("NotificationConnection", "Notification", fields)


# ---------------------------------------------------------------- node


def node(p: Planner, fields: Fields, args: dict[str, Any]) -> str:
    decoded = from_global_id(args["id"])
    if decoded is None:
        raise Declined("not an id")
    type_name, key = decoded
    if type_name == "Task":
        return task(p, fields, {"id": args["id"]})
    if type_name == "Client":
        return _client_by_key(p, fields, key)
    if type_name == "Notification":
        staff = _checked(lambda: permissions.require_staff(p.viewer))
        mine = p.param(staff.staff_id, "int")
        return p.row(
            "Notification",
            "notification",
            p.param(key, "int"),
            fields,
            where=lambda a: f"{a}.recipient_id = {mine}",
        )
    if type_name == "ServiceProvider":
        viewer = _checked(lambda: permissions.require_signed_in(p.viewer))
        own = p.param(viewer.provider_id, "int")
        group = viewer.group_id if isinstance(viewer, StaffViewer) else None
        same_group = f" OR {{a}}.group_id = {p.param(group, 'int')}" if group else ""
        return p.row(
            "ServiceProvider",
            "service_provider",
            p.param(key, "int"),
            fields,
            where=lambda a: f"({a}.id = {own}{same_group.format(a=a)})",
        )
    if type_name == "ServiceProviderGroup":
        if not _checked(lambda: permissions.sees_group(p.viewer, key)):
            raise Declined("another group")
        return p.row("ServiceProviderGroup", "service_provider_group", p.param(key, "int"), fields)
    if type_name == "TaskSeries":
        staff = _checked(lambda: permissions.require_tasks(p.viewer))
        provider = p.param(staff.provider_id, "int")
        return p.row(
            "TaskSeries", "task_series", p.param(key, "int"), fields, where=_of_provider(provider)
        )
    if type_name == "Staff":
        staff = _checked(lambda: permissions.require_staff(p.viewer))
        provider = p.param(staff.provider_id, "int")
        return p.row(
            "Staff",
            "staff",
            p.param(key, "int"),
            fields,
            where=lambda a: f"{a}.provider_id = {provider}",
        )
    raise Declined(f"node of {type_name}")


def _of_provider(provider: str) -> Callable[[str], str]:
    return lambda alias: f"{alias}.provider_id = {provider}"


ROOTS: dict[str, tuple[RootSql, bool]] = {
    # name: (SQL of the value, whether a null value means the field-by-field path errs)
    "tasks": (tasks, False),
    "myTasks": (my_tasks, False),
    "task": (task, True),
    "node": (node, True),
    "me": (me, False),
    "client": (client, True),
    "clients": (clients, False),
    "notifications": (notifications, False),
}


def arguments(p: Planner, root_field: Any, details: Fields) -> dict[str, Any]:
    """The root field's arguments, coerced as graphql-core would, under Python names."""
    values = get_argument_values(root_field, details[0].node, p.variables)
    return {_snake(name): value for name, value in values.items()}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
