"""Persisted documents: GraphQL documents registered by hash (automatic persisted queries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class PersistedDocument(SQLModel, table=True):
    __tablename__ = "persisted_document"

    # Lowercase hex SHA-256 of the document's exact text, as clients compute it.
    sha256: str = Field(primary_key=True, max_length=64)
    document: str = Field(sa_type=Text)
    # The oldest are dropped first once the table holds its maximum.
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
