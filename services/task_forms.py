"""What the task forms submit: a new task, an edit, a postponement, a scope."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from services.recurrence import Recurrence
from services.validation import KEEP, DateInput, Keep


class PostponeBy(enum.StrEnum):
    ONE_WEEK = "ONE_WEEK"
    TWO_WEEKS = "TWO_WEEKS"
    THREE_WEEKS = "THREE_WEEKS"
    FOUR_WEEKS = "FOUR_WEEKS"
    CUSTOM = "CUSTOM"


POSTPONE_DAYS: Final = {
    PostponeBy.ONE_WEEK: 7,
    PostponeBy.TWO_WEEKS: 14,
    PostponeBy.THREE_WEEKS: 21,
    PostponeBy.FOUR_WEEKS: 28,
}


@dataclass
class NewTask:
    name: str | None
    due_date: DateInput | None
    responsible_ids: list[int] | None
    client_id: int | None = None
    details: str | None = None
    # Another provider of the group: the task lands on its Tasks screen.
    service_provider_id: int | None = None
    # The client's to do: shown in their Task Widget; Who's Responsible may then be empty.
    assigned_to_client: bool = False
    # Makes it a repeating task; the due date is the first occurrence.
    recurrence: Recurrence | None = None


@dataclass
class TaskEdit:
    name: str | Keep | None = KEEP
    details: str | Keep | None = KEEP
    due_date: DateInput | Keep | None = KEEP
    client_id: int | Keep | None = KEEP
    # THIS_AND_FOLLOWING on an occurrence only: the series' new rule and Who's Responsible.
    recurrence: Recurrence | Keep = KEEP
    responsible_ids: list[int] | Keep = KEEP


class ChangeScope(enum.StrEnum):
    THIS = "THIS"
    THIS_AND_FOLLOWING = "THIS_AND_FOLLOWING"
