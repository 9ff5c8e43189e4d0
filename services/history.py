"""A task's history: one event per change, carrying the version it produced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Task, TaskEvent, TaskEventKind
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
