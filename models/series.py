"""Repeating tasks: a series whose occurrences become tasks on their scheduled dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class TaskSeries(SQLModel, table=True):
    __tablename__ = "task_series"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="service_provider.id", index=True)
    name: str = Field(max_length=500)
    details: str | None = None
    # RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO; with skipped
    # dates, RRULE and EXDATE lines (services/recurrence.py).
    rrule: str = Field(sa_column=Column(Text, nullable=False))
    start_date: date
    until: date | None = None
    count: int | None = None
    client_id: int | None = Field(default=None, foreign_key="client.id")
    assigned_to_client: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Occurrences are made for scheduled dates after this one only, so a deleted occurrence
    # is never made again.
    materialized_until: date
    # Deleted from an occurrence on: no further occurrences, ever.
    ended: bool = False


class TaskSeriesResponsible(SQLModel, table=True):
    __tablename__ = "task_series_responsible"

    series_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("task_series.id", ondelete="CASCADE"), primary_key=True
        )
    )
    staff_id: int = Field(sa_column=Column(Integer, ForeignKey("staff.id"), primary_key=True))
    position: int = 0
