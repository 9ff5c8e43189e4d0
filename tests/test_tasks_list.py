"""The Tasks screen: tasks(filter, orderBy, first, after) with totals, overdue and paging."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import START, Env
from tests.factories import Person, Provider

LIST = """
query($filter: TaskFilter, $orderBy: TaskOrder, $first: Int, $after: String) {
  tasks(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name dueDate overdue status } }
  }
}
"""
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) {"
    " task { id } errors { message } } }"
)
REASSIGN = (
    "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
    " task { id } errors { message } } }"
)


async def listing(env: Env, who: Person, **arguments: Any) -> dict[str, Any]:
    """The TaskConnection for the given arguments (left-out ones take the schema's defaults)."""
    return (await env.api.data(LIST, arguments, who.token))["tasks"]  # type: ignore[no-any-return]


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def error_of(env: Env, who: Person, **arguments: Any) -> dict[str, Any]:
    body = await env.api.post(LIST, arguments, who.token)
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]  # type: ignore[no-any-return]


async def complete(env: Env, who: Person, task: dict[str, Any]) -> None:
    result = await env.api.mutate(
        "completeTask", COMPLETE, {"input": {"id": task["id"]}}, who.token
    )
    assert result["errors"] == []


async def reassign(env: Env, who: Person, task: dict[str, Any], staff: list[str]) -> None:
    variables = {"input": {"id": task["id"], "responsibleIds": staff}}
    result = await env.api.mutate("reassignTask", REASSIGN, variables, who.token)
    assert result["errors"] == []


async def walk(env: Env, who: Person, size: int, **arguments: Any) -> list[list[str]]:
    """Every page of the list, following endCursor, as lists of task names."""
    pages: list[list[str]] = []
    after = None
    while True:
        page = await listing(env, who, first=size, after=after, **arguments)
        pages.append(names(page))
        assert page["pageInfo"]["endCursor"] == (
            page["edges"][-1]["cursor"] if page["edges"] else None
        )
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 50, "the pages never end"


# ---------------------------------------------------------------- a Tasks screen to filter


@dataclass
class Screen:
    provider: Provider
    ana: Person
    ben: Person
    daniel: str
    fatima: str


async def screen(env: Env) -> Screen:
    """Today is 2027-03-01 in Sydney. Six tasks of one provider (one done), one of another."""
    provider = await env.world.provider(name="Northside")
    ana = provider.admin
    ben = await env.world.staff(provider, "Ben Okafor")
    daniel = await env.world.client(provider, "Daniel Harris")
    fatima = await env.world.client(provider, "Fatima Rahman")
    await env.world.task(ana, name="Call Daniel", dueDate="2027-03-10", clientId=daniel)
    await env.world.task(
        ben,
        name="Email Fatima",
        details="About the CV",
        dueDate="2027-03-05",
        clientId=fatima,
        responsibleIds=[ben.id],
    )
    await env.world.task(
        ana, name="Team meeting", dueDate="2027-02-20", responsibleIds=[ana.id, ben.id]
    )
    await env.world.task(
        ana,
        name="Update CV",
        dueDate="2027-03-08",
        clientId=fatima,
        assignedToClient=True,
        responsibleIds=[],
    )
    supplies = await env.world.task(ana, name="Order supplies", dueDate="2027-03-01")
    await reassign(env, ana, supplies, [])
    report = await env.world.task(ana, name="Old report", dueDate="2027-02-10", clientId=daniel)
    await complete(env, ana, report)
    other = await env.world.provider(name="Southside")
    await env.world.task(other.admin, name="Southside task", dueDate="2027-03-02")
    return Screen(provider, ana, ben, daniel, fatima)


ALL_OPEN = ["Team meeting", "Order supplies", "Email Fatima", "Update CV", "Call Daniel"]


async def check_filters(env: Env, s: Screen, cases: list[tuple[dict[str, Any], list[str]]]) -> None:
    """Each filter lists exactly the expected tasks, in due date order, with a matching total."""
    ids = {"@daniel": s.daniel, "@fatima": s.fatima, "@ana": s.ana.id, "@ben": s.ben.id}
    wrong = []
    for task_filter, expected in cases:
        given = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in task_filter.items()}
        connection = await listing(env, s.ana, filter=given)
        found = (names(connection), connection["totalCount"])
        if found != (expected, len(expected)):
            wrong.append((task_filter, "expected", expected, "found", found))
    assert wrong == []


async def test_by_default_open_tasks_of_the_own_provider_by_due_date(env: Env) -> None:
    s = await screen(env)
    connection = await listing(env, s.ana)
    assert names(connection) == ALL_OPEN
    assert connection["totalCount"] == 5
    assert connection["pageInfo"]["hasNextPage"] is False
    await check_filters(
        env,
        s,
        [
            ({}, ALL_OPEN),
            ({"includeCompleted": False}, ALL_OPEN),
            ({"includeCompleted": True}, ["Old report", *ALL_OPEN]),
        ],
    )


async def test_filter_by_client_and_who_is_responsible(env: Env) -> None:
    s = await screen(env)
    await check_filters(
        env,
        s,
        [
            ({"clientId": "@daniel"}, ["Call Daniel"]),
            ({"clientId": "@daniel", "includeCompleted": True}, ["Old report", "Call Daniel"]),
            ({"clientId": "@fatima"}, ["Email Fatima", "Update CV"]),
            ({"responsibleId": "@ben"}, ["Team meeting", "Email Fatima"]),
            ({"responsibleId": "@ana"}, ["Team meeting", "Call Daniel"]),
            ({"unassigned": True}, ["Order supplies"]),
            ({"unassigned": False}, ["Team meeting", "Email Fatima", "Update CV", "Call Daniel"]),
            ({"assignedToClient": True}, ["Update CV"]),
            (
                {"assignedToClient": False},
                ["Team meeting", "Order supplies", "Email Fatima", "Call Daniel"],
            ),
        ],
    )


async def test_filter_by_due_date_overdue_and_kind(env: Env) -> None:
    s = await screen(env)
    await check_filters(
        env,
        s,
        [
            (
                {"dueFrom": "2027-03-01"},
                ["Order supplies", "Email Fatima", "Update CV", "Call Daniel"],
            ),
            ({"dueTo": "2027-03-05"}, ["Team meeting", "Order supplies", "Email Fatima"]),
            (
                {"dueFrom": "2027-03-05", "dueTo": "2027-03-10"},
                ["Email Fatima", "Update CV", "Call Daniel"],
            ),
            ({"dueFrom": "2027-03-06", "dueTo": "2027-03-07"}, []),
            ({"dueFrom": "2027-03-10", "dueTo": "2027-03-01"}, []),
            ({"overdue": True}, ["Team meeting"]),
            ({"overdue": True, "includeCompleted": True}, ["Team meeting"]),
            ({"overdue": False}, ["Order supplies", "Email Fatima", "Update CV", "Call Daniel"]),
            (
                {"overdue": False, "includeCompleted": True},
                ["Old report", "Order supplies", "Email Fatima", "Update CV", "Call Daniel"],
            ),
            ({"kind": "STANDARD"}, ALL_OPEN),
            ({"kind": "REPEATING"}, []),
            ({"kind": "POST_EMPLOYMENT_OUTREACH"}, []),
        ],
    )


async def test_filter_by_words_and_by_several_fields_at_once(env: Env) -> None:
    s = await screen(env)
    await check_filters(
        env,
        s,
        [
            ({"search": "daniel"}, ["Call Daniel"]),
            ({"search": "  EMAIL  "}, ["Email Fatima"]),
            ({"search": "the cv"}, ["Email Fatima"]),
            ({"search": "cv"}, ["Email Fatima", "Update CV"]),
            ({"search": "   "}, ALL_OPEN),
            ({"search": "report"}, []),
            ({"search": "report", "includeCompleted": True}, ["Old report"]),
            ({"search": "southside"}, []),
            ({"responsibleId": "@ben", "overdue": False}, ["Email Fatima"]),
            ({"clientId": "@fatima", "search": "meeting"}, []),
            ({"clientId": "@fatima", "assignedToClient": False}, ["Email Fatima"]),
            (
                {"clientId": "@daniel", "dueFrom": "2027-03-01", "includeCompleted": True},
                ["Call Daniel"],
            ),
        ],
    )


async def test_filters_on_other_providers_records_find_nothing(env: Env) -> None:
    s = await screen(env)
    other = await env.world.provider()
    their_client = await env.world.client(other)
    await env.world.task(other.admin, clientId=their_client)

    by_client = await listing(env, s.ana, filter={"clientId": their_client})
    by_staff = await listing(env, s.ana, filter={"responsibleId": other.admin.id})

    assert (by_client["totalCount"], by_client["edges"]) == (0, [])
    assert (by_staff["totalCount"], by_staff["edges"]) == (0, [])


async def test_an_impossible_filter_date_is_a_clear_error(env: Env) -> None:
    provider = await env.world.provider()
    error = await error_of(env, provider.admin, filter={"dueFrom": "2027-02-30"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "2027-02-30" in error["message"]


# ---------------------------------------------------------------- search


async def test_search_matches_text_literally_and_case_insensitively(env: Env) -> None:
    provider = await env.world.provider()
    for day, (name, details) in enumerate(
        [
            ("Raise pay by 10%", None),
            ("Raise pay by 100 dollars", "nothing special"),
            ("Check form_b", "Bring it HOME"),
            ("Check formab", None),
            ("Scan C:\\docs", None),
            ("Ana's visit", None),
            ("Home visit", None),
            ("Call Émile", "Über die Straße"),
        ],
        start=10,
    ):
        await env.world.task(provider.admin, name=name, details=details, dueDate=f"2027-03-{day}")
    cases = [
        ("%", ["Raise pay by 10%"]),
        ("10%", ["Raise pay by 10%"]),
        ("_", ["Check form_b"]),
        ("m_b", ["Check form_b"]),
        ("\\", ["Scan C:\\docs"]),
        ("'", ["Ana's visit"]),
        ("ANA'S", ["Ana's visit"]),
        ("visit", ["Ana's visit", "Home visit"]),
        ("HOME", ["Check form_b", "Home visit"]),
        ("émile", ["Call Émile"]),
        ("ÉMILE", ["Call Émile"]),
        ("über", ["Call Émile"]),
    ]

    wrong = []
    for search, expected in cases:
        connection = await listing(env, provider.admin, filter={"search": search})
        found = (names(connection), connection["totalCount"])
        if found != (expected, len(expected)):
            wrong.append((search, "expected", expected, "found", found))
    assert wrong == []


# ---------------------------------------------------------------- order


async def three_tasks(env: Env) -> Person:
    """Created in the order B, C, A, an hour apart; due A < B < C."""
    provider = await env.world.provider()
    for name, due in (("B", "2027-03-10"), ("C", "2027-03-20"), ("A", "2027-03-05")):
        await env.world.task(provider.admin, name=name, dueDate=due)
        env.clock.advance(timedelta(hours=1))
    return provider.admin


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ({}, ["A", "B", "C"]),
        ({"orderBy": "DUE_DATE_ASC"}, ["A", "B", "C"]),
        ({"orderBy": "DUE_DATE_DESC"}, ["C", "B", "A"]),
        ({"orderBy": "CREATED_AT_DESC"}, ["A", "C", "B"]),
    ],
)
async def test_orders(env: Env, order: dict[str, str], expected: list[str]) -> None:
    admin = await three_tasks(env)
    assert names(await listing(env, admin, **order)) == expected


async def test_tasks_due_the_same_day_keep_a_stable_order(env: Env) -> None:
    provider = await env.world.provider()
    for name in ("first", "second", "third"):
        await env.world.task(provider.admin, name=name, dueDate="2027-03-10")

    ascending = names(await listing(env, provider.admin, orderBy="DUE_DATE_ASC"))
    descending = names(await listing(env, provider.admin, orderBy="DUE_DATE_DESC"))
    newest = names(await listing(env, provider.admin, orderBy="CREATED_AT_DESC"))

    assert ascending == ["first", "second", "third"]
    assert descending == ["third", "second", "first"]
    assert newest == ["third", "second", "first"]  # created at the same instant


# ---------------------------------------------------------------- pages


async def many_tasks(env: Env, count: int) -> Person:
    """Tasks T01..Tnn, due two to a day, created a minute apart (sometimes in the same minute)."""
    provider = await env.world.provider()
    for n in range(1, count + 1):
        day = 1 + (n - 1) // 2
        await env.world.task(provider.admin, name=f"T{n:02}", dueDate=f"2027-04-{day:02}")
        if n % 3:
            env.clock.advance(timedelta(minutes=1))
    return provider.admin


@pytest.mark.parametrize("order", ["DUE_DATE_ASC", "DUE_DATE_DESC", "CREATED_AT_DESC"])
async def test_pages_cover_the_list_once_in_order(env: Env, order: str) -> None:
    admin = await many_tasks(env, 11)
    everything = names(await listing(env, admin, orderBy=order))
    assert len(set(everything)) == 11

    # Every page size puts a page boundary somewhere else, also between tasks due (or created)
    # at the same moment.
    for size in (1, 2, 3, 4, 5):
        pages = await walk(env, admin, size, orderBy=order)
        assert [len(p) for p in pages] == [size] * (11 // size) + ([11 % size] if 11 % size else [])
        assert [name for page in pages for name in page] == everything, size


async def test_total_count_is_the_whole_filtered_list_not_the_page(env: Env) -> None:
    admin = await many_tasks(env, 7)
    page = await listing(env, admin, first=2, filter={"dueFrom": "2027-04-02"})
    assert names(page) == ["T03", "T04"]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is True


async def test_a_page_exactly_at_the_end_says_there_is_no_next_page(env: Env) -> None:
    admin = await many_tasks(env, 4)
    first = await listing(env, admin, first=4)
    assert first["pageInfo"]["hasNextPage"] is False
    rest = await listing(env, admin, first=4, after=first["pageInfo"]["endCursor"])
    assert rest["edges"] == []
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert rest["totalCount"] == 4


async def test_paging_by_due_date_survives_tasks_added_between_pages(env: Env) -> None:
    admin = await many_tasks(env, 8)  # T01..T08 due 04-01 .. 04-04
    page = await listing(env, admin, first=3)
    seen = names(page)
    assert seen == ["T01", "T02", "T03"]

    # Someone adds tasks above, at, and below where the first page ended.
    for name, due in (("early", "2027-03-20"), ("tie", "2027-04-02"), ("late", "2027-04-30")):
        await env.world.task(admin, name=name, dueDate=due)
    after = page["pageInfo"]["endCursor"]
    while True:
        page = await listing(env, admin, first=3, after=after)
        seen += names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    originals = [f"T{n:02}" for n in range(1, 9)]
    assert len(seen) == len(set(seen)), seen
    assert [n for n in seen if n in originals] == originals
    assert seen == ["T01", "T02", "T03", "T04", "tie", "T05", "T06", "T07", "T08", "late"]


async def test_paging_newest_first_survives_tasks_added_between_pages(env: Env) -> None:
    admin = await many_tasks(env, 7)
    pages = [names(page := await listing(env, admin, first=3, orderBy="CREATED_AT_DESC"))]
    env.clock.advance(timedelta(minutes=5))
    await env.world.task(admin, name="newer")

    while page["pageInfo"]["hasNextPage"]:
        page = await listing(
            env, admin, first=3, orderBy="CREATED_AT_DESC", after=page["pageInfo"]["endCursor"]
        )
        pages.append(names(page))

    assert [n for p in pages for n in p] == [f"T{n:02}" for n in range(7, 0, -1)]


async def test_paging_skips_tasks_completed_in_between_without_skipping_others(env: Env) -> None:
    admin = await many_tasks(env, 6)
    page = await listing(env, admin, first=2)
    assert names(page) == ["T01", "T02"]
    open_tasks = (await listing(env, admin))["edges"]
    await complete(env, admin, open_tasks[1]["node"])  # the cursor row itself
    await complete(env, admin, open_tasks[2]["node"])

    rest = await listing(env, admin, first=10, after=page["pageInfo"]["endCursor"])

    assert names(rest) == ["T04", "T05", "T06"]


async def test_first_accepts_zero_to_two_hundred(env: Env) -> None:
    admin = await many_tasks(env, 3)
    none = await listing(env, admin, first=0)
    most = await listing(env, admin, first=200)
    assert (none["edges"], none["totalCount"]) == ([], 3)
    assert names(most) == ["T01", "T02", "T03"]


@pytest.mark.parametrize("first", [201, 1000, -1])
async def test_first_outside_the_cap_is_a_clear_error(env: Env, first: int) -> None:
    provider = await env.world.provider()
    error = await error_of(env, provider.admin, first=first)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "200" in error["message"]


def forged(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    "garbage",
    "",
    "%%%",
    forged("DUE_DATE_ASC"),
    forged("DUE_DATE_ASC", "2027-04-01"),
    forged("DUE_DATE_ASC", "2027-02-30", 1),
    forged("DUE_DATE_ASC", 20270401, 1),
    forged("DUE_DATE_ASC", "2027-04-01", "one"),
    forged("DUE_DATE_ASC", "2027-04-01", "1"),
    forged("DUE_DATE_ASC", "2027-04-01", None),
    forged("DUE_DATE_ASC", "2027-04-01", 1.5),
    forged("DUE_DATE_ASC", "2027-04-01", True),
    forged("DUE_DATE_ASC", "2027-04-01", 99999999999999999999),
    forged("DUE_DATE_ASC", "2027-04-01", 1, 2),
    forged("CREATED_AT_DESC", "2027-04-01T00:00:00+00:00", 1),
    base64.urlsafe_b64encode(b'{"order": "DUE_DATE_ASC"}').decode(),
]


async def test_a_cursor_not_from_this_list_is_a_clear_error(env: Env) -> None:
    admin = await many_tasks(env, 2)
    wrong = []
    for cursor in FORGED_CURSORS:
        body = await env.api.post(LIST, {"first": 1, "after": cursor}, admin.token)
        codes = [e.get("extensions") for e in body.get("errors") or []]
        if body.get("data") is not None or codes != [{"code": "BAD_USER_INPUT"}]:
            wrong.append((cursor, body))
        elif "cursor" not in body["errors"][0]["message"]:
            wrong.append((cursor, body["errors"][0]["message"]))
    assert wrong == []


async def test_a_cursor_of_another_order_is_refused(env: Env) -> None:
    admin = await many_tasks(env, 3)
    newest = await listing(env, admin, first=1, orderBy="CREATED_AT_DESC")
    error = await error_of(
        env, admin, after=newest["pageInfo"]["endCursor"], orderBy="DUE_DATE_ASC"
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


# ---------------------------------------------------------------- overdue, in provider time


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def overdue_where(env: Env, timezone: str) -> tuple[bool, list[str]]:
    """A task due 2027-03-01 at a provider in the timezone: its overdue flag, the overdue list."""
    provider = await env.world.provider(timezone=timezone)
    task = await env.world.task(provider.admin, name="Due 1 March", dueDate="2027-03-01")
    listed = await listing(env, provider.admin, filter={"overdue": True})
    return task["overdue"], names(listed)


@pytest.mark.parametrize(
    ("now", "timezone", "overdue"),
    [
        # 11:30 UTC on 1 March: already 2 March in Auckland (UTC+13), still 1 March in LA.
        ("2027-03-01T11:30", "Pacific/Auckland", True),
        ("2027-03-01T11:30", "America/Los_Angeles", False),
        # 07:30 UTC on 2 March: 2 March in UTC and Auckland, still 1 March in LA (UTC-8).
        ("2027-03-02T07:30", "America/Los_Angeles", False),
        ("2027-03-02T07:30", "Pacific/Auckland", True),
        ("2027-03-02T08:30", "America/Los_Angeles", True),
        ("2027-03-01T10:59", "Pacific/Auckland", False),
        ("2027-03-01T11:00", "Pacific/Auckland", True),
    ],
)
async def test_overdue_is_judged_in_the_providers_timezone(
    env: Env, now: str, timezone: str, overdue: bool
) -> None:
    env.clock.set(utc(now))
    flag, listed = await overdue_where(env, timezone)
    assert flag is overdue
    assert listed == (["Due 1 March"] if overdue else [])


async def test_two_providers_see_the_same_due_date_differently_at_the_same_moment(
    env: Env,
) -> None:
    env.clock.set(utc("2027-03-01T12:00"))
    auckland = await env.world.provider(timezone="Pacific/Auckland")
    los_angeles = await env.world.provider(timezone="America/Los_Angeles")
    for provider in (auckland, los_angeles):
        await env.world.task(provider.admin, name="Due 1 March", dueDate="2027-03-01")

    in_auckland = await listing(env, auckland.admin)
    in_los_angeles = await listing(env, los_angeles.admin)

    assert in_auckland["edges"][0]["node"]["overdue"] is True
    assert in_los_angeles["edges"][0]["node"]["overdue"] is False
    assert (await listing(env, auckland.admin, filter={"overdue": False}))["totalCount"] == 0
    assert (await listing(env, los_angeles.admin, filter={"overdue": False}))["totalCount"] == 1


async def test_a_task_becomes_overdue_when_its_day_ends(env: Env) -> None:
    provider = await env.world.provider()  # Sydney, where it is 10:00 on 1 March
    await env.world.task(provider.admin, name="Due today", dueDate="2027-03-01")
    assert (await listing(env, provider.admin))["edges"][0]["node"]["overdue"] is False

    env.clock.set(START + timedelta(hours=14))  # midnight in Sydney
    provider.admin.token = await env.world.login(provider.admin.email)  # the old one expired

    listed = await listing(env, provider.admin, filter={"overdue": True})
    assert names(listed) == ["Due today"]
    assert listed["edges"][0]["node"]["overdue"] is True


async def test_a_completed_task_is_never_overdue(env: Env) -> None:
    provider = await env.world.provider()
    task = await env.world.task(provider.admin, name="Late", dueDate="2027-02-01")
    await complete(env, provider.admin, task)

    listed = await listing(env, provider.admin, filter={"includeCompleted": True})

    assert listed["edges"][0]["node"]["overdue"] is False
    assert listed["edges"][0]["node"]["status"] == "COMPLETED"
