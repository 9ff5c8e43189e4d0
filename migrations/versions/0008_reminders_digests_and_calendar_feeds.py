"""reminders, e-mail digests and calendar feeds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 05:00:00.000000

- service_provider: the reminder rules (due_soon_days, overdue_reminders,
  escalate_unassigned_after_hours, send_at_hour; the contract's defaults 1, true, 24, 8) and
  reminders_done_for, the local day whose reminders have gone out.
- staff: email_digest (off), and the calendar feed's nonce and the digest of its secret.
- task.unassigned_since: the start of an Unassigned stint. Tasks Unassigned today start theirs
  now, so none escalates before its provider's escalateUnassignedAfterHours has passed.
- reminder_sent: one row per reminder of a task per occasion; its key makes concurrent passes
  send each once.
- digest_email: digests recorded before sending, one per person per local day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_provider") as batch:
        batch.add_column(sa.Column("due_soon_days", sa.Integer(), nullable=True, server_default="1"))
        batch.add_column(
            sa.Column("overdue_reminders", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column(
                "escalate_unassigned_after_hours", sa.Integer(), nullable=True, server_default="24"
            )
        )
        batch.add_column(sa.Column("send_at_hour", sa.Integer(), nullable=False, server_default="8"))
        batch.add_column(sa.Column("reminders_done_for", sa.Date(), nullable=True))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("email_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("calendar_feed_nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("calendar_feed_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.create_unique_constraint(
            batch.f("uq_staff_calendar_feed_digest"), ["calendar_feed_digest"]
        )
    with op.batch_alter_table("task") as batch:
        batch.add_column(
            sa.Column("unassigned_since", models.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE task SET unassigned_since = CURRENT_TIMESTAMP"
        " WHERE status = 'OPEN' AND NOT assigned_to_client"
        " AND NOT EXISTS (SELECT 1 FROM task_responsible r WHERE r.task_id = task.id)"
    )
    op.create_table(
        "reminder_sent",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=40), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_reminder_sent_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("kind", "task_id", "occasion", name=op.f("pk_reminder_sent")),
    )
    op.create_table(
        "digest_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text_body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("html_body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_digest_email_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_email")),
        sa.UniqueConstraint("staff_id", "day", name=op.f("uq_digest_email_staff_id")),
    )


def downgrade() -> None:
    op.drop_table("digest_email")
    op.drop_table("reminder_sent")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("unassigned_since")
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint(batch.f("uq_staff_calendar_feed_digest"), type_="unique")
        batch.drop_column("calendar_feed_digest")
        batch.drop_column("calendar_feed_nonce")
        batch.drop_column("email_digest")
    with op.batch_alter_table("service_provider") as batch:
        batch.drop_column("reminders_done_for")
        batch.drop_column("send_at_hour")
        batch.drop_column("escalate_unassigned_after_hours")
        batch.drop_column("overdue_reminders")
        batch.drop_column("due_soon_days")
