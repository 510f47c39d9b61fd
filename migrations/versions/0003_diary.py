"""diary: protected time, supervision sessions, review points and calendar tokens.

Hand-reviewed. New tables only, so nothing here needs batch mode for an ALTER; the
indexes are created through batch_alter_table like the rest of the chain.

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.models.base  # noqa: F401  (UTCDateTime)
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('protected_time',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('length', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('half', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('taken_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('displaced_by_pause_id', sa.Integer(), nullable=True),
    sa.Column('rebooked_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booked_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['displaced_by_pause_id'], ['pause.id'], ),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['rebooked_from_id'], ['protected_time.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('protected_time', schema=None) as batch_op:
        batch_op.create_index('ix_protected_time_enrolment_day', ['enrolment_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_protected_time_rebooked_from_id'), ['rebooked_from_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_protected_time_status'), ['status'], unique=False)

    op.create_table('supervision_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_session_enrolment_day', ['enrolment_id', 'day'], unique=False)

    op.create_table('review_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enrolment_id', 'month', name='uq_review_point_enrolment_month')
    )
    with op.batch_alter_table('review_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_point_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('calendar_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', app.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('calendar_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_token_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_token_staff_id'))
    op.drop_table('calendar_token')

    with op.batch_alter_table('review_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_point_enrolment_id'))
    op.drop_table('review_point')

    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_session_enrolment_day')
    op.drop_table('supervision_session')

    with op.batch_alter_table('protected_time', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protected_time_status'))
        batch_op.drop_index(batch_op.f('ix_protected_time_rebooked_from_id'))
        batch_op.drop_index('ix_protected_time_enrolment_day')
    op.drop_table('protected_time')
