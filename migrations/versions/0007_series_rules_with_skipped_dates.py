"""series rules with skipped dates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:00:00.000000

- task_series.rrule: from VARCHAR(500) to TEXT. A series with skipped dates (skipOccurrence)
  stores RFC 5545 lines, its RRULE and an EXDATE of up to 200 dates (services/recurrence.py),
  which 500 characters cannot hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_series") as batch:
        batch.alter_column(
            "rrule",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=500),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("task_series") as batch:
        batch.alter_column(
            "rrule",
            existing_type=sa.Text(),
            type_=sqlmodel.sql.sqltypes.AutoString(length=500),
            existing_nullable=False,
        )
