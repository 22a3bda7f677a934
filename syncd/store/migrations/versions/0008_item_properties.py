"""item properties: the Jira issue properties a source asked for, with each item

Launch readiness answers a sign-off from a Jira issue property (`releases.sign_off_property`,
issue 16 item 3). The search returns the asked property keys with each issue (`properties=`), so they
cost no request of their own; they are kept as key -> JSON value. Existing rows get `{}` (no property
was asked for when they were read).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

import syncd.store.schema

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('properties', syncd.store.schema.JsonType, nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.drop_column('properties')
