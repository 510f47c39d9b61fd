"""Foundation: organisation, staff, enrolments, cases, allocations and the audit trail.

Hand-reviewed. The manager foreign keys of service_area and team close a cycle with
staff, so they are added once staff exists (batch mode keeps this working on SQLite).

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:43:01.764718
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.models.base  # noqa: F401  (UTCDateTime)
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('service_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('senior_manager_id', sa.Integer(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_area_name'), ['name'], unique=True)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('service_area_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['service_area_id'], ['service_area.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_name'), ['name'], unique=True)
        batch_op.create_index(batch_op.f('ix_team_service_area_id'), ['service_area_id'], unique=False)

    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('complexity', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_reference'), ['reference'], unique=True)
        batch_op.create_index(batch_op.f('ix_case_team_id'), ['team_id'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('contracted_hours', sa.Float(), nullable=False),
    sa.Column('fte', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('leave_date', sa.Date(), nullable=True),
    sa.Column('experienced', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_email'), ['email'], unique=True)
        batch_op.create_index(batch_op.f('ix_staff_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_team_id'), ['team_id'], unique=False)

    op.create_table('allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('allocated_by_id', sa.Integer(), nullable=True),
    sa.Column('override_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['allocated_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_allocation_worker_period', ['worker_id', 'start_date', 'end_date'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('nqsw_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_nqsw_id'), ['nqsw_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('programme', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('advanced_practitioner_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['advanced_practitioner_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['assessor_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_status'), ['status'], unique=False)
        batch_op.create_index(
            'uq_enrolment_open_per_staff', ['staff_id'], unique=True,
            sqlite_where=sa.text("status IN ('active', 'paused')"),
            postgresql_where=sa.text("status IN ('active', 'paused')"),
        )

    op.create_table('adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('parameter', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pause_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('sign_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('team_manager_id', sa.Integer(), nullable=False),
    sa.Column('senior_manager_id', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['senior_manager_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['team_manager_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_off_enrolment_id'), ['enrolment_id'], unique=False)

    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_service_area_senior_manager', 'staff', ['senior_manager_id'], ['id'])
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_team_manager', 'staff', ['manager_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_constraint('fk_team_manager', type_='foreignkey')
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.drop_constraint('fk_service_area_senior_manager', type_='foreignkey')
    with op.batch_alter_table('sign_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_off_enrolment_id'))

    op.drop_table('sign_off')
    with op.batch_alter_table('pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pause_enrolment_id'))

    op.drop_table('pause')
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_enrolment_id'))

    op.drop_table('adjustment')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('uq_enrolment_open_per_staff')
        batch_op.drop_index(batch_op.f('ix_enrolment_status'))
        batch_op.drop_index(batch_op.f('ix_enrolment_staff_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_nqsw_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index('ix_allocation_worker_period')
        batch_op.drop_index(batch_op.f('ix_allocation_case_id'))

    op.drop_table('allocation')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_team_id'))
        batch_op.drop_index(batch_op.f('ix_staff_role'))
        batch_op.drop_index(batch_op.f('ix_staff_email'))

    op.drop_table('staff')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_team_id'))
        batch_op.drop_index(batch_op.f('ix_case_reference'))
        batch_op.drop_index(batch_op.f('ix_case_category'))

    op.drop_table('case')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_service_area_id'))
        batch_op.drop_index(batch_op.f('ix_team_name'))

    op.drop_table('team')
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_area_name'))

    op.drop_table('service_area')
