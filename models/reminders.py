"""What the reminder pass has sent, and the e-mail digests waiting to go out."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class ReminderSent(SQLModel, table=True):
    """One reminder of a task on one occasion (a due date, or the start of an Unassigned
    stint): its primary key is what makes two passes at once send it once."""

    __tablename__ = "reminder_sent"

    kind: str = Field(sa_column=Column(String(32), primary_key=True))
    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    )
    occasion: str = Field(sa_column=Column(String(40), primary_key=True))
    sent_at: datetime = Field(sa_type=UTCDateTime)


class DigestStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # gave up: the day it was for has ended


class DigestEmail(SQLModel, table=True):
    """A digest recorded before it is sent: at most one per person per local day."""

    __tablename__ = "digest_email"
    __table_args__ = (UniqueConstraint("staff_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    day: date
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    text_body: str
    html_body: str
    status: str = Field(default=DigestStatus.PENDING.value, max_length=16)
    attempts: int = 0
    # When the next try may start; also how long a sender's claim lasts while it tries.
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    # The end of the day it is for: after this it is not sent any more.
    give_up_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
