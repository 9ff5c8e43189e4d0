"""The contract's enums."""

from __future__ import annotations

import enum

import strawberry

from models import NotificationKind as _NotificationKind
from models import TaskEventKind as _TaskEventKind
from models import TaskKind as _TaskKind
from models import TaskStatus as _TaskStatus
from services.recurrence import Frequency as _Frequency
from services.recurrence import Weekday as _Weekday
from services.task_forms import ChangeScope as _ChangeScope
from services.task_forms import PostponeBy as _PostponeBy
from services.task_queries import TaskOrder as _TaskOrder


@strawberry.enum
class Permission(enum.Enum):
    TASKS = strawberry.enum_value(
        "TASKS",
        description="Use the Tasks screen: see, add, edit, postpone, reassign, complete and "
        "delete tasks of the own provider.",
    )


@strawberry.enum
class UserErrorCode(enum.Enum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    CONFLICT = "CONFLICT"


# The domain's enums, registered as the contract's GraphQL enums under the same names.
strawberry.enum(_TaskStatus, name="TaskStatus")
strawberry.enum(_TaskKind, name="TaskKind")
strawberry.enum(_TaskEventKind, name="TaskEventKind")
strawberry.enum(_TaskOrder, name="TaskOrder")
strawberry.enum(_PostponeBy, name="PostponeBy")
strawberry.enum(_NotificationKind, name="NotificationKind")
strawberry.enum(_Frequency, name="Frequency")
strawberry.enum(_Weekday, name="Weekday")
strawberry.enum(_ChangeScope, name="ChangeScope")
TaskStatus = _TaskStatus
TaskKind = _TaskKind
TaskEventKind = _TaskEventKind
TaskOrder = _TaskOrder
PostponeBy = _PostponeBy
NotificationKind = _NotificationKind
Frequency = _Frequency
Weekday = _Weekday
ChangeScope = _ChangeScope
