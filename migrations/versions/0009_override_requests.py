"""override requests: a blocked team manager asks, a senior manager decides.

Hand-reviewed. A new table only; nothing existing changes.

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.models.base  # noqa: F401  (UTCDateTime)
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('override_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('decider_roles', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('decided_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocation.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('override_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_override_request_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_override_request_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('ix_override_request_status_expires', ['status', 'expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_override_request_worker_id'), ['worker_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('override_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_override_request_worker_id'))
        batch_op.drop_index('ix_override_request_status_expires')
        batch_op.drop_index(batch_op.f('ix_override_request_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_override_request_case_id'))
    op.drop_table('override_request')
