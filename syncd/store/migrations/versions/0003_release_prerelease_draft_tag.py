"""releases: GitHub pre-release and draft flags and the tag name

A joined release needs them to tell production releases from release candidates and drafts, and
to match a tag (v2.6.0) to its Jira fix version. Releases stored before this migration read as
not pre-release until the next releases refresh rewrites them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prerelease', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('draft', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('tag', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('tag')
        batch_op.drop_column('draft')
        batch_op.drop_column('prerelease')
