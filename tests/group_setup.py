"""Two providers of one group, the sender holding the group Tasks permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.factories import Person, Provider, World

SET_GROUP_TASKS = (
    "mutation($input: SetGroupTasksPermissionInput!) { setGroupTasksPermission(input: $input) {"
    " staff { id groupTasksPermission } errors { message } } }"
)

SEND_TASK = (
    "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
    " task { id name } errors { field code message } } }"
)


@dataclass
class Group:
    sender: Provider
    receiver: Provider
    receiving_staff: Person

    @property
    def caseworker(self) -> Person:
        """The sender's administrator, who holds the group Tasks permission."""
        return self.sender.admin


async def group_of_two(world: World, name: str = "Harbour Network") -> Group:
    sender = await world.provider(group=name, group_admin=True)
    receiver = await world.provider(group=name)
    payload = await world.api.mutate(
        "setGroupTasksPermission",
        SET_GROUP_TASKS,
        {"input": {"staffId": sender.admin.id, "enabled": True}},
        sender.admin.token,
    )
    assert payload["errors"] == [], payload
    receiving_staff = await world.staff(receiver)
    return Group(sender, receiver, receiving_staff)


async def send_task(world: World, group: Group, name: str, **fields: Any) -> dict[str, Any]:
    payload = await world.api.mutate(
        "createTask",
        SEND_TASK,
        {
            "input": {
                "name": name,
                "dueDate": "2027-03-10",
                "serviceProviderId": group.receiver.id,
                **fields,
            }
        },
        group.caseworker.token,
    )
    assert payload["errors"] == [], payload
    return payload["task"]  # type: ignore[no-any-return]
