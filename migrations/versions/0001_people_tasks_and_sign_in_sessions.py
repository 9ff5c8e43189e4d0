"""people, tasks and sign-in sessions

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 12:27:37.880918
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('service_provider_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_provider_group')),
    sa.UniqueConstraint('name', name=op.f('uq_service_provider_group_name'))
    )
    op.create_table('service_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['service_provider_group.id'], name=op.f('fk_service_provider_group_id_service_provider_group')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_provider'))
    )
    with op.batch_alter_table('service_provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_provider_group_id'), ['group_id'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('is_administrator', sa.Boolean(), nullable=False),
    sa.Column('is_group_administrator', sa.Boolean(), nullable=False),
    sa.Column('tasks_permission', sa.Boolean(), nullable=False),
    sa.Column('group_tasks_permission', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['service_provider.id'], name=op.f('fk_staff_provider_id_service_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_email'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_provider_id'), ['provider_id'], unique=False)

    op.create_table('client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('caseworker_id', sa.Integer(), nullable=True),
    sa.Column('portal_password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caseworker_id'], ['staff.id'], name=op.f('fk_client_caseworker_id_staff')),
    sa.ForeignKeyConstraint(['provider_id'], ['service_provider.id'], name=op.f('fk_client_provider_id_service_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client'))
    )
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_caseworker_id'), ['caseworker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_provider_id'), ['provider_id'], unique=False)

    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_auth_session_client_id_client')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_auth_session_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_session_token_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_session_staff_id'), ['staff_id'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('origin_provider_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('details', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('assigned_to_client', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('completed_by_client_id', sa.Integer(), nullable=True),
    sa.Column('milestone_month', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_task_client_id_client')),
    sa.ForeignKeyConstraint(['completed_by_client_id'], ['client.id'], name=op.f('fk_task_completed_by_client_id_client')),
    sa.ForeignKeyConstraint(['completed_by_staff_id'], ['staff.id'], name=op.f('fk_task_completed_by_staff_id_staff')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_task_created_by_id_staff')),
    sa.ForeignKeyConstraint(['origin_provider_id'], ['service_provider.id'], name=op.f('fk_task_origin_provider_id_service_provider')),
    sa.ForeignKeyConstraint(['provider_id'], ['service_provider.id'], name=op.f('fk_task_provider_id_service_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_client_due', ['client_id', 'due_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_origin_provider_id'), ['origin_provider_id'], unique=False)
        batch_op.create_index('ix_task_provider_created', ['provider_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_task_provider_due', ['provider_id', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_task_provider_status_due', ['provider_id', 'status', 'due_date', 'id'], unique=False)

    op.create_table('task_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_staff_id', sa.Integer(), nullable=True),
    sa.Column('by_client_id', sa.Integer(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['by_client_id'], ['client.id'], name=op.f('fk_task_event_by_client_id_client')),
    sa.ForeignKeyConstraint(['by_staff_id'], ['staff.id'], name=op.f('fk_task_event_by_staff_id_staff')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_event_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_event'))
    )
    with op.batch_alter_table('task_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_event_task_id'), ['task_id'], unique=False)

    op.create_table('task_responsible',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_task_responsible_staff_id_staff')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_responsible_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'staff_id', name=op.f('pk_task_responsible'))
    )
    with op.batch_alter_table('task_responsible', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_responsible_staff_id'), ['staff_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_responsible', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_responsible_staff_id'))

    op.drop_table('task_responsible')
    with op.batch_alter_table('task_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_event_task_id'))

    op.drop_table('task_event')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_provider_status_due')
        batch_op.drop_index('ix_task_provider_due')
        batch_op.drop_index('ix_task_provider_created')
        batch_op.drop_index(batch_op.f('ix_task_origin_provider_id'))
        batch_op.drop_index('ix_task_client_due')

    op.drop_table('task')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_staff_id'))
        batch_op.drop_index(batch_op.f('ix_auth_session_client_id'))

    op.drop_table('auth_session')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_provider_id'))
        batch_op.drop_index(batch_op.f('ix_client_caseworker_id'))

    op.drop_table('client')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_provider_id'))

    op.drop_table('staff')
    with op.batch_alter_table('service_provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_provider_group_id'))

    op.drop_table('service_provider')
    op.drop_table('service_provider_group')
