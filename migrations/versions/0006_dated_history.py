"""dated history: earlier staff terms and case facts, why a breach resolved, when an
audited change takes effect, and the two approvals of a sign-off.

Hand-reviewed. Batch operations keep the ALTERs working on SQLite. Sign-offs recorded
before this revision were recorded with both approvals in one step, so both approval
times are set to when they were recorded.

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.models.base  # noqa: F401  (UTCDateTime)
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_term',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('fte', sa.Float(), nullable=False),
    sa.Column('contracted_hours', sa.Float(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_term', schema=None) as batch_op:
        batch_op.create_index('ix_staff_term_period', ['staff_id', 'valid_from', 'valid_to'], unique=False)

    op.create_table('case_term',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('complexity', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_term', schema=None) as batch_op:
        batch_op.create_index('ix_case_term_period', ['case_id', 'valid_from', 'valid_to'], unique=False)

    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution_cause', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_effective_on'), ['effective_on'], unique=False)

    with op.batch_alter_table('sign_off', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_manager_approved_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('senior_manager_approved_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_sign_off_recorded_by_id_staff', 'staff', ['recorded_by_id'], ['id'])
    op.execute("UPDATE sign_off SET team_manager_approved_at = created_at, "
               "senior_manager_approved_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('sign_off', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sign_off_recorded_by_id_staff', type_='foreignkey')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('senior_manager_approved_at')
        batch_op.drop_column('team_manager_approved_at')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_effective_on'))
        batch_op.drop_column('effective_on')

    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_column('resolution_cause')

    with op.batch_alter_table('case_term', schema=None) as batch_op:
        batch_op.drop_index('ix_case_term_period')
    op.drop_table('case_term')

    with op.batch_alter_table('staff_term', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_term_period')
    op.drop_table('staff_term')
