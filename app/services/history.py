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
(`app.repositories.staff.terms_on`, and the snapshot loader's own statements).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from app.models import Case, CaseTerm, Staff, StaffTerm
from app.policy.snapshot import HoursPeriod
from app.repositories import history
from app.repositories.staff import term_periods

STAFF_TERM_FIELDS = ("team_id", "fte", "contracted_hours")
CASE_TERM_FIELDS = ("category", "complexity")


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
    periods: list[Any] = history.periods(session, term, row.id)
    row_from = periods[-1].valid_to if periods else first_day
    if on >= row_from:
        before = {name: getattr(row, name) for name in changes}
        if on > row_from:
            kept = {name: getattr(row, name) for name in fields}
            owner: dict[str, Any] = {key: row.id}
            session.add(term(**owner, valid_from=row_from, valid_to=on, **kept))
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
        owner = {key: row.id}
        session.add(term(**owner, valid_from=on, valid_to=period.valid_to, **later))
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


def earlier_working_patterns(session: Session, staff: Staff) -> tuple[HoursPeriod, ...]:
    """The person's FTE and hours before each dated change, for the entitlement (the row
    holds the pattern in force since the last change)."""
    assert staff.id is not None
    return tuple(
        HoursPeriod(first=p.valid_from, until=p.valid_to, fte=p.fte,
                    contracted_hours=p.contracted_hours)
        for p in term_periods(session, staff.id)
    )


def staff_history(session: Session, staff: Staff) -> list[dict[str, Any]]:
    """Every period of a person's terms, oldest first, the current one last (open-ended)."""
    assert staff.id is not None
    periods = term_periods(session, staff.id)
    rows = [
        {"valid_from": p.valid_from, "valid_to": p.valid_to,
         **{name: getattr(p, name) for name in STAFF_TERM_FIELDS}}
        for p in periods
    ]
    current_from = periods[-1].valid_to if periods else staff.start_date
    rows.append({"valid_from": current_from, "valid_to": None,
                    **{name: getattr(staff, name) for name in STAFF_TERM_FIELDS}})
    return rows
