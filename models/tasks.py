"""Tasks, who is responsible for them, and what happened to them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class TaskStatus(enum.StrEnum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"


class TaskKind(enum.StrEnum):
    STANDARD = "STANDARD"
    REPEATING = "REPEATING"
    POST_EMPLOYMENT_OUTREACH = "POST_EMPLOYMENT_OUTREACH"


class TaskEventKind(enum.StrEnum):
    CREATED = "CREATED"
    EDITED = "EDITED"
    POSTPONED = "POSTPONED"
    REASSIGNED = "REASSIGNED"
    COMPLETED = "COMPLETED"
    REOPENED = "REOPENED"


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (
        # The Tasks screen: open tasks of a provider by due date (keyset pagination).
        Index("ix_task_provider_status_due", "provider_id", "status", "due_date", "id"),
        Index("ix_task_provider_due", "provider_id", "due_date", "id"),
        Index("ix_task_client_due", "client_id", "due_date", "id"),
        Index("ix_task_provider_created", "provider_id", "created_at", "id"),
        # Filters that narrow the screen (and its totalCount) to a few percent: a kind, and
        # the tasks assigned to their client (partial: only those rows are indexed).
        Index(
            "ix_task_provider_kind_status_due", "provider_id", "kind", "status", "due_date", "id"
        ),
        Index(
            "ix_task_provider_client_assigned",
            "provider_id",
            "status",
            "due_date",
            "id",
            postgresql_where=text("assigned_to_client IS true"),
            sqlite_where=text("assigned_to_client IS 1"),
        ),
        # Search (LIKE '%text%' on lower(name), lower(coalesce(details, ''))): trigram
        # indexes, PostgreSQL with pg_trgm only (migration 0005 skips them without it).
        Index("ix_task_name_trgm", text("lower(name) gin_trgm_ops"), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
        Index(
            "ix_task_details_trgm",
            text("lower(coalesce(details, '')) gin_trgm_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        # One occurrence per series and scheduled date, however many schedulers run.
        Index("uq_task_series_scheduled", "series_id", "scheduled_date", unique=True),
        # Ids are never reused on SQLite either: a deleted task's id must not name a new one.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="service_provider.id")
    origin_provider_id: int = Field(foreign_key="service_provider.id", index=True)
    name: str = Field(max_length=500)
    details: str | None = None
    due_date: date
    status: TaskStatus = Field(
        default=TaskStatus.OPEN, sa_column=Column(String(16), nullable=False)
    )
    kind: TaskKind = Field(default=TaskKind.STANDARD, sa_column=Column(String(32), nullable=False))
    client_id: int | None = Field(default=None, foreign_key="client.id")
    assigned_to_client: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    completed_by_client_id: int | None = Field(default=None, foreign_key="client.id")
    milestone_month: int | None = None
    series_id: int | None = Field(default=None, foreign_key="task_series.id")
    scheduled_date: date | None = None
    employment_id: int | None = Field(default=None, foreign_key="employment.id", index=True)
    version: int = 1
    # Since when the task has had no one responsible (and is not the client's to do): the
    # start of its Unassigned stint, for UNASSIGNED_ESCALATION. None while someone holds it.
    unassigned_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TaskResponsible(SQLModel, table=True):
    __tablename__ = "task_responsible"
    __table_args__ = (
        # One person's tasks (the responsibleId filter) without visiting the table.
        Index("ix_task_responsible_staff_task", "staff_id", "task_id"),
    )

    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    )
    staff_id: int = Field(sa_column=Column(Integer, ForeignKey("staff.id"), primary_key=True))
    position: int = 0


class TaskEvent(SQLModel, table=True):
    __tablename__ = "task_event"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: TaskEventKind = Field(sa_column=Column(String(16), nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)
    by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    by_client_id: int | None = Field(default=None, foreign_key="client.id")
    summary: str
    version: int
