"""risk acknowledgements: accepted risk themes with who, when, until and a note

A theme (goal:<id>, release:<id>, sprint:<id>, team:<key>) acknowledged with `syncd risk ack` or in
the config is shown as accepted and not raised again until its `until` date passes or it gets
worse than it was when accepted: a red signal it did not have, or its 85% forecast slipping by
more than reports.thresholds.ack_slip_days. Those two baselines are stored with it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import syncd.store.schema
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'risk_acks',
        sa.Column('theme_id', sa.String(length=255), nullable=False),
        sa.Column('acked_by', sa.String(length=255), nullable=False),
        sa.Column('acked_at', syncd.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('red_signal_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('forecast_p85', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('theme_id'),
    )


def downgrade() -> None:
    op.drop_table('risk_acks')
