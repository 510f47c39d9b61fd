"""Dated history of the facts that change under a record: a person's working terms, a case's
category and complexity.

The row itself (`Staff`, `Case`) always holds the terms in force from its latest change
onward; each earlier period is kept here, `[valid_from, valid_to)`, written when a dated
change replaces it. A question about a date is answered by the period that covers it, or
by the row when none does, so time-travel queries and back-dated evaluations see the
terms that applied then: an FTE change on return from maternity leave does not rewrite
the caseload cap or protected-time entitlement of the months before it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class TermPeriod(SQLModel):
    """One period `[valid_from, valid_to)` of a record's dated facts, kept when a dated
    change replaced it. Every kind of term has these columns with this meaning, so "the
    terms in force on a date" is the same question whichever record it is asked of."""

    id: int | None = Field(default=None, primary_key=True)
    valid_from: date
    valid_to: date
    created_at: datetime = created_at_field()


class StaffTerm(TermPeriod, table=True):
    """A person's team, FTE and contracted hours over one period before a dated change."""

    __tablename__ = "staff_term"
    __table_args__ = (Index("ix_staff_term_period", "staff_id", "valid_from", "valid_to"),)

    staff_id: int = Field(foreign_key="staff.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    fte: float
    contracted_hours: float


class CaseTerm(TermPeriod, table=True):
    """A case's category and complexity over one period before a dated change."""

    __tablename__ = "case_term"
    __table_args__ = (Index("ix_case_term_period", "case_id", "valid_from", "valid_to"),)

    case_id: int = Field(foreign_key="case.id")
    category: str = Field(max_length=40)
    complexity: int
