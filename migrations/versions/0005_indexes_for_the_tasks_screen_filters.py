"""indexes for the Tasks screen's filters

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:40:00.000000

- task_responsible (staff_id, task_id) replaces (staff_id): one person's tasks (responsibleId)
  come from the index alone;
- task (provider_id, kind, status, due_date, id): the kind filter;
- task (provider_id, status, due_date, id) WHERE assigned_to_client: the assignedToClient
  filter (a few percent of the rows);
- PostgreSQL with pg_trgm: GIN trigram indexes for search (lower(name), and
  lower(coalesce(details, ''))). Without the extension (not installed, or not allowed to create
  it) these two are skipped and search reads the provider's tasks as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = {
    'ix_task_name_trgm': "lower(name) gin_trgm_ops",
    'ix_task_details_trgm': "lower(coalesce(details, '')) gin_trgm_ops",
}


def upgrade() -> None:
    op.create_index('ix_task_responsible_staff_task', 'task_responsible', ['staff_id', 'task_id'], unique=False)
    op.drop_index('ix_task_responsible_staff_id', table_name='task_responsible')
    op.create_index('ix_task_provider_kind_status_due', 'task', ['provider_id', 'kind', 'status', 'due_date', 'id'], unique=False)
    op.create_index(
        'ix_task_provider_client_assigned', 'task', ['provider_id', 'status', 'due_date', 'id'], unique=False,
        postgresql_where=sa.text('assigned_to_client IS true'),
        sqlite_where=sa.text('assigned_to_client IS 1'),
    )
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute(
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
        "EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN "
        "RAISE WARNING 'pg_trgm is not available: task search runs without trigram indexes'; "
        "END $$"
    )
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        for name, expression in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON task USING gin ({expression})")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index('ix_task_provider_client_assigned', table_name='task')
    op.drop_index('ix_task_provider_kind_status_due', table_name='task')
    op.create_index(op.f('ix_task_responsible_staff_id'), 'task_responsible', ['staff_id'], unique=False)
    op.drop_index('ix_task_responsible_staff_task', table_name='task_responsible')
