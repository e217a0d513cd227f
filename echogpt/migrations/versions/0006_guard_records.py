"""Drafts and batch items keep the guard's record: what checker-guided drafting changed and the
text the model wrote unguarded (JSON, ``schemas.GuardRecord``; null for unguarded drafts).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('drafts') as batch:
        batch.add_column(sa.Column('guard_json', sa.Text(), nullable=True))
    with op.batch_alter_table('batch_items') as batch:
        batch.add_column(sa.Column('guard_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batch_items') as batch:
        batch.drop_column('guard_json')
    with op.batch_alter_table('drafts') as batch:
        batch.drop_column('guard_json')
