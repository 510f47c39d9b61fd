"""Dated changes to a record's terms, keeping every earlier period (see app/models/history.py).

A person's FTE, hours and team, and a case's category and complexity, change on a date.
The record's row holds the terms in force from its latest change onward; each earlier
period is a `StaffTerm` / `CaseTerm` row `[valid_from, valid_to)`. A change on date D
applies from D *until the next recorded change*:

* D on or after the row's own period: the row's old terms are kept as a period ending
  on D (unless the row's period starts on D, when the row is simply corrected);
* D inside an earlier period: that period is split at D and its later part takes the
  new terms; periods after it are untouched;
* D on or before the record's first day: the first period is corrected.

Readers pick the period covering their date, or the row when none does
(`staff_terms_on`, and the snapshot loader's own statements).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from app.models import Case, CaseTerm, Staff, StaffTerm
from app.policy.snapshot import HoursPeriod

STAFF_TERM_FIELDS = ("team_id", "fte", "contracted_hours")
CASE_TERM_FIELDS = ("category", "complexity")


@dataclass(frozen=True, slots=True)
class StaffTerms:
    """A person's working terms on one date."""

    team_id: int | None
    fte: float
    contracted_hours: float


def _periods(session: Session, term: type[SQLModel], key: str, owner_id: int) -> list[Any]:
    owner = getattr(term, key)
    return list(session.exec(
        select(term).where(owner == owner_id).order_by(col(term.valid_from))  # type: ignore[attr-defined]
    ).all())


def apply_dated_change(
    session: Session,
    *,
    row: Staff | Case,
    term: type[StaffTerm] | type[CaseTerm],
    key: str,
    fields: Sequence[str],
    first_day: date,
    changes: Mapping[str, Any],
    on: date,
) -> dict[str, Any]:
    """Apply `changes` (a subset of `fields`) from `on`; returns the values they replaced.

    The caller has validated the values; this only decides which period they land in.
    """
    assert row.id is not None
    periods = _periods(session, term, key, row.id)
    row_from = periods[-1].valid_to if periods else first_day
    if on >= row_from:
        before = {name: getattr(row, name) for name in changes}
        if on > row_from:
            kept = {name: getattr(row, name) for name in fields}
            session.add(term(**{key: row.id}, valid_from=row_from, valid_to=on, **kept))
        for name, value in changes.items():
            setattr(row, name, value)
        session.add(row)
        return before
    # The change lands in an earlier period: from `on` until that period ends.
    index = next((i for i, p in enumerate(periods) if p.valid_from <= on < p.valid_to), 0)
    period = periods[index]
    before = {name: getattr(period, name) for name in changes}
    if on > period.valid_from:
        later = {name: getattr(period, name) for name in fields}
        later.update(changes)
        session.add(term(**{key: row.id}, valid_from=on, valid_to=period.valid_to, **later))
        period.valid_to = on
    else:
        for name, value in changes.items():
            setattr(period, name, value)
    session.add(period)
    return before


def change_staff_terms(
    session: Session, staff: Staff, changes: Mapping[str, Any], on: date
) -> dict[str, Any]:
    """A dated change to a person's team, FTE or contracted hours."""
    return apply_dated_change(
        session, row=staff, term=StaffTerm, key="staff_id", fields=STAFF_TERM_FIELDS,
        first_day=staff.start_date, changes=changes, on=on,
    )


def change_case_facts(
    session: Session, case: Case, changes: Mapping[str, Any], on: date
) -> dict[str, Any]:
    """A dated change to a case's category or complexity."""
    return apply_dated_change(
        session, row=case, term=CaseTerm, key="case_id", fields=CASE_TERM_FIELDS,
        first_day=case.opened_on, changes=changes, on=on,
    )


def staff_terms_on(
    session: Session, people: Iterable[Staff], on: date
) -> dict[int, StaffTerms]:
    """Each person's terms on `on`, in one statement: the period covering it, else the row."""
    rows = {person.id: person for person in people if person.id is not None}
    found = {
        pid: StaffTerms(team_id=p.team_id, fte=p.fte, contracted_hours=p.contracted_hours)
        for pid, p in rows.items()
    }
    if not rows:
        return found
    earlier = session.exec(
        select(StaffTerm).where(
            col(StaffTerm.staff_id).in_(sorted(rows)),
            col(StaffTerm.valid_from) <= on,
            col(StaffTerm.valid_to) > on,
        )
    ).all()
    for period in earlier:
        found[period.staff_id] = StaffTerms(
            team_id=period.team_id, fte=period.fte, contracted_hours=period.contracted_hours
        )
    return found


def earlier_working_patterns(session: Session, staff: Staff) -> tuple[HoursPeriod, ...]:
    """The person's FTE and hours before each dated change, for the entitlement (the row
    holds the pattern in force since the last change)."""
    assert staff.id is not None
    return tuple(
        HoursPeriod(first=p.valid_from, until=p.valid_to, fte=p.fte,
                    contracted_hours=p.contracted_hours)
        for p in _periods(session, StaffTerm, "staff_id", staff.id)
    )


def staff_history(session: Session, staff: Staff) -> list[dict[str, Any]]:
    """Every period of a person's terms, oldest first, the current one last (open-ended)."""
    assert staff.id is not None
    periods = _periods(session, StaffTerm, "staff_id", staff.id)
    history = [
        {"valid_from": p.valid_from, "valid_to": p.valid_to,
         **{name: getattr(p, name) for name in STAFF_TERM_FIELDS}}
        for p in periods
    ]
    current_from = periods[-1].valid_to if periods else staff.start_date
    history.append({"valid_from": current_from, "valid_to": None,
                    **{name: getattr(staff, name) for name in STAFF_TERM_FIELDS}})
    return history
