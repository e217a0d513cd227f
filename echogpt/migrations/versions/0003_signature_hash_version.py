"""Signatures record which hash covers them: 1 (the impression text alone, every row signed
before this revision) or 2 (everything the signed report issues).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signatures') as batch:
        batch.add_column(sa.Column('hash_version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('signatures') as batch:
        batch.drop_column('hash_version')
