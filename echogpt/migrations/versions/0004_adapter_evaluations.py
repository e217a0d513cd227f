"""The version gate: each adapter version's evaluation on the held-out set (status, the batch job
that drafts it, metrics with confidence intervals), and whether a batch draft stopped on its
end-of-turn token (the gate's stop rate), and the check of the model's own draft text (kept when
edits re-check the working copy; monitoring counts its flags).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adapter_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adapter_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('eval_set', sa.String(length=1024), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('metrics_json', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['adapter_id'], ['adapter_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('adapter_id')
    )
    with op.batch_alter_table('adapter_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adapter_evaluations_job_id'), ['job_id'], unique=False)
    with op.batch_alter_table('batch_items') as batch_op:
        batch_op.add_column(sa.Column('stopped', sa.Boolean(), nullable=True))
    with op.batch_alter_table('drafts') as batch_op:
        batch_op.add_column(sa.Column('model_check_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drafts') as batch_op:
        batch_op.drop_column('model_check_json')
    with op.batch_alter_table('batch_items') as batch_op:
        batch_op.drop_column('stopped')
    with op.batch_alter_table('adapter_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adapter_evaluations_job_id'))
    op.drop_table('adapter_evaluations')
