"""link far end: status, category, summary and type of a linked item that is not synced

A link to an item of a project that is not synced (another team's Jira project) keeps what Jira's
linked issue carries about it, so reports can tell whether that work is done (issue 16 item 4).
Nullable: links between synced items leave them empty (the far end is in the store).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('links') as batch:
        batch.add_column(sa.Column('to_status', sa.Text(), nullable=True))
        batch.add_column(sa.Column('to_category', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('to_summary', sa.Text(), nullable=True))
        batch.add_column(sa.Column('to_type', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('links') as batch:
        for name in ('to_type', 'to_summary', 'to_category', 'to_status'):
            batch.drop_column(name)
