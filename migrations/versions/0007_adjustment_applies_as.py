"""adjustment applies_as: whether an agreed number is final or pro rata for FTE.

Hand-reviewed. Agreements recorded before this revision apply as agreed, the reading
their wording gives ("0.8 FTE and building confidence: a cap of 10" means 10).

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'applies_as', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
            server_default='as_agreed',
        ))


def downgrade() -> None:
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_column('applies_as')
