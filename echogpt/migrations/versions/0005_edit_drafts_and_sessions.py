"""Unsaved edits kept across a page reload (one per user and study, tied to the draft version
they were typed on) and the sign-in sessions of local accounts (revoked on sign-out).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('edit_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('study_pk', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('draft_version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['study_pk'], ['studies.id'], ),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'study_pk')
    )
    op.create_index('ix_edit_drafts_user_id', 'edit_drafts', ['user_id'], unique=False)
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sign_in_sessions_user_id', 'sign_in_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_sessions_user_id', table_name='sign_in_sessions')
    op.drop_table('sign_in_sessions')
    op.drop_index('ix_edit_drafts_user_id', table_name='edit_drafts')
    op.drop_table('edit_drafts')
