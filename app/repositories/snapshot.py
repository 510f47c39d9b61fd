"""What the engine sees, read: the snapshot loader's statements, across aggregates.

A snapshot is a read model, not an aggregate: one NQSW's enrolment with their terms on
the date, the programme's pauses, sign-offs, adjustments and earlier working patterns,
their caseload with each case's category and complexity on the date, the team's
caseloads for the benchmark, and their diary. It is read on every what-if check, every
write and every sweep, so it is read in a constant number of statements whatever the
number of NQSWs or cases, and several aggregates are joined or unioned inside one
statement (programme facts, diary tables). Those statements cannot be split across the
aggregates' own repositories without becoming several queries each, so they live
together here, in the one module whose purpose is this read. The assembly of a
`Snapshot` from these rows is pure logic and stays in app/services/snapshots.py and
app/services/diary_facts.py.

Every statement is built once, at import, with bound parameters, and returns plain Core
rows (app.repositories.base): building statements and ORM objects per call would cost
more than running them. What a case open on a date, an allocation held on a date and a
case's facts on a date mean is said once, in app/repositories/case.py (`open_on`,
`held_on`, `facts_on`), and used here with the statements' bound date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    literal_column,
    null,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from app.models import (
    Adjustment,
    Allocation,
    Case,
    Enrolment,
    Pause,
    SignOff,
    Staff,
    StaffTerm,
)
from app.models.diary import ProtectedTime, ReviewPoint, SupervisionSession
from app.repositories.base import read, table
from app.repositories.case import facts_on, held_on, open_on

# SQLite limits the number of bound parameters; chunking also keeps plans simple.
CHUNK = 900


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    """`ids` in lists of at most `CHUNK`, one statement each."""
    for index in range(0, len(ids), CHUNK):
        yield list(ids[index : index + CHUNK])


_ENROLMENT, _STAFF, _PAUSE = table(Enrolment), table(Staff), table(Pause)
_SIGN_OFF, _ADJUSTMENT = table(SignOff), table(Adjustment)
_ALLOCATION, _CASE = table(Allocation), table(Case)
_STAFF_TERM = table(StaffTerm)
_BOOKING, _SESSION, _REVIEW = table(ProtectedTime), table(SupervisionSession), table(ReviewPoint)
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ON: BindParameter[Any] = bindparam("on", type_=Date)


def _as_of(period: Any, row: Any, name: str) -> Any:
    """A person's term as of `:on`: the earlier period's value when one covers the date,
    else the row's own (app/services/history.py)."""
    return case((period.c.id.is_not(None), period.c[name]), else_=row.c[name]).label(name)


def _fact(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("fact")


def _nothing(type_: Any) -> Any:
    return cast(null(), type_)


_TERM = _STAFF_TERM.alias("term")
# Per staff id, their enrolments started by `:on`, with the person's team, FTE and hours
# as they were on `:on`.
_ENROLLED = (
    sa_select(
        _ENROLMENT.c.id.label("enrolment_id"),
        _ENROLMENT.c.staff_id,
        _ENROLMENT.c.programme,
        _ENROLMENT.c.start_date,
        _ENROLMENT.c.status,
        _ENROLMENT.c.ended_on,
        _as_of(_TERM, _STAFF, "team_id"),
        _as_of(_TERM, _STAFF, "fte"),
        _as_of(_TERM, _STAFF, "contracted_hours"),
        _STAFF.c.fte.label("latest_fte"),
        _STAFF.c.contracted_hours.label("latest_hours"),
    )
    .select_from(
        _ENROLMENT.outerjoin(_STAFF, _STAFF.c.id == _ENROLMENT.c.staff_id).outerjoin(
            _TERM,
            and_(_TERM.c.staff_id == _STAFF.c.id, _TERM.c.valid_from <= _ON,
                 _TERM.c.valid_to > _ON),
        )
    )
    .where(_ENROLMENT.c.staff_id.in_(_IDS), _ENROLMENT.c.start_date <= _ON)
    .order_by(_ENROLMENT.c.start_date, _ENROLMENT.c.id)
)

# Pauses, the sign-offs in force and the adjustments in force, in ONE statement (rows
# tagged by `fact`, in each kind's own order: the pause's, sign-off's or agreement's
# first day, then id). The adjustments come first so that the columns take their types.
_PROGRAMME_FACTS = union_all(
    sa_select(
        _fact("adjustment"), _ADJUSTMENT.c.enrolment_id, _ADJUSTMENT.c.id,
        _ADJUSTMENT.c.valid_from.label("day1"), _ADJUSTMENT.c.valid_to.label("day2"),
        _ADJUSTMENT.c.policy_id.label("text1"), _ADJUSTMENT.c.parameter.label("text2"),
        _ADJUSTMENT.c.reason.label("text3"), _ADJUSTMENT.c.value,
        _ADJUSTMENT.c.applies_as.label("text4"),
    ).where(
        _ADJUSTMENT.c.enrolment_id.in_(_IDS),
        # Only an approved agreement is in force; a proposal waits for its approver.
        _ADJUSTMENT.c.status == "approved",
        _ADJUSTMENT.c.valid_from <= _ON,
        or_(_ADJUSTMENT.c.valid_to.is_(None), _ADJUSTMENT.c.valid_to >= _ON),
    ),
    sa_select(
        _fact("pause"), _PAUSE.c.enrolment_id, _PAUSE.c.id, _PAUSE.c.start_date,
        _PAUSE.c.end_date, _PAUSE.c.reason, _nothing(String), _nothing(String),
        _nothing(JSON), _nothing(String),
    ).where(_PAUSE.c.enrolment_id.in_(_IDS)),
    # Earlier working patterns (app/services/history.py), for the entitlement: the FTE
    # and hours travel as text in this statement's shared columns.
    sa_select(
        _fact("term"), _ENROLMENT.c.id, _STAFF_TERM.c.id, _STAFF_TERM.c.valid_from,
        _STAFF_TERM.c.valid_to, cast(_STAFF_TERM.c.fte, String),
        cast(_STAFF_TERM.c.contracted_hours, String), _nothing(String), _nothing(JSON),
        _nothing(String),
    ).select_from(
        _STAFF_TERM.join(_ENROLMENT, _ENROLMENT.c.staff_id == _STAFF_TERM.c.staff_id)
    ).where(_ENROLMENT.c.id.in_(_IDS)),
    sa_select(
        _fact("sign_off"), _SIGN_OFF.c.enrolment_id, _SIGN_OFF.c.id, _SIGN_OFF.c.signed_on,
        _nothing(Date), _SIGN_OFF.c.kind, _nothing(String), _nothing(String), _nothing(JSON),
        _nothing(String),
    ).where(
        _SIGN_OFF.c.enrolment_id.in_(_IDS),
        _SIGN_OFF.c.signed_on <= _ON,
        _SIGN_OFF.c.team_manager_approved_at.is_not(None),
        _SIGN_OFF.c.senior_manager_approved_at.is_not(None),
        or_(_SIGN_OFF.c.revoked_on.is_(None), _SIGN_OFF.c.revoked_on > _ON),
    ),
).order_by(literal_column("fact"), literal_column("day1"), literal_column("id"))
# A case with the category and complexity it had on `:on`.
_FACTS = facts_on(_ON)
_CASE_AS_OF = _FACTS.source
_CASE_OPEN = open_on(_ON)
# An allocation with its case: the columns a `CaseLoadItem` is made of.
_CASELOAD_COLUMNS = (
    _ALLOCATION.c.id.label("allocation_id"),
    _ALLOCATION.c.worker_id,
    _ALLOCATION.c.role,
    _ALLOCATION.c.start_date,
    _CASE.c.id.label("case_id"),
    _CASE.c.reference,
    _FACTS.category,
    _FACTS.complexity,
)
# For a co-worked case: is an advanced practitioner its named holder on `:on`? Asked in
# the caseload's own statement, so a co-worked caseload costs no second query.
_HELD, _HOLDER = _ALLOCATION.alias("held"), _STAFF.alias("holder")
_AP_HOLDS = (
    sa_select(_HELD.c.id)
    .select_from(_HELD.join(_HOLDER, _HOLDER.c.id == _HELD.c.worker_id))
    .where(
        _HELD.c.case_id == _ALLOCATION.c.case_id,
        _HELD.c.role == "holder",
        _HOLDER.c.role == "advanced_practitioner",
        held_on(_ON, _HELD),
    )
    .exists()
)
_CASELOADS = (
    sa_select(
        *_CASELOAD_COLUMNS,
        case((_ALLOCATION.c.role == "co_worker", _AP_HOLDS), else_=false()).label("ap_held"),
    )
    .select_from(_ALLOCATION.join(_CASE_AS_OF, _CASE.c.id == _ALLOCATION.c.case_id))
    .where(_ALLOCATION.c.worker_id.in_(_IDS), held_on(_ON), _CASE_OPEN)
    .order_by(_ALLOCATION.c.start_date, _ALLOCATION.c.id)
)
# The caseloads, on the date, of some workers (the team's members on that date).
_WORKER_CASELOADS = (
    sa_select(*_CASELOAD_COLUMNS)
    .select_from(_ALLOCATION.join(_CASE_AS_OF, _CASE.c.id == _ALLOCATION.c.case_id))
    .where(
        _ALLOCATION.c.worker_id.in_(_IDS),
        held_on(_ON),
        _CASE_OPEN,
    )
)
# The three diary tables in ONE statement, rows tagged by `fact`, each kind in its own
# order (day, then id; reviews are put in month order by the caller): every booking
# whatever its date, sessions and reviews once held. Bookings come first so that the
# columns take their types from them.
_DIARY = union_all(
    sa_select(
        _fact("booking"), _BOOKING.c.enrolment_id, _BOOKING.c.id, _BOOKING.c.day,
        _BOOKING.c.cancelled_on, _BOOKING.c.hours, _BOOKING.c.status.label("text1"),
        _BOOKING.c.purpose.label("text2"), _BOOKING.c.rebooked_from_id.label("number"),
        _nothing(Boolean).label("flag"),
    ).where(_BOOKING.c.enrolment_id.in_(_IDS)),
    sa_select(
        _fact("session"), _SESSION.c.enrolment_id, _SESSION.c.id, _SESSION.c.day,
        _nothing(Date), _nothing(Float), _SESSION.c.kind, _nothing(String),
        _SESSION.c.minutes, _SESSION.c.cancelled,
    ).where(_SESSION.c.enrolment_id.in_(_IDS), _SESSION.c.day <= _ON),
    sa_select(
        _fact("review"), _REVIEW.c.enrolment_id, _REVIEW.c.id, _REVIEW.c.held_on,
        _nothing(Date), _nothing(Float), _nothing(String), _nothing(String),
        _REVIEW.c.month, _nothing(Boolean),
    ).where(_REVIEW.c.enrolment_id.in_(_IDS), _REVIEW.c.held_on <= _ON),
).order_by(literal_column("fact"), literal_column("day"), literal_column("id"))


def _chunked(
    session: Session, statement: Any, ids: Sequence[int], on: date
) -> list[Row[Any]]:
    found: list[Row[Any]] = []
    for chunk in chunks(ids):
        found.extend(read(session, statement, ids=chunk, on=on))
    return found


def enrolments_started_by(session: Session, staff_ids: Sequence[int], on: date) -> list[Row[Any]]:
    """These people's enrolments started on or before `on`, oldest first, each with the
    person's team, FTE and hours as they were on `on` (`team_id`, `fte`,
    `contracted_hours`) and as they are now (`latest_fte`, `latest_hours`). Whether an
    enrolment is current is the caller's question (`enrolment.is_current`)."""
    return _chunked(session, _ENROLLED, staff_ids, on)


def programme_facts(session: Session, enrolment_ids: Sequence[int], on: date) -> list[Row[Any]]:
    """Per enrolment, tagged by `fact`: every pause ("pause"), the sign-offs in force on
    `on` ("sign_off"), the individual adjustments in force on `on` ("adjustment") and the
    person's earlier working patterns ("term"), in shared columns (day1, day2, text1..3,
    value, text4: how an adjustment applies)."""
    return _chunked(session, _PROGRAMME_FACTS, enrolment_ids, on)


def caseloads(session: Session, worker_ids: Sequence[int], on: date) -> list[Row[Any]]:
    """The allocations active on `on` of open cases, with each case's category and
    complexity on `on` and, for a co-worked case, whether an advanced practitioner is its
    named holder (`ap_held`)."""
    return _chunked(session, _CASELOADS, worker_ids, on)


def benchmark_caseloads(
    session: Session, worker_ids: Sequence[int], on: date
) -> Sequence[Row[Any]]:
    """The caseloads on `on` of the workers a team benchmark compares with (one
    statement: a team's comparable workers are few)."""
    return read(session, _WORKER_CASELOADS, ids=list(worker_ids), on=on)


def benchmark_candidates(session: Session, team_ids: Sequence[int], on: date) -> list[Staff]:
    """Experienced workers in post on `on` who are in one of these teams now or were on
    `on`: whoever a team benchmark on that date might count. Which team each was in on
    the date is the caller's question (their terms on `on`), so that a later move or
    change of hours never rewrites an earlier day's benchmark."""
    was_member = select(StaffTerm.staff_id).where(
        col(StaffTerm.team_id).in_(team_ids),
        col(StaffTerm.valid_from) <= on,
        col(StaffTerm.valid_to) > on,
    )
    return list(session.exec(
        select(Staff).where(
            or_(col(Staff.team_id).in_(team_ids), col(Staff.id).in_(was_member)),
            col(Staff.experienced).is_(True),
            col(Staff.start_date) <= on,
            or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on),
        )
    ).all())


def diaries(session: Session, enrolment_ids: Sequence[int], on: date) -> list[Row[Any]]:
    """Per enrolment, tagged by `fact`: every booking whatever its date ("booking"), and
    the supervision sessions ("session") and reviews ("review") held by `on`, in shared
    columns (fact, enrolment_id, id, day, cancelled_on, hours, text1, text2, number,
    flag). Many rows per NQSW, so callers unpack them by position."""
    return _chunked(session, _DIARY, enrolment_ids, on)
