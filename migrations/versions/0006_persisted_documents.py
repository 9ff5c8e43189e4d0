"""persisted documents

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 23:40:00.000000

- persisted_document: GraphQL documents registered by their SHA-256 (automatic persisted
  queries), shared by every instance; created_at is indexed because the oldest rows are dropped
  once the table holds its maximum (casetasks/persisted.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_document",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_persisted_document")),
    )
    with op.batch_alter_table("persisted_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_persisted_document_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("persisted_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persisted_document_created_at"))

    op.drop_table("persisted_document")
