"""notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:39:47.518714
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_notification_client_id_client')),
    sa.ForeignKeyConstraint(['recipient_id'], ['staff.id'], name=op.f('fk_notification_recipient_id_staff')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_notification_task_id_task'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_recipient_id', ['recipient_id', 'id'], unique=False)
        batch_op.create_index('ix_notification_task_kind', ['task_id', 'kind'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_task_kind')
        batch_op.drop_index('ix_notification_recipient_id')

    op.drop_table('notification')
