"""breaches: breach records, their history, and the job lock that keeps sweeps single.

Hand-reviewed. The partial unique index (one unresolved breach per enrolment and rule)
is supported by both SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.models.base  # noqa: F401  (UTCDateTime)
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNRESOLVED = "status != 'resolved'"


def upgrade() -> None:
    op.create_table('breach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('severe', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('opened_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('last_seen_on', sa.Date(), nullable=False),
    sa.Column('resolved_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('latest_evidence', sa.JSON(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalation_due_on', sa.Date(), nullable=True),
    sa.Column('escalated_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('escalated_on', sa.Date(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('acknowledgement_note', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('exception_approver_id', sa.Integer(), nullable=True),
    sa.Column('exception_reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('exception_expires_on', sa.Date(), nullable=True),
    sa.Column('exception_granted_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('override_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('allocation_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocation.id'], ),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['exception_approver_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['override_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_breach_status_opened', ['status', 'opened_on'], unique=False)
        batch_op.create_index(
            'ux_breach_unresolved_rule', ['enrolment_id', 'policy_id', 'rule_id'], unique=True,
            sqlite_where=sa.text(UNRESOLVED), postgresql_where=sa.text(UNRESOLVED),
        )

    op.create_table('breach_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('breach_id', sa.Integer(), nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['breach_id'], ['breach.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('breach_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_event_breach_id'), ['breach_id'], unique=False)

    op.create_table('job_lock',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('acquired_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_done_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('job_lock')
    with op.batch_alter_table('breach_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_event_breach_id'))

    op.drop_table('breach_event')
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_index(
            'ux_breach_unresolved_rule',
            sqlite_where=sa.text(UNRESOLVED), postgresql_where=sa.text(UNRESOLVED),
        )
        batch_op.drop_index('ix_breach_status_opened')
        batch_op.drop_index(batch_op.f('ix_breach_staff_id'))
        batch_op.drop_index(batch_op.f('ix_breach_severity'))
        batch_op.drop_index(batch_op.f('ix_breach_rule_id'))
        batch_op.drop_index(batch_op.f('ix_breach_enrolment_id'))

    op.drop_table('breach')
