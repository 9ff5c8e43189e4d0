"""Providers, their groups, staff and clients."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class ServiceProviderGroup(SQLModel, table=True):
    __tablename__ = "service_provider_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)


class ServiceProvider(SQLModel, table=True):
    __tablename__ = "service_provider"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    group_id: int | None = Field(default=None, foreign_key="service_provider_group.id", index=True)
    # Reminder rules (services/reminders.py); None: that reminder is never sent.
    due_soon_days: int | None = 1
    overdue_reminders: bool = True
    escalate_unassigned_after_hours: int | None = 24
    send_at_hour: int = 8
    # The provider's local day whose reminders and digests have gone out (the scheduler skips
    # the day's pass once it is done; `casetasks remind` runs it regardless).
    reminders_done_for: date | None = None


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="service_provider.id", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)  # stored lower-cased
    password_hash: str = Field(max_length=200)
    is_administrator: bool = False
    is_group_administrator: bool = False
    tasks_permission: bool = True
    group_tasks_permission: bool = False
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    email_digest: bool = False
    # The calendar feed (services/calendar_feed.py): the secret in its address is derived from
    # this nonce and the server's secret key; only its SHA-256 is stored, to look it up.
    calendar_feed_nonce: str | None = Field(default=None, max_length=64)
    calendar_feed_digest: str | None = Field(default=None, max_length=64, unique=True)


class Client(SQLModel, table=True):
    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="service_provider.id", index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    caseworker_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    portal_password_hash: str | None = Field(default=None, max_length=200)
    # The email a client with portal access signs in with (lower-cased, unique).
    login_email: str | None = Field(default=None, max_length=320, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Employment(SQLModel, table=True):
    __tablename__ = "employment"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    employer: str = Field(max_length=200)
    start_date: date
    end_date: date | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
