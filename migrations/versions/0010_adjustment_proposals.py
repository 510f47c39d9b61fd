"""adjustment proposals: a team manager proposes, the role the policy names approves.

Hand-reviewed. Every adjustment recorded before this revision was approved by the person
who recorded it, so existing rows take the status 'approved' (the server default) and
keep their approver. A pending, refused or withdrawn proposal has no approver, so
`approved_by_id` may now be empty. Going back down deletes the proposals that were never
approved (the older schema cannot hold them) and drops the new columns.

Revision ID: 0010
Revises: 0009
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
            server_default='approved',
        ))
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', app.models.base.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column(
            'decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True,
        ))
        batch_op.alter_column('approved_by_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_adjustment_proposed_by_id_staff', 'staff',
                                    ['proposed_by_id'], ['id'])
        batch_op.create_foreign_key('fk_adjustment_decided_by_id_staff', 'staff',
                                    ['decided_by_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM adjustment WHERE status != 'approved' OR approved_by_id IS NULL")
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_adjustment_decided_by_id_staff', type_='foreignkey')
        batch_op.drop_constraint('fk_adjustment_proposed_by_id_staff', type_='foreignkey')
        batch_op.alter_column('approved_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('proposed_by_id')
        batch_op.drop_column('status')
