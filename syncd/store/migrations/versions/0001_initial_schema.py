"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import syncd.store.schema
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cursors',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source')
    )
    op.create_table('items',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('source_type', sa.String(length=20), nullable=False),
    sa.Column('remote_id', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('project', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('status_category', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.String(length=255), nullable=True),
    sa.Column('priority', sa.String(length=100), nullable=True),
    sa.Column('labels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('components', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('assignee_id', sa.String(length=255), nullable=True),
    sa.Column('reporter_id', sa.String(length=255), nullable=True),
    sa.Column('created', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolved', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('estimate', sa.Float(), nullable=True),
    sa.Column('parent_id', sa.String(length=255), nullable=True),
    sa.Column('parent_key', sa.String(length=255), nullable=True),
    sa.Column('epic_id', sa.String(length=255), nullable=True),
    sa.Column('epic_key', sa.String(length=255), nullable=True),
    sa.Column('sprint_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('release_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('removed_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_key', ['key'], unique=False)
        batch_op.create_index('ix_items_source', ['source'], unique=False)

    op.create_table('links',
    sa.Column('from_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_key', sa.String(length=255), nullable=False),
    sa.Column('to_id', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('from_id', 'kind', 'to_key')
    )
    with op.batch_alter_table('links', schema=None) as batch_op:
        batch_op.create_index('ix_links_to_key', ['to_key'], unique=False)

    op.create_table('people',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pulls',
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('draft', sa.Boolean(), nullable=False),
    sa.Column('merged_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('merged_by_id', sa.String(length=255), nullable=True),
    sa.Column('head_branch', sa.Text(), nullable=True),
    sa.Column('base_branch', sa.Text(), nullable=True),
    sa.Column('head_sha', sa.String(length=64), nullable=True),
    sa.Column('additions', sa.Integer(), nullable=True),
    sa.Column('deletions', sa.Integer(), nullable=True),
    sa.Column('changed_files', sa.Integer(), nullable=True),
    sa.Column('reviews', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('requested_reviewer_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('checks', sa.String(length=20), nullable=False),
    sa.Column('linked_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('item_id')
    )
    op.create_table('releases',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('remote_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('project', sa.String(length=255), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('released_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('released', sa.Boolean(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sprints',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('remote_id', sa.String(length=100), nullable=False),
    sa.Column('board_id', sa.String(length=100), nullable=True),
    sa.Column('board_name', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('goal', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('start', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('complete', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('started_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('items_new', sa.Integer(), nullable=False),
    sa.Column('items_updated', sa.Integer(), nullable=False),
    sa.Column('items_removed', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sync_runs_source', ['source', 'started_at'], unique=False)

    op.create_table('transitions',
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('change_id', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('from_value', sa.Text(), nullable=True),
    sa.Column('to_value', sa.Text(), nullable=True),
    sa.Column('from_string', sa.Text(), nullable=True),
    sa.Column('to_string', sa.Text(), nullable=True),
    sa.Column('at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('item_id', 'change_id', 'field', 'seq')
    )


def downgrade() -> None:
    op.drop_table('transitions')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_runs_source')

    op.drop_table('sync_runs')
    op.drop_table('sprints')
    op.drop_table('releases')
    op.drop_table('pulls')
    op.drop_table('people')
    with op.batch_alter_table('links', schema=None) as batch_op:
        batch_op.drop_index('ix_links_to_key')

    op.drop_table('links')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_source')
        batch_op.drop_index('ix_items_key')

    op.drop_table('items')
    op.drop_table('cursors')
