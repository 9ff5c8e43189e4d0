"""The Dashboard Notifications Widget: who is told what, reading it back, marking it read.

Notifications are written in the same transaction as the change they report, so a refused
change leaves none behind, and a task that is saved always has its notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from schema.ids import to_global_id
from services.pagination import encode_cursor
from tests.conftest import START, Env
from tests.factories import CREATE_TASK, Person, Provider

NOTIFICATIONS = """
query($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    unreadCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id kind message read createdAt cursor
        task { id name responsible { id } serviceProvider { id } }
      }
    }
  }
}
"""
MARK_READ = (
    "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {"
    " unreadCount } }"
)
NODE = (
    "query($id: ID!) { node(id: $id) { __typename id"
    " ... on Notification { kind message read cursor task { id } } } }"
)
SET_GROUP_TASKS = (
    "mutation($input: SetGroupTasksPermissionInput!) { setGroupTasksPermission(input: $input) {"
    " errors { message } } }"
)
UPDATE_STAFF = (
    "mutation($input: UpdateStaffInput!) { updateStaff(input: $input) {"
    " staff { id } errors { message } } }"
)
REASSIGN = (
    "mutation($input: ReassignTaskInput!) { reassignTask(input: $input) {"
    " task { id responsible { id } } errors { field code message } } }"
)
DELETE = (
    "mutation($input: DeleteTaskInput!) { deleteTask(input: $input) {"
    " deletedIds errors { message } } }"
)
TASK_COUNT = "{ tasks(filter: {includeCompleted: true}) { totalCount } }"


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def widget(env: Env, who: Person, **args: Any) -> dict[str, Any]:
    data = await env.api.data(NOTIFICATIONS, args, who.token)
    return data["notifications"]  # type: ignore[no-any-return]


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


async def seen(env: Env, who: Person) -> list[tuple[str, str | None, bool]]:
    """(kind, task name, read) of everything in the person's widget, newest first."""
    return [
        (n["kind"], n["task"]["name"] if n["task"] else None, n["read"])
        for n in nodes(await widget(env, who))
    ]


async def unread(env: Env, who: Person) -> int:
    return int((await widget(env, who, first=0))["unreadCount"])


async def mark_read(env: Env, who: Person, ids: list[str] | None = None) -> int:
    fields = {} if ids is None else {"ids": ids}
    payload = await env.api.mutate("markNotificationsRead", MARK_READ, {"input": fields}, who.token)
    return int(payload["unreadCount"])


async def reassign(env: Env, who: Person, task_id: str, *people: Person) -> dict[str, Any]:
    return await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"input": {"id": task_id, "responsibleIds": [p.id for p in people]}},
        who.token,
    )


async def set_active(env: Env, admin: Person, staff: Person, active: bool) -> None:
    payload = await env.api.mutate(
        "updateStaff", UPDATE_STAFF, {"input": {"id": staff.id, "active": active}}, admin.token
    )
    assert payload["errors"] == [], payload


@dataclass
class Group:
    """Northside sends (Ana holds the group Tasks permission) to Southside."""

    north: Provider
    south: Provider
    ana: Person
    sam: Person
    tom: Person


async def coastal(env: Env) -> Group:
    north = await env.world.provider(name="Northside", group="Coastal", group_admin=True)
    south = await env.world.provider(name="Southside", group="Coastal")
    ana = await env.world.staff(north, "Ana Silva")
    sam = await env.world.staff(south, "Sam Lee")
    tom = await env.world.staff(south, "Tom Tran")
    payload = await env.api.mutate(
        "setGroupTasksPermission",
        SET_GROUP_TASKS,
        {"input": {"staffId": ana.id, "enabled": True}},
        north.admin.token,
    )
    assert payload["errors"] == [], payload
    return Group(north, south, ana, sam, tom)


async def send(env: Env, group: Group, name: str, *responsible: Person) -> dict[str, Any]:
    return await env.world.task(
        group.ana,
        name=name,
        dueDate="2027-03-15",
        serviceProviderId=group.south.id,
        responsibleIds=[p.id for p in responsible],
    )


# ---------------------------------------------------------------- UNASSIGNED_TASK


async def test_an_unassigned_task_alerts_every_tasks_user_of_the_receiving_provider(
    env: Env,
) -> None:
    group = await coastal(env)
    no_tasks = await env.world.staff(group.south, "Nina No Tasks", tasks=False)
    admin_without_tasks = await env.world.staff(
        group.south, "Adam Admin", tasks=False, administrator=True
    )
    gone = await env.world.staff(group.south, "Gus Gone")
    await set_active(env, group.south.admin, gone, False)

    task = await send(env, group, "Follow up the referral")

    for receiver in (group.south.admin, group.sam, group.tom, admin_without_tasks):
        [alert] = nodes(await widget(env, receiver))
        assert alert["kind"] == "UNASSIGNED_TASK"
        assert alert["read"] is False
        assert alert["createdAt"] == START.isoformat()
        assert alert["task"]["id"] == task["id"]
        assert alert["task"]["serviceProvider"]["id"] == group.south.id
        assert "Follow up the referral" in alert["message"]
        assert "Northside" in alert["message"]
        assert "2027-03-15" in alert["message"]
        assert await unread(env, receiver) == 1
    # Not to staff without TASKS, not to the sender's provider.
    for left_out in (no_tasks, group.ana, group.north.admin):
        assert await seen(env, left_out) == []
    # Not to deactivated staff, even once they are back.
    await set_active(env, group.south.admin, gone, True)
    gone.token = await env.world.login(gone.email)
    assert await seen(env, gone) == []


async def test_every_receiver_gets_an_alert_of_their_own(env: Env) -> None:
    group = await coastal(env)
    await send(env, group, "Shared alert")

    [for_sam] = nodes(await widget(env, group.sam))
    [for_tom] = nodes(await widget(env, group.tom))

    assert for_sam["id"] != for_tom["id"]
    assert await mark_read(env, group.sam, [for_sam["id"]]) == 0
    assert await seen(env, group.tom) == [("UNASSIGNED_TASK", "Shared alert", False)]


async def test_a_task_sent_to_named_staff_raises_no_unassigned_alert(env: Env) -> None:
    group = await coastal(env)

    await send(env, group, "For Sam", group.sam)

    assert await seen(env, group.sam) == [("TASK_ASSIGNED", "For Sam", False)]
    assert await seen(env, group.tom) == []
    assert await seen(env, group.south.admin) == []
    assert await seen(env, group.ana) == []


async def test_reassigning_to_nobody_alerts_the_providers_tasks_users(env: Env) -> None:
    provider = await env.world.provider(name="Northside")
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    no_tasks = await env.world.staff(provider, "Nina No Tasks", tasks=False)
    task = await env.world.task(ana, name="Local task", responsibleIds=[ana.id])

    payload = await reassign(env, ana, task["id"])

    assert payload["errors"] == []
    assert payload["task"]["responsible"] == []
    for member in (ana, ben, provider.admin):
        [alert] = nodes(await widget(env, member))
        assert (alert["kind"], alert["task"]["id"], alert["read"]) == (
            "UNASSIGNED_TASK",
            task["id"],
            False,
        )
        assert "Northside" in alert["message"]
    assert await seen(env, no_tasks) == []


async def test_a_sent_task_handed_back_to_nobody_alerts_again(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Hot potato")
    await reassign(env, group.sam, task["id"], group.sam)

    payload = await reassign(env, group.sam, task["id"])

    assert payload["errors"] == []
    assert await seen(env, group.tom) == [
        ("UNASSIGNED_TASK", "Hot potato", False),
        ("UNASSIGNED_TASK", "Hot potato", True),
    ]
    assert "Northside" in nodes(await widget(env, group.tom))[0]["message"]
    assert await seen(env, group.ana) == []


async def test_reassigning_an_unassigned_task_to_nobody_again_changes_nothing(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Still nobody")

    payload = await reassign(env, group.sam, task["id"])

    assert payload["errors"] == []
    assert await seen(env, group.sam) == [("UNASSIGNED_TASK", "Still nobody", False)]


# ---------------------------------------------------------------- resolving the alert


async def test_taking_the_task_reads_the_alert_for_everyone(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Take me")
    await send(env, group, "Leave me")

    payload = await reassign(env, group.tom, task["id"], group.tom)

    assert payload["errors"] == []
    for member in (group.sam, group.tom, group.south.admin):
        assert await seen(env, member) == [
            ("UNASSIGNED_TASK", "Leave me", False),
            ("UNASSIGNED_TASK", "Take me", True),
        ]
        assert await unread(env, member) == 1


async def test_assigning_someone_else_reads_the_alert_and_tells_them(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Give away")

    await reassign(env, group.south.admin, task["id"], group.sam)

    assert await seen(env, group.sam) == [
        ("TASK_ASSIGNED", "Give away", False),
        ("UNASSIGNED_TASK", "Give away", True),
    ]
    assert await seen(env, group.tom) == [("UNASSIGNED_TASK", "Give away", True)]
    assert await seen(env, group.south.admin) == [("UNASSIGNED_TASK", "Give away", True)]
    [assigned, _alert] = nodes(await widget(env, group.sam))
    assert group.south.admin.name in assigned["message"]
    assert assigned["task"]["responsible"] == [{"id": group.sam.id}]


async def test_a_refused_reassignment_leaves_the_alerts_alone(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Wrong person")

    payload = await reassign(env, group.sam, task["id"], group.ana)

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        (["input", "responsibleIds"], "INVALID")
    ]
    for member in (group.sam, group.tom):
        assert await seen(env, member) == [("UNASSIGNED_TASK", "Wrong person", False)]
    assert await seen(env, group.ana) == []

    stale = await env.api.mutate(
        "reassignTask",
        REASSIGN,
        {"input": {"id": task["id"], "responsibleIds": [group.tom.id], "expectedVersion": 0}},
        group.sam.token,
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert await seen(env, group.tom) == [("UNASSIGNED_TASK", "Wrong person", False)]


# ---------------------------------------------------------------- TASK_ASSIGNED


async def test_staff_made_responsible_by_someone_else_are_told(env: Env) -> None:
    provider = await env.world.provider(name="Northside")
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    cat = await env.world.staff(provider, "Cat Chen")

    task = await env.world.task(ana, name="Call Daniel", responsibleIds=[ana.id, ben.id])

    assert await seen(env, ana) == []
    [told] = nodes(await widget(env, ben))
    assert told["kind"] == "TASK_ASSIGNED"
    assert told["task"]["id"] == task["id"]
    assert "Ana Silva" in told["message"] and "Call Daniel" in told["message"]

    await reassign(env, ana, task["id"], ben, cat)

    assert await seen(env, ben) == [("TASK_ASSIGNED", "Call Daniel", False)]
    assert await seen(env, cat) == [("TASK_ASSIGNED", "Call Daniel", False)]
    assert await seen(env, ana) == []
    assert await seen(env, provider.admin) == []


async def test_taking_a_task_yourself_tells_nobody(env: Env) -> None:
    provider = await env.world.provider()
    ana = await env.world.staff(provider, "Ana Silva")
    ben = await env.world.staff(provider, "Ben Okafor")
    task = await env.world.task(ben, name="Ben's", responsibleIds=[ben.id])

    await reassign(env, ana, task["id"], ana)

    assert await seen(env, ana) == []
    assert await seen(env, ben) == []


async def test_a_task_sent_to_named_staff_tells_each_of_them(env: Env) -> None:
    group = await coastal(env)

    await send(env, group, "Two of you", group.sam, group.tom)

    for member in (group.sam, group.tom):
        [told] = nodes(await widget(env, member))
        assert told["kind"] == "TASK_ASSIGNED"
        assert "Ana Silva" in told["message"]
    assert await seen(env, group.south.admin) == []


# ---------------------------------------------------------------- same transaction


async def test_a_refused_task_leaves_no_notification(env: Env) -> None:
    group = await coastal(env)

    body = await env.api.post(
        CREATE_TASK,
        {"input": {"name": "No due date", "serviceProviderId": group.south.id}},
        group.ana.token,
    )
    refused = await env.api.post(
        CREATE_TASK,
        {
            "input": {
                "name": "Unknown person",
                "dueDate": "2027-03-15",
                "serviceProviderId": group.south.id,
                "responsibleIds": [group.sam.id, to_global_id("Staff", 99999)],
            }
        },
        group.ana.token,
    )

    for payload in (body, refused):
        assert payload["data"]["createTask"]["task"] is None
        assert payload["data"]["createTask"]["errors"]
    for member in (group.sam, group.tom, group.south.admin, group.ana):
        assert await seen(env, member) == []
    assert (await env.api.data(TASK_COUNT, token=group.sam.token))["tasks"]["totalCount"] == 0


async def test_each_saved_task_has_its_notifications_at_once(env: Env) -> None:
    group = await coastal(env)

    created = [await send(env, group, f"Task {n}") for n in range(3)]

    tasks_on_screen = await env.api.data(
        "{ tasks { edges { node { id } } } }", token=group.sam.token
    )
    task_ids = {edge["node"]["id"] for edge in tasks_on_screen["tasks"]["edges"]}
    alert_task_ids = {n["task"]["id"] for n in nodes(await widget(env, group.sam))}
    assert task_ids == alert_task_ids == {t["id"] for t in created}


async def test_a_deleted_task_leaves_its_notification_without_the_task(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Short lived")
    await send(env, group, "Kept")

    deleted = await env.api.mutate(
        "deleteTask", DELETE, {"input": {"id": task["id"]}}, group.sam.token
    )

    assert deleted["deletedIds"] == [task["id"]]
    assert await seen(env, group.tom) == [
        ("UNASSIGNED_TASK", "Kept", False),
        ("UNASSIGNED_TASK", None, False),
    ]
    [_kept_alert, orphan] = nodes(await widget(env, group.tom))
    assert "Short lived" in orphan["message"]
    assert (await env.api.data(NODE, {"id": orphan["id"]}, group.tom.token))["node"]["task"] is None


# ---------------------------------------------------------------- reading the widget


async def alerts(env: Env, group: Group, count: int) -> list[str]:
    """count tasks sent one minute apart; the names, oldest first."""
    names = []
    for n in range(count):
        names.append(f"Alert {n}")
        await send(env, group, names[-1])
        env.clock.advance(timedelta(minutes=1))
    return names


async def test_the_widget_lists_newest_first_with_the_unread_count(env: Env) -> None:
    group = await coastal(env)
    names = await alerts(env, group, 3)

    connection = await widget(env, group.sam)

    listed = nodes(connection)
    assert [n["task"]["name"] for n in listed] == list(reversed(names))
    assert [n["createdAt"] for n in listed] == [
        (START + timedelta(minutes=m)).isoformat() for m in (2, 1, 0)
    ]
    assert connection["unreadCount"] == 3
    assert connection["pageInfo"] == {"hasNextPage": False, "endCursor": listed[-1]["cursor"]}
    assert [e["cursor"] for e in connection["edges"]] == [n["cursor"] for n in listed]
    assert all(n["cursor"] for n in listed)


async def test_unread_only_leaves_out_what_was_read(env: Env) -> None:
    group = await coastal(env)
    await alerts(env, group, 3)
    [newest, middle, oldest] = nodes(await widget(env, group.sam))
    await mark_read(env, group.sam, [middle["id"]])

    connection = await widget(env, group.sam, unreadOnly=True)

    assert [n["id"] for n in nodes(connection)] == [newest["id"], oldest["id"]]
    assert connection["unreadCount"] == 2
    assert len(nodes(await widget(env, group.sam, unreadOnly=False))) == 3


async def test_pages_follow_the_cursor_without_gaps_or_repeats(env: Env) -> None:
    group = await coastal(env)
    names = await alerts(env, group, 5)

    first = await widget(env, group.sam, first=2)
    # A new alert arriving between pages goes on top and does not shift the pages below.
    await send(env, group, "Late arrival")
    second = await widget(env, group.sam, first=2, after=first["pageInfo"]["endCursor"])
    third = await widget(env, group.sam, first=2, after=second["pageInfo"]["endCursor"])

    pages = [first, second, third]
    assert [[n["task"]["name"] for n in nodes(p)] for p in pages] == [
        [names[4], names[3]],
        [names[2], names[1]],
        [names[0]],
    ]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["unreadCount"] for p in pages] == [5, 6, 6]
    # A node's own cursor resumes exactly after it.
    middle = nodes(second)[0]
    resumed = await widget(env, group.sam, first=1, after=middle["cursor"])
    assert [n["task"]["name"] for n in nodes(resumed)] == [names[1]]


async def test_unread_only_pages_too(env: Env) -> None:
    group = await coastal(env)
    names = await alerts(env, group, 4)
    listed = nodes(await widget(env, group.sam))
    await mark_read(env, group.sam, [listed[1]["id"]])  # names[2]

    first = await widget(env, group.sam, unreadOnly=True, first=2)
    rest = await widget(
        env, group.sam, unreadOnly=True, first=2, after=first["pageInfo"]["endCursor"]
    )

    assert [n["task"]["name"] for n in nodes(first)] == [names[3], names[1]]
    assert [n["task"]["name"] for n in nodes(rest)] == [names[0]]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    "after",
    [
        "not a cursor",
        encode_cursor("DUE_DATE_ASC", ["2027-03-01", 1]),
        encode_cursor("NOTIFICATION", ["one"]),
        encode_cursor("NOTIFICATION", [None]),
        encode_cursor("NOTIFICATION", [2**40]),
        encode_cursor("NOTIFICATION", [[1]]),
    ],
)
async def test_a_cursor_not_from_this_list_is_bad_user_input(env: Env, after: str) -> None:
    provider = await env.world.provider()

    body = await env.api.post(NOTIFICATIONS, {"after": after}, provider.admin.token)

    assert codes(body) == ["BAD_USER_INPUT"], body


async def test_the_widget_needs_a_signed_in_staff_member(env: Env) -> None:
    assert codes(await env.api.post(NOTIFICATIONS)) == ["UNAUTHENTICATED"]
    assert codes(await env.api.post(MARK_READ, {"input": {}})) == ["UNAUTHENTICATED"]
    assert codes(await env.api.post(NOTIFICATIONS, token="not-a-token")) == ["UNAUTHENTICATED"]


# ---------------------------------------------------------------- marking read


async def test_marking_some_notifications_read(env: Env) -> None:
    group = await coastal(env)
    await alerts(env, group, 3)
    [newest, middle, oldest] = nodes(await widget(env, group.sam))

    remaining = await mark_read(env, group.sam, [newest["id"], oldest["id"]])

    assert remaining == 1
    assert [(n["id"], n["read"]) for n in nodes(await widget(env, group.sam))] == [
        (newest["id"], True),
        (middle["id"], False),
        (oldest["id"], True),
    ]
    # Marking again, or marking nothing, changes nothing.
    assert await mark_read(env, group.sam, [newest["id"]]) == 1
    assert await mark_read(env, group.sam, []) == 1
    assert await unread(env, group.tom) == 3


async def test_marking_all_read_when_ids_are_left_out(env: Env) -> None:
    group = await coastal(env)
    await alerts(env, group, 3)

    assert await mark_read(env, group.sam) == 0

    assert [read for _kind, _name, read in await seen(env, group.sam)] == [True, True, True]
    assert await unread(env, group.tom) == 3
    await send(env, group, "After marking")
    assert await seen(env, group.sam) == [
        ("UNASSIGNED_TASK", "After marking", False),
        ("UNASSIGNED_TASK", "Alert 2", True),
        ("UNASSIGNED_TASK", "Alert 1", True),
        ("UNASSIGNED_TASK", "Alert 0", True),
    ]


async def test_marking_someone_elses_notification_does_nothing_to_it(env: Env) -> None:
    group = await coastal(env)
    await alerts(env, group, 2)
    toms = [n["id"] for n in nodes(await widget(env, group.tom))]
    sams = [n["id"] for n in nodes(await widget(env, group.sam))]

    remaining = await mark_read(env, group.sam, [*toms, sams[0]])

    assert remaining == 1
    assert [n["read"] for n in nodes(await widget(env, group.tom))] == [False, False]
    assert await mark_read(env, group.ana, toms) == 0
    assert await unread(env, group.tom) == 2


async def test_ids_of_other_types_mark_nothing(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Not a notification")

    assert await mark_read(env, group.sam, [task["id"], "garbage"]) == 1
    assert await seen(env, group.sam) == [("UNASSIGNED_TASK", "Not a notification", False)]


# ---------------------------------------------------------------- node(id)


async def test_node_resolves_a_notification_for_its_recipient_only(env: Env) -> None:
    group = await coastal(env)
    task = await send(env, group, "Mine alone")
    [mine] = nodes(await widget(env, group.sam))

    found = await env.api.data(NODE, {"id": mine["id"]}, group.sam.token)

    assert found["node"] == {
        "__typename": "Notification",
        "id": mine["id"],
        "kind": "UNASSIGNED_TASK",
        "message": mine["message"],
        "read": False,
        "cursor": mine["cursor"],
        "task": {"id": task["id"]},
    }
    # A colleague with an alert of their own, the provider's admin, the sender: not theirs.
    for stranger in (group.tom, group.south.admin, group.ana, group.north.admin):
        body = await env.api.post(NODE, {"id": mine["id"]}, stranger.token)
        assert codes(body) == ["NOT_FOUND"], body
        assert body["data"] == {"node": None}
    assert codes(await env.api.post(NODE, {"id": mine["id"]})) == ["UNAUTHENTICATED"]
    missing = to_global_id("Notification", 99999)
    assert codes(await env.api.post(NODE, {"id": missing}, group.sam.token)) == ["NOT_FOUND"]
