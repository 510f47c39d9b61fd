"""breach began_on: when the problem began, apart from when it was detected.

Hand-reviewed. A breach recorded before this revision knows only when it was detected,
so its problem is taken to have begun then (`opened_on`); the next reconciliation that
sees the finding with an earlier date moves it earlier.

Revision ID: 0008
Revises: 0007
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('began_on', sa.Date(), nullable=True))
    op.execute("UPDATE breach SET began_on = opened_on WHERE began_on IS NULL")
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.alter_column('began_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_index('ix_breach_status_began', ['status', 'began_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_index('ix_breach_status_began')
        batch_op.drop_column('began_on')
