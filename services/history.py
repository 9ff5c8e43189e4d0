"""A task's history: one event per change, carrying the version it produced, and the words
its summaries use ("Due date 2027-03-01 -> 2027-03-15", "Responsible: Ana Silva -> Ben Okafor")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Staff, Task, TaskEvent, TaskEventKind, TaskResponsible
from models.types import pk
from services.viewer import ClientViewer, StaffViewer, Viewer


def record_event(
    session: AsyncSession,
    task: Task,
    kind: TaskEventKind,
    viewer: Viewer | None,
    at: datetime,
    summary: str,
) -> None:
    """Bumps the version; `viewer` None for changes made by the schedule."""
    task.version += 1
    session.add(
        TaskEvent(
            task_id=pk(task),
            kind=kind,
            at=at,
            by_staff_id=viewer.staff_id if isinstance(viewer, StaffViewer) else None,
            by_client_id=viewer.client_id if isinstance(viewer, ClientViewer) else None,
            summary=summary,
            version=task.version,
        )
    )


@dataclass
class Changes:
    summaries: list[str] = field(default_factory=list)

    def add(self, summary: str) -> None:
        self.summaries.append(summary)

    def __bool__(self) -> bool:
        return bool(self.summaries)

    def text(self) -> str:
        return "; ".join(self.summaries)


async def responsible_of(session: AsyncSession, task_id: int) -> list[tuple[int, str]]:
    """Who's Responsible for the task, in order: (staff id, name)."""
    rows = await session.execute(
        select(col(TaskResponsible.staff_id), col(Staff.name))
        .join(Staff, col(TaskResponsible.staff_id) == col(Staff.id))
        .where(col(TaskResponsible.task_id) == task_id)
        .order_by(col(TaskResponsible.position))
    )
    return [(staff_id, name) for staff_id, name in rows]


def people_text(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "Unassigned"


async def client_name(session: AsyncSession, client_id: int | None) -> str:
    if client_id is None:
        return "none"
    client = await session.get(Client, client_id)
    return client.name if client else "none"


def short(text: str | None, limit: int = 60) -> str:
    if not text:
        return "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"
