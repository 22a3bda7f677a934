"""sprint and release creation: when each sprint, fix version, milestone and release was created

A report replayed to a past date (`syncd report --now`) leaves out the sprints and releases created
after it (issue 12 item 4). Jira Cloud's agile sprint carries `createdDate`, GitHub's milestones and
releases `created_at`; a Jira fix version has no creation date, only its `startDate` (kept as
`start`). Nullable: older payloads and Jira Server/DC sprints have none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

import syncd.store.schema

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sprints') as batch:
        batch.add_column(sa.Column('created', syncd.store.schema.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('releases') as batch:
        batch.add_column(sa.Column('created', syncd.store.schema.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('start', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('releases') as batch:
        batch.drop_column('start')
        batch.drop_column('created')
    with op.batch_alter_table('sprints') as batch:
        batch.drop_column('created')
