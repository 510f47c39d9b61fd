"""Dated periods of a record's terms (app/models/history.py): the reads every dated fact shares.

A person's terms (`StaffTerm`) and a case's facts (`CaseTerm`) are kept the same way, as
periods `[valid_from, valid_to)` before the row's own; which period a date falls in is
decided from these rows, oldest first.
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, col, select

from app.models import CaseTerm, StaffTerm

Term = TypeVar("Term", StaffTerm, CaseTerm)


def periods(session: Session, term: type[Term], owner_id: int) -> list[Term]:
    """Every earlier period of one record (a person for `StaffTerm`, a case for
    `CaseTerm`), oldest first: a dated change splits or extends one of them."""
    owner = col(StaffTerm.staff_id) if term is StaffTerm else col(CaseTerm.case_id)
    return list(session.exec(
        select(term).where(owner == owner_id).order_by(col(term.valid_from))
    ).all())
