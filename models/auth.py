"""Sign-in sessions: one row per issued bearer token."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    # HMAC of the token: a leaked table does not give working tokens.
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
