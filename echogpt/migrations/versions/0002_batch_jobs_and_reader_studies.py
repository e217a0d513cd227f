"""Batch generation jobs and their items; reader studies (cases, blinded reports, the admin-only
source key, assignments, tasks and answers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:36:43.904116
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batch_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('base_model', sa.String(length=512), nullable=True),
    sa.Column('adapter', sa.String(length=512), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('worker_token', sa.String(length=64), nullable=True),
    sa.Column('worker_pid', sa.Integer(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_jobs_status'), ['status'], unique=False)

    op.create_table('reader_studies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('design_json', sa.Text(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('batch_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.String(length=128), nullable=False),
    sa.Column('study_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('impression', sa.Text(), nullable=True),
    sa.Column('check_json', sa.Text(), nullable=True),
    sa.Column('supported', sa.Integer(), nullable=False),
    sa.Column('contradicted', sa.Integer(), nullable=False),
    sa.Column('unsupported', sa.Integer(), nullable=False),
    sa.Column('critical_omissions', sa.Text(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('model', sa.String(length=256), nullable=True),
    sa.Column('prompt_hash', sa.String(length=64), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent', sa.Boolean(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'study_id', name='uq_batch_items_job_study')
    )
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_items_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_items_status'), ['status'], unique=False)

    op.create_table('reader_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_pk', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['study_pk'], ['reader_studies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_pk', 'reader_id', name='uq_reader_assignments')
    )
    with op.batch_alter_table('reader_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_assignments_reader_id'), ['reader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reader_assignments_study_pk'), ['study_pk'], unique=False)

    op.create_table('reader_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_pk', sa.Integer(), nullable=False),
    sa.Column('case_key', sa.String(length=128), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('extra_json', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['study_pk'], ['reader_studies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_pk', 'case_key', name='uq_reader_cases_key')
    )
    with op.batch_alter_table('reader_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_cases_study_pk'), ['study_pk'], unique=False)

    op.create_table('reader_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['reader_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('reader_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_reports_case_pk'), ['case_pk'], unique=False)

    op.create_table('reader_source_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_pk', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=128), nullable=False),
    sa.Column('original_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_pk'], ['reader_reports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_pk')
    )
    op.create_table('reader_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('report_a', sa.Integer(), nullable=False),
    sa.Column('report_b', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignment_pk'], ['reader_assignments.id'], ),
    sa.ForeignKeyConstraint(['case_pk'], ['reader_cases.id'], ),
    sa.ForeignKeyConstraint(['report_a'], ['reader_reports.id'], ),
    sa.ForeignKeyConstraint(['report_b'], ['reader_reports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_pk', 'position', name='uq_reader_tasks_pos')
    )
    with op.batch_alter_table('reader_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_tasks_assignment_pk'), ['assignment_pk'], unique=False)

    op.create_table('reader_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_pk', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('answers_json', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['task_pk'], ['reader_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reader_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_answers_reader_id'), ['reader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reader_answers_task_pk'), ['task_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reader_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_answers_task_pk'))
        batch_op.drop_index(batch_op.f('ix_reader_answers_reader_id'))

    op.drop_table('reader_answers')
    with op.batch_alter_table('reader_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_tasks_assignment_pk'))

    op.drop_table('reader_tasks')
    op.drop_table('reader_source_key')
    with op.batch_alter_table('reader_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_reports_case_pk'))

    op.drop_table('reader_reports')
    with op.batch_alter_table('reader_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_cases_study_pk'))

    op.drop_table('reader_cases')
    with op.batch_alter_table('reader_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_assignments_study_pk'))
        batch_op.drop_index(batch_op.f('ix_reader_assignments_reader_id'))

    op.drop_table('reader_assignments')
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_items_status'))
        batch_op.drop_index(batch_op.f('ix_batch_items_job_id'))

    op.drop_table('batch_items')
    op.drop_table('reader_studies')
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_jobs_status'))

    op.drop_table('batch_jobs')
