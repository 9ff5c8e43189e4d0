"""Query.workload's types (contract v2): each staff member's share of the provider's open work."""

from __future__ import annotations

import strawberry

from schema.node import GraphQLInfo
from schema.people import Staff
from services import workload


@strawberry.type(description="(v2) One staff member's share of the provider's open work.")
class StaffWorkload:
    staff_id: strawberry.Private[int]
    open: int = strawberry.field(description="Open tasks the staff member is responsible for.")
    overdue: int = strawberry.field(description="Of those, due before today (provider timezone).")
    due_soon: int = strawberry.field(
        description="Of those, due from today to today + dueWithinDays."
    )
    completed_last_30_days: int = strawberry.field(
        description="Tasks the staff member completed in the last 30 days."
    )

    @strawberry.field(description="The staff member.")
    async def staff(self, info: GraphQLInfo) -> Staff:
        return await info.context.loaders.staff.load(self.staff_id)  # type: ignore[return-value]

    @classmethod
    def of(cls, load: workload.StaffLoad) -> StaffWorkload:
        return cls(
            staff_id=load.staff_id,
            open=load.open,
            overdue=load.overdue,
            due_soon=load.due_soon,
            completed_last_30_days=load.completed_last_30_days,
        )


@strawberry.type(description="(v2) The provider's workload at a glance, for supervisors.")
class Workload:
    staff: list[StaffWorkload] = strawberry.field(
        description="Administrators: one row per active staff member with Tasks permission, "
        "most overdue first. Other staff: their own row only."
    )
    unassigned: int = strawberry.field(
        description="Open tasks of the provider with no one responsible and not assigned to a "
        "client."
    )

    @classmethod
    def of(cls, found: workload.Workload) -> Workload:
        return cls(
            staff=[StaffWorkload.of(load) for load in found.staff], unassigned=found.unassigned
        )
