"""items.priority_id: Jira's priority id, so the cut order ranks priorities by the site's scheme, not by name

Jira's default priorities have ids 1 (Highest) to 5 (Lowest) whatever the site's language; names
are translated and renamed. Items stored before this revision have no id until their next change
is synced (or a `--full` sync); the cut order then falls back to the English default names.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('items', sa.Column('priority_id', sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column('items', 'priority_id')
