"""daemon and report history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import syncd.store.schema
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('job', sa.String(length=255), nullable=True),
    sa.Column('slot_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('audience', sa.String(length=50), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('recipients', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_at', ['at'], unique=False)

    op.create_table('leases',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('report_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('audience', sa.String(length=50), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('generated_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('as_of', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('risk_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_history', schema=None) as batch_op:
        batch_op.create_index('ix_report_history_kind', ['kind', 'audience', 'scope', 'as_of'], unique=False)

    op.create_table('slots',
    sa.Column('job', sa.String(length=255), nullable=False),
    sa.Column('slot_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('lease_until', syncd.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('job', 'slot_at')
    )


def downgrade() -> None:
    op.drop_table('slots')
    with op.batch_alter_table('report_history', schema=None) as batch_op:
        batch_op.drop_index('ix_report_history_kind')

    op.drop_table('report_history')
    op.drop_table('leases')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_at')

    op.drop_table('deliveries')
