"""Entries of the Dashboard Notifications Widget: kept until read, never lost offline."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class NotificationKind(enum.StrEnum):
    UNASSIGNED_TASK = "UNASSIGNED_TASK"
    CLIENT_TASK_COMPLETED = "CLIENT_TASK_COMPLETED"
    TASK_ASSIGNED = "TASK_ASSIGNED"
    CASELOAD_RECEIVED = "CASELOAD_RECEIVED"
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"
    UNASSIGNED_ESCALATION = "UNASSIGNED_ESCALATION"


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        # The widget and subscription replay: one person's notifications in id order.
        Index("ix_notification_recipient_id", "recipient_id", "id"),
        Index("ix_notification_task_kind", "task_id", "kind"),
        # Ids are never reused on SQLite either: a deleted task's id must not name a new one.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="staff.id")
    kind: NotificationKind = Field(sa_column=Column(String(32), nullable=False))
    # A deleted task leaves its notifications behind, without the task.
    task_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="SET NULL"), nullable=True),
    )
    client_id: int | None = Field(default=None, foreign_key="client.id")
    message: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
