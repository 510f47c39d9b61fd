"""The queries of the second factor (app/auth/second_factor.py): recovery codes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.models import RecoveryCode


def unused_codes(session: Session, account_id: int) -> Sequence[RecoveryCode]:
    query = select(RecoveryCode).where(
        RecoveryCode.account_id == account_id, col(RecoveryCode.used_at).is_(None)
    ).order_by(col(RecoveryCode.id))
    return session.exec(query).all()


def remove_codes(session: Session, account_id: int) -> None:
    """A new set replaces the old one entirely."""
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.account_id) == account_id))
