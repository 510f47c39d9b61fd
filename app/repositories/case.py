"""Cases and their allocations (app/models/case.py), with a case's dated facts
(`CaseTerm`, app/models/history.py): every question asked of them.

Three predicates say what "on a date" means for this aggregate, once:

* `open_on`: a case is open from the day it is opened until the day it closes (the
  closing date is the first day shut);
* `held_on`: an allocation is current from its start date until its end date (the end
  date is the first day it no longer holds);
* `facts_on`: a case's category and complexity on a date are those of the earlier
  period covering it, else the case row's own (app/services/history.py).

They take the table (or an alias of it) and the date (a value, or a bound parameter of a
statement built once), so the ORM queries here and the prebuilt statements of the
snapshot loader and the period check say the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import (
    Adjustment,
    Allocation,
    Case,
    CaseTerm,
    Enrolment,
    Pause,
    SignOff,
    Staff,
    StaffTerm,
)
from app.repositories.base import get_or_404, paginate, read, table, where_equal

if TYPE_CHECKING:
    from app.auth.reach import Reach

On = date | ColumnElement[Any]

_ALLOCATION, _CASE, _CASE_TERM = table(Allocation), table(Case), table(CaseTerm)


# --- what "on a date" means -------------------------------------------------------------


def open_on(on: On, case: FromClause = _CASE) -> ColumnElement[bool]:
    """The case is open on `on`: opened by then and not yet closed."""
    return and_(
        case.c.opened_on <= on, or_(case.c.closed_on.is_(None), case.c.closed_on > on)
    )


def held_on(on: On, allocation: FromClause = _ALLOCATION) -> ColumnElement[bool]:
    """The allocation is current on `on`: started by then, its end date not yet reached."""
    return and_(
        allocation.c.start_date <= on,
        or_(allocation.c.end_date.is_(None), allocation.c.end_date > on),
    )


def reached_on(on: On, allocation: FromClause = _ALLOCATION) -> ColumnElement[bool]:
    """The allocation still gives its worker sight of the case on `on`: as `held_on`, but
    on its end date too. Access counts the last day inclusively, so that a worker whose
    allocation ends today can still read and finish the case today; the workload does
    not count it (`held_on`). Every reach question (one case, a list) uses this one."""
    return and_(
        allocation.c.start_date <= on,
        or_(allocation.c.end_date.is_(None), allocation.c.end_date >= on),
    )


@dataclass(frozen=True)
class CaseFactsOn:
    """A case with the facts it had on a date: select `category` and `complexity` from
    `source` (the case joined to the earlier period covering the date, if any)."""

    source: FromClause
    category: ColumnElement[Any]
    complexity: ColumnElement[Any]


def facts_on(on: On, case: FromClause = _CASE, *, name: str = "facts") -> CaseFactsOn:
    """The case's category and complexity on `on` (`name`: the period alias's name)."""
    period = _CASE_TERM.alias(name)
    source = case.outerjoin(
        period,
        and_(period.c.case_id == case.c.id, period.c.valid_from <= on, period.c.valid_to > on),
    )

    def as_of(field: str) -> ColumnElement[Any]:
        return sql_case((period.c.id.is_not(None), period.c[field]),
                        else_=case.c[field]).label(field)

    return CaseFactsOn(source, as_of("category"), as_of("complexity"))


# --- cases ------------------------------------------------------------------------------


def case_by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def case_or_404(session: Session, case_id: int) -> Case:
    return get_or_404(session, Case, case_id)


def case_by_reference(session: Session, reference: str) -> Case | None:
    """The case with exactly this reference (surrounding spaces ignored)."""
    return session.exec(select(Case).where(Case.reference == reference.strip())).first()


def reference_taken(session: Session, reference: str) -> bool:
    """References are unique ignoring case: "AUD-1" and "aud-1" are the same case file."""
    found = session.exec(
        select(Case.id).where(func.lower(Case.reference) == reference.lower()).limit(1)
    ).first()
    return found is not None


def reachable_by(scope: Reach | None, on: date) -> ColumnElement[bool] | None:
    """Cases the caller may see: their own, their teams', or worked by their teams' people.

    Mirrors `app.auth.reach.reaches` for one case; None means no filter.
    """
    if scope is None or scope.everything:
        return None
    worked = exists(select(Allocation.id).where(
        col(Allocation.case_id) == col(Case.id),
        col(Allocation.worker_id).in_(sorted(scope.case_people)),
        reached_on(on),
    ))
    return or_(
        col(Case.id).in_(sorted(scope.cases)),
        col(Case.team_id).in_(sorted(scope.teams)),
        worked,
    )


@dataclass(frozen=True)
class CaseFilter:
    """The optional filters of the case list; one left None does not narrow it.

    `is_open`: open (True) or not open (False) on the list's date; `worker_id`: held or
    co-worked by them on that date."""

    category: str | None = None
    team_id: int | None = None
    is_open: bool | None = None
    complexity: int | None = None
    worker_id: int | None = None


def cases_page(
    session: Session, *, limit: int, offset: int, on: date, filters: CaseFilter,
    scope: Reach | None = None,
) -> tuple[list[Case], int]:
    """A page of cases by reference, and how many match."""
    query = select(Case).order_by(Case.reference)
    visible = reachable_by(scope, on)
    if visible is not None:
        query = query.where(visible)
    query = where_equal(query, (Case.category, filters.category), (Case.team_id, filters.team_id),
                        (Case.complexity, filters.complexity))
    if filters.is_open is not None:
        query = query.where(open_on(on) if filters.is_open else ~open_on(on))
    if filters.worker_id is not None:
        query = query.where(exists(
            select(Allocation.id).where(
                col(Allocation.case_id) == col(Case.id),
                Allocation.worker_id == filters.worker_id,
                held_on(on),
            )
        ))
    return paginate(session, query, limit=limit, offset=offset)


def open_cases(
    session: Session, on: date, *, team_ids: Iterable[int] | None = None, limit: int = 300
) -> list[Case]:
    """Cases open on `on` (of these teams, or all), newest first."""
    query = (
        select(Case)
        .where(open_on(on))
        .order_by(col(Case.opened_on).desc(), col(Case.id).desc())
        .limit(limit)
    )
    if team_ids is not None:
        query = query.where(col(Case.team_id).in_(list(team_ids)))
    return list(session.exec(query).all())


# --- allocations ------------------------------------------------------------------------


def allocation_or_404(session: Session, allocation_id: int) -> Allocation:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("allocation", allocation_id)
    return allocation


@dataclass(frozen=True)
class AllocationFilter:
    """The optional filters of the allocation list; one left None does not narrow it.
    `on`: only the allocations held on that date."""

    worker_id: int | None = None
    case_id: int | None = None
    role: str | None = None
    on: date | None = None


def allocations_page(
    session: Session, *, limit: int, offset: int, filters: AllocationFilter,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Allocation], int]:
    """A page of allocations, latest start first, and how many match.

    `visible`: the caller's reach as a condition on allocations (`allocations_in_reach`).
    """
    query = select(Allocation).order_by(col(Allocation.start_date).desc(), col(Allocation.id))
    if visible is not None:
        query = query.where(visible)
    query = where_equal(query, (Allocation.worker_id, filters.worker_id),
                        (Allocation.case_id, filters.case_id), (Allocation.role, filters.role))
    if filters.on is not None:
        query = query.where(held_on(filters.on))
    return paginate(session, query, limit=limit, offset=offset)


def caseload(session: Session, worker_id: int, on: date) -> list[tuple[Allocation, Case]]:
    """The worker's allocations held on `on`, on cases open that day, with the cases,
    oldest first."""
    rows = session.exec(
        select(Allocation, Case)
        .join(Case, col(Case.id) == Allocation.case_id)
        .where(col(Allocation.worker_id) == worker_id, held_on(on), open_on(on))
        .order_by(col(Allocation.start_date), col(Allocation.id))
    ).all()
    return [(allocation, case) for allocation, case in rows]


def case_holders(session: Session, case_ids: Iterable[int], on: date) -> dict[int, Staff]:
    """The named holder of each of these cases on `on` (for co-worked cases: who holds
    it), in one query."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Allocation, Staff)
        .join(Staff, col(Staff.id) == Allocation.worker_id)
        .where(col(Allocation.case_id).in_(ids), col(Allocation.role) == "holder",
               held_on(on))
    ).all()
    return {allocation.case_id: holder for allocation, holder in rows}


def held_on_cases(
    session: Session, case_ids: Collection[int], on: date
) -> dict[int, list[Allocation]]:
    """The allocations held on `on` on each of these cases (oldest first), in one query."""
    found: dict[int, list[Allocation]] = defaultdict(list)
    if not case_ids:
        return found
    query = (
        select(Allocation)
        .where(col(Allocation.case_id).in_(list(case_ids)), held_on(on))
        .order_by(col(Allocation.case_id), col(Allocation.start_date), col(Allocation.id))
    )
    for allocation in session.exec(query).all():
        found[allocation.case_id].append(allocation)
    return found


def workers_on_case(session: Session, case_id: int, on: date) -> list[int]:
    """Everyone holding or co-working the case on `on`, by id.

    A case closed on `on` still counts its workers: they are the people whose breaches
    the closure may resolve.
    """
    rows = session.exec(
        select(Allocation.worker_id).where(col(Allocation.case_id) == case_id, held_on(on))
    ).all()
    return sorted(set(rows))


def overlapping(
    session: Session, *, case_id: int, start: date, end: date | None,
    worker_id: int | None = None, role: str | None = None, exclude_id: int | None = None,
) -> Allocation | None:
    """The first allocation on the case overlapping `[start, end)` (None: open-ended), of
    this worker or in this role if given, other than `exclude_id`."""
    query = select(Allocation).where(
        col(Allocation.case_id) == case_id,
        or_(col(Allocation.end_date).is_(None), col(Allocation.end_date) > start),
    )
    if end is not None:
        query = query.where(col(Allocation.start_date) < end)
    if worker_id is not None:
        query = query.where(col(Allocation.worker_id) == worker_id)
    if role is not None:
        query = query.where(col(Allocation.role) == role)
    if exclude_id is not None:
        query = query.where(col(Allocation.id) != exclude_id)
    return session.exec(query.order_by(col(Allocation.id))).first()


# --- what changes in a proposed allocation's period ---------------------------------------
#
# One statement, built once: every check and write of an allocation runs it. It reads
# beyond this aggregate (the worker's terms, enrolments, agreements, sign-offs, pauses)
# because one round trip for the whole period is what keeps a write as cheap as a
# single-day check (app/services/allocation_period.py).

_STAFF, _STAFF_TERM = table(Staff), table(StaffTerm)
_ENROLMENT, _ADJUSTMENT, _SIGN_OFF = table(Enrolment), table(Adjustment), table(SignOff)
_PAUSE = table(Pause)
_WORKER: BindParameter[Any] = bindparam("worker_id", type_=Integer)
_CASE_ID: BindParameter[Any] = bindparam("case_id", type_=Integer)
_AFTER: BindParameter[Any] = bindparam("after", type_=Date)
_EXCLUDE: BindParameter[Any] = bindparam("exclude", type_=Integer)


def _fact(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("fact")


def _no(type_: Any) -> Any:
    return cast(null(), type_)


def _later(column: Any) -> Any:
    return column > _AFTER


_HOLDER = _ALLOCATION.alias("holder")
_HOLDER_STAFF = _STAFF.alias("holder_staff")
_OWN = _ALLOCATION.alias("own")
_OWN_CASE = _CASE.alias("own_case")
_OWN_TERM = _CASE_TERM.alias("own_term")
_MINE = _ENROLMENT.alias("mine")

# The proposed case (first, so that the columns take its types), then every dated change
# after `:after` to the worker's load and programme, as tagged rows.
_PERIOD_CHANGES = union_all(
    sa_select(
        _fact("case"), _CASE.c.opened_on.label("day1"), _CASE.c.closed_on.label("day2"),
        _CASE.c.reference.label("text1"), _CASE.c.category.label("text2"),
        _CASE.c.complexity.label("number"),
    ).where(_CASE.c.id == _CASE_ID),
    # The proposed case's earlier category and complexity.
    sa_select(
        _fact("case_term"), _CASE_TERM.c.valid_from, _CASE_TERM.c.valid_to, _no(String),
        _CASE_TERM.c.category, _CASE_TERM.c.complexity,
    ).where(_CASE_TERM.c.case_id == _CASE_ID, _later(_CASE_TERM.c.valid_to)),
    # The proposed case's named holders in the period.
    sa_select(
        _fact("holder"), _HOLDER.c.start_date, _HOLDER.c.end_date, _HOLDER_STAFF.c.role,
        _no(String), _HOLDER.c.id,
    ).select_from(_HOLDER.join(_HOLDER_STAFF, _HOLDER_STAFF.c.id == _HOLDER.c.worker_id))
    .where(_HOLDER.c.case_id == _CASE_ID, _HOLDER.c.role == "holder",
           _HOLDER.c.id != _EXCLUDE,
           or_(_HOLDER.c.end_date.is_(None), _later(_HOLDER.c.end_date))),
    # The worker's other allocations starting or ending later.
    sa_select(
        _fact("own"), _OWN.c.start_date, _OWN.c.end_date, _no(String), _no(String), _OWN.c.id,
    ).where(_OWN.c.worker_id == _WORKER, _OWN.c.id != _EXCLUDE,
            or_(_later(_OWN.c.start_date), _later(_OWN.c.end_date))),
    # Cases the worker holds in the period that close later.
    sa_select(
        _fact("closing"), _OWN_CASE.c.closed_on, _no(Date), _no(String), _no(String),
        _OWN.c.id,
    ).select_from(_OWN.join(_OWN_CASE, _OWN_CASE.c.id == _OWN.c.case_id))
    .where(_OWN.c.worker_id == _WORKER, _OWN.c.id != _EXCLUDE,
           _later(_OWN_CASE.c.closed_on),
           or_(_OWN.c.end_date.is_(None), _later(_OWN.c.end_date))),
    # Their cases' category or complexity changing later.
    sa_select(
        _fact("own_term"), _OWN_TERM.c.valid_from, _OWN_TERM.c.valid_to, _no(String),
        _no(String), _OWN_TERM.c.id,
    ).select_from(_OWN.join(_OWN_TERM, _OWN_TERM.c.case_id == _OWN.c.case_id))
    .where(_OWN.c.worker_id == _WORKER, _OWN.c.id != _EXCLUDE, _later(_OWN_TERM.c.valid_to),
           or_(_OWN.c.end_date.is_(None), _later(_OWN.c.end_date))),
    # Their working terms (FTE, hours, team) changing later.
    sa_select(
        _fact("staff_term"), _STAFF_TERM.c.valid_from, _STAFF_TERM.c.valid_to, _no(String),
        _no(String), _STAFF_TERM.c.id,
    ).where(_STAFF_TERM.c.staff_id == _WORKER, _later(_STAFF_TERM.c.valid_to)),
    # Their enrolments starting or ending later.
    sa_select(
        _fact("enrolment"), _ENROLMENT.c.start_date, _ENROLMENT.c.ended_on, _no(String),
        _no(String), _ENROLMENT.c.id,
    ).where(_ENROLMENT.c.staff_id == _WORKER,
            or_(_later(_ENROLMENT.c.start_date), _later(_ENROLMENT.c.ended_on))),
    # Individual agreements beginning or ending later (valid_to is their last day).
    sa_select(
        _fact("adjustment"), _ADJUSTMENT.c.valid_from, _ADJUSTMENT.c.valid_to, _no(String),
        _no(String), _ADJUSTMENT.c.id,
    ).select_from(_ADJUSTMENT.join(_MINE, _MINE.c.id == _ADJUSTMENT.c.enrolment_id))
    .where(_MINE.c.staff_id == _WORKER,
           or_(_later(_ADJUSTMENT.c.valid_from), _ADJUSTMENT.c.valid_to >= _AFTER)),
    # Sign-offs (both approvals given) recorded or revoked later.
    sa_select(
        _fact("sign_off"), _SIGN_OFF.c.signed_on, _SIGN_OFF.c.revoked_on, _no(String),
        _no(String), _SIGN_OFF.c.id,
    ).select_from(_SIGN_OFF.join(_MINE, _MINE.c.id == _SIGN_OFF.c.enrolment_id))
    .where(_MINE.c.staff_id == _WORKER,
           _SIGN_OFF.c.team_manager_approved_at.is_not(None),
           _SIGN_OFF.c.senior_manager_approved_at.is_not(None),
           or_(_later(_SIGN_OFF.c.signed_on), _later(_SIGN_OFF.c.revoked_on))),
    # Pauses beginning or ending later (end_date is the last paused day).
    sa_select(
        _fact("pause"), _PAUSE.c.start_date, _PAUSE.c.end_date, _no(String), _no(String),
        _PAUSE.c.id,
    ).select_from(_PAUSE.join(_MINE, _MINE.c.id == _PAUSE.c.enrolment_id))
    .where(_MINE.c.staff_id == _WORKER,
           or_(_later(_PAUSE.c.start_date), _PAUSE.c.end_date >= _AFTER)),
)


def period_changes(
    session: Session, *, worker_id: int, case_id: int, after: date,
    exclude_allocation_id: int | None = None,
) -> Sequence[Row[Any]]:
    """The proposed case and every dated change after `after` to the worker's load and
    programme, as rows tagged by `fact` ("case", "case_term", "holder", "own", "closing",
    "own_term", "staff_term", "enrolment", "adjustment", "sign_off", "pause") with the
    columns `day1`, `day2`, `text1`, `text2`, `number`. `exclude_allocation_id`: the
    allocation being changed, left out of the worker's other allocations."""
    return read(session, _PERIOD_CHANGES, worker_id=worker_id, case_id=case_id, after=after,
                exclude=exclude_allocation_id or 0)
