"""What an allocation's write refuses before the policy is asked: a case or worker that
does not exist, a closed case, a worker who has left, an overlapping allocation, a
second named holder. Each refusal names the field at fault.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlmodel import Session

from app.errors import Conflict, DomainError
from app.models import Case, Staff
from app.repositories import case as case_repository
from app.repositories import staff as staff_repo


def require_case(session: Session, case_id: int) -> Case:
    """The case, or a 422 naming `case_id` (it is a field of the request, not a path)."""
    case = case_repository.case_by_id(session, case_id)
    if case is None:
        raise DomainError(f"case {case_id} does not exist", field="case_id")
    return case


def require_worker(session: Session, staff_id: int, *, field: str | None) -> Staff:
    """The person, or a 422 on `field` (None: the signed-in person, not a field)."""
    person = staff_repo.person(session, staff_id)
    if person is None:
        raise DomainError(f"staff member {staff_id} does not exist", field=field)
    return person


class CaseFacts(Protocol):
    """What validation needs of a case: a `Case` row, or the period's `ProposedCase`."""

    @property
    def id(self) -> int | None: ...
    @property
    def reference(self) -> str: ...
    @property
    def opened_on(self) -> date: ...
    @property
    def closed_on(self) -> date | None: ...


def require_case_open(case: CaseFacts, start: date) -> None:
    if case.closed_on is not None and case.closed_on <= start:
        raise DomainError(f"case {case.reference} is closed (since {case.closed_on})",
                          field="case_id")
    if start < case.opened_on:
        raise DomainError(
            f"start date {start} is before the case was opened ({case.opened_on})",
            field="start_date",
        )


def require_not_left(person: Staff, on: date, field: str) -> None:
    if person.leave_date is not None and person.leave_date <= on:
        raise DomainError(f"{person.name} left on {person.leave_date}", field=field)


def check_conflicts(
    session: Session, *, case: CaseFacts, worker_id: int, role: str, start: date,
    end: date | None,
    exclude_id: int | None = None, as_role_change: bool = False,
) -> None:
    """One worker holds a case once at a time, and a case has one named holder at a time
    (`exclude_id`: the allocation being changed). `as_role_change`: a co-worker asked
    about as holder is the question of their becoming holder, which ends the current
    holder's allocation, so neither conflict applies (the what-if check)."""
    assert case.id is not None
    if end is not None and end < start:
        raise DomainError("end date is before the start date", field="end_date")
    if start == end:  # never held (ends the day it starts): nothing to overlap
        return
    same = case_repository.overlapping(session, case_id=case.id, start=start, end=end,
                                       worker_id=worker_id, exclude_id=exclude_id)
    if same is not None:
        if as_role_change and role == "holder" and same.role == "co_worker":
            return
        raise Conflict(
            f"this worker already works on case {case.reference} from "
            f"{same.start_date}: one allocation per worker at a time", field="case_id",
        )
    if role == "holder":
        holder = case_repository.overlapping(session, case_id=case.id, start=start,
                                             end=end, role="holder", exclude_id=exclude_id)
        if holder is not None:
            raise Conflict(
                f"case {case.reference} already has a named holder from "
                f"{holder.start_date}: end or reassign that allocation first, or "
                "allocate as co-worker", field="role",
            )


def require_allocatable(
    session: Session, *, case: CaseFacts, worker: Staff, role: str, start: date,
    end: date | None, as_role_change: bool = False,
) -> None:
    """Everything that refuses an allocation before any policy is asked: a closed case, a
    start before the case opened, a worker who has left, a worker already on the case, a
    second holder. The what-if check and the write both call it, so the check never says
    "Allowed" to what the write then refuses."""
    require_case_open(case, start)
    require_not_left(worker, start, "worker_id")
    assert worker.id is not None
    check_conflicts(session, case=case, worker_id=worker.id, role=role, start=start, end=end,
                    as_role_change=as_role_change)
