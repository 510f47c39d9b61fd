"""Loading what the engine sees: NQSW snapshots built from a few batched queries.

The engine is pure, so everything a rule may look at is read here, in a constant number
of statements whatever the number of NQSWs or cases (a sweep over 300 NQSWs with
50,000 open cases must not issue one query per case or per person).

Date conventions, stated once:

* An allocation is *active on* a date D when ``start_date <= D`` and either it has no
  end or ``D < end_date``: `end_date` is the first day the worker no longer holds the
  case (exclusive), so ending one allocation and starting the next on the same day
  never counts the case twice.
* A case is *open on* D when ``opened_on <= D`` and either it has no closure or
  ``D < closed_on`` (a case closed on D is not part of the load on D).
* An enrolment is *current on* D when it started on or before D and has not ended:
  ``ended_on`` is the first day it no longer applies. A withdrawn or completed
  enrolment without an end date is not current.
* A sign-off counts from ``signed_on`` until it is revoked (``revoked_on``, exclusive).
* An individual adjustment applies from ``valid_from`` to ``valid_to`` inclusive.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import holidays
from sqlalchemy import (
    JSON,
    Date,
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
    CaseTerm,
    Enrolment,
    Pause,
    SignOff,
    Staff,
    StaffTerm,
)
from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    HoursPeriod,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)
from app.repositories.base import read, table
from app.services.diary_facts import load_diary_facts
from app.services.history import staff_terms_on

# SQLite limits the number of bound parameters; chunking also keeps plans simple.
CHUNK = 900
# Years of bank holidays handed to a snapshot: the programme's start year to two years
# after the evaluation date covers a 24-month SWIP with generous room for deferrals.
HOLIDAY_YEARS_AHEAD = 2
ENDED_STATUSES = frozenset({"withdrawn", "completed"})


# --- bank holidays -------------------------------------------------------------------


@lru_cache(maxsize=64)
def bank_holidays_in(year: int) -> frozenset[date]:
    """England and Wales bank holidays of one year (the ENG subdivision; WLS is identical)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays_between(first_year: int, last_year: int) -> frozenset[date]:
    days: set[date] = set()
    for year in range(first_year, last_year + 1):
        days |= bank_holidays_in(year)
    return frozenset(days)


# --- small predicates (shared with the allocation service) ---------------------------


def allocation_active_on(on: date) -> Any:
    """SQL condition: the allocation is active on `on` (end date exclusive)."""
    return and_(
        col(Allocation.start_date) <= on,
        or_(col(Allocation.end_date).is_(None), col(Allocation.end_date) > on),
    )


def case_open_on(on: date) -> Any:
    """SQL condition: the case is open on `on` (closure date exclusive)."""
    return and_(
        col(Case.opened_on) <= on,
        or_(col(Case.closed_on).is_(None), col(Case.closed_on) > on),
    )


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for index in range(0, len(ids), CHUNK):
        yield list(ids[index : index + CHUNK])


class EnrolmentDates(Protocol):
    """What decides whether an enrolment is current (an Enrolment, or a row of one)."""

    start_date: date
    ended_on: date | None
    status: str


def enrolment_is_current(enrolment: EnrolmentDates, on: date) -> bool:
    if enrolment.start_date > on:
        return False
    if enrolment.ended_on is not None:
        return on < enrolment.ended_on
    return enrolment.status not in ENDED_STATUSES


def current_enrolments(
    session: Session, staff_ids: Iterable[int], on: date
) -> dict[int, Enrolment]:
    """Each staff member's enrolment current on `on` (the latest started, if several)."""
    ids = sorted(set(staff_ids))
    found: dict[int, Enrolment] = {}
    for chunk in _chunks(ids):
        rows = session.exec(
            select(Enrolment)
            .where(col(Enrolment.staff_id).in_(chunk), col(Enrolment.start_date) <= on)
            .order_by(col(Enrolment.start_date), col(Enrolment.id))
        ).all()
        for enrolment in rows:
            if enrolment_is_current(enrolment, on):
                found[enrolment.staff_id] = enrolment
    return found


def current_enrolment(session: Session, staff_id: int, on: date) -> Enrolment | None:
    return current_enrolments(session, [staff_id], on).get(staff_id)


def nqsws_enrolled_on(session: Session, on: date) -> list[int]:
    """Every staff id with a current enrolment on `on`: the population a sweep covers."""
    rows = session.exec(
        select(Enrolment).where(col(Enrolment.start_date) <= on)
    ).all()
    return sorted({e.staff_id for e in rows if enrolment_is_current(e, on)})


# --- snapshot loading -----------------------------------------------------------------


def load_snapshot(
    session: Session, staff_id: int, on: date, *, policies: Any = None
) -> Snapshot | None:
    """One NQSW's snapshot on `on`, or None when they have no current enrolment."""
    return load_snapshots(session, [staff_id], on, policies=policies).get(staff_id)


def load_snapshots(
    session: Session, staff_ids: Iterable[int], on: date, *, policies: Any = None
) -> dict[int, Snapshot]:
    """Snapshots of many NQSWs on `on`, keyed by staff id, in a constant number of queries.

    Staff without a current enrolment are left out (no programme, no rules). `policies`
    (the loaded PolicySet) is only needed to measure the team benchmark that
    `workload_share` compares against; without it the benchmark is None.
    """
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    enrolled = _enrolled(session, ids, on)
    if not enrolled:
        return {}
    enrolment_ids = [row.enrolment_id for row in enrolled.values()]
    facts_of = _programme_facts(session, enrolment_ids, on)
    pauses, sign_offs, adjustments = facts_of.pauses, facts_of.sign_offs, facts_of.adjustments
    caseloads = _caseloads(session, list(enrolled), on)
    benchmarks = _team_benchmarks(
        session,
        {(row.team_id, row.programme) for row in enrolled.values() if row.team_id},
        on,
        policies,
    )
    diary = _diary_facts(session, enrolment_ids, on)
    first_year = min(row.start_date.year for row in enrolled.values())
    bank_holidays = bank_holidays_between(first_year, on.year + HOLIDAY_YEARS_AHEAD)

    snapshots: dict[int, Snapshot] = {}
    for staff_id, row in enrolled.items():
        own_pauses = pauses.get(row.enrolment_id, ())
        facts = diary.get(row.enrolment_id)
        snapshots[staff_id] = Snapshot(
            staff_id=staff_id,
            enrolment_id=row.enrolment_id,
            programme=row.programme,
            programme_start=row.start_date,
            as_of=on,
            # The person's row is always there (a foreign key); the defaults are a guard.
            fte=row.fte if row.fte is not None else 1.0,
            contracted_hours=row.contracted_hours if row.contracted_hours is not None else 37.0,
            hours_periods=_working_patterns(facts_of.hours_periods.get(row.enrolment_id, ()),
                                            row),
            status=_status_on(own_pauses, on),
            team_id=row.team_id,
            pauses=own_pauses,
            sign_offs=sign_offs.get(row.enrolment_id, ()),
            adjustments=adjustments.get(row.enrolment_id, ()),
            caseload=caseloads.get(staff_id, ()),
            benchmark_load=benchmarks.get((row.team_id, row.programme)),
            protected_time=tuple(getattr(facts, "protected_time", ()) or ()),
            supervision=tuple(getattr(facts, "supervision", ()) or ()),
            reviews=tuple(getattr(facts, "reviews", ()) or ()),
            bank_holidays=bank_holidays,
        )
    return snapshots


def _working_patterns(earlier: tuple[HoursPeriod, ...], row: Any) -> tuple[HoursPeriod, ...]:
    """Every working pattern of the programme: the earlier ones, then the person's latest
    (open-ended), since the snapshot's own FTE and hours are those of its date."""
    if not earlier:
        return ()
    latest = HoursPeriod(first=max(p.until for p in earlier if p.until is not None),
                         until=None, fte=row.latest_fte, contracted_hours=row.latest_hours)
    return (*earlier, latest)


def _status_on(pauses: tuple[PauseSpan, ...], on: date) -> str:
    for pause in pauses:
        if pause.start <= on and (pause.end is None or on <= pause.end):
            return "paused"
    return "active"


# Every loader below runs a statement built once, with bound parameters, as plain Core
# rows (app.repositories.base): a snapshot is read on every what-if check and every write,
# and building statements and ORM objects on each call would cost more than the queries.
_ENROLMENT, _STAFF, _PAUSE = table(Enrolment), table(Staff), table(Pause)
_SIGN_OFF, _ADJUSTMENT = table(SignOff), table(Adjustment)
_ALLOCATION, _CASE = table(Allocation), table(Case)
_STAFF_TERM, _CASE_TERM = table(StaffTerm), table(CaseTerm)
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ON: BindParameter[Any] = bindparam("on", type_=Date)


def _active(allocation: Any) -> Any:
    """`allocation_active_on` for a Core allocation table (or alias), on `:on`."""
    return and_(
        allocation.c.start_date <= _ON,
        or_(allocation.c.end_date.is_(None), allocation.c.end_date > _ON),
    )




def _as_of(period: Any, row: Any, name: str) -> Any:
    """A term as of `:on`: the earlier period's value when one covers the date, else the
    row's own (app/services/history.py)."""
    return case((period.c.id.is_not(None), period.c[name]), else_=row.c[name]).label(name)


_TERM = _STAFF_TERM.alias("term")
_FACTS = _CASE_TERM.alias("facts")
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


def _fact(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("fact")


def _nothing(type_: Any) -> Any:
    return cast(null(), type_)


# Pauses, the sign-offs in force and the adjustments in force, in ONE statement (rows
# tagged by `fact`, in each kind's own order: the pause's, sign-off's or agreement's
# first day, then id). The adjustments come first so that the columns take their types.
_PROGRAMME_FACTS = union_all(
    sa_select(
        _fact("adjustment"), _ADJUSTMENT.c.enrolment_id, _ADJUSTMENT.c.id,
        _ADJUSTMENT.c.valid_from.label("day1"), _ADJUSTMENT.c.valid_to.label("day2"),
        _ADJUSTMENT.c.policy_id.label("text1"), _ADJUSTMENT.c.parameter.label("text2"),
        _ADJUSTMENT.c.reason.label("text3"), _ADJUSTMENT.c.value,
    ).where(
        _ADJUSTMENT.c.enrolment_id.in_(_IDS),
        _ADJUSTMENT.c.valid_from <= _ON,
        or_(_ADJUSTMENT.c.valid_to.is_(None), _ADJUSTMENT.c.valid_to >= _ON),
    ),
    sa_select(
        _fact("pause"), _PAUSE.c.enrolment_id, _PAUSE.c.id, _PAUSE.c.start_date,
        _PAUSE.c.end_date, _PAUSE.c.reason, _nothing(String), _nothing(String),
        _nothing(JSON),
    ).where(_PAUSE.c.enrolment_id.in_(_IDS)),
    # Earlier working patterns (app/services/history.py), for the entitlement: the FTE
    # and hours travel as text in this statement's shared columns.
    sa_select(
        _fact("term"), _ENROLMENT.c.id, _STAFF_TERM.c.id, _STAFF_TERM.c.valid_from,
        _STAFF_TERM.c.valid_to, cast(_STAFF_TERM.c.fte, String),
        cast(_STAFF_TERM.c.contracted_hours, String), _nothing(String), _nothing(JSON),
    ).select_from(
        _STAFF_TERM.join(_ENROLMENT, _ENROLMENT.c.staff_id == _STAFF_TERM.c.staff_id)
    ).where(_ENROLMENT.c.id.in_(_IDS)),
    sa_select(
        _fact("sign_off"), _SIGN_OFF.c.enrolment_id, _SIGN_OFF.c.id, _SIGN_OFF.c.signed_on,
        _nothing(Date), _SIGN_OFF.c.kind, _nothing(String), _nothing(String), _nothing(JSON),
    ).where(
        _SIGN_OFF.c.enrolment_id.in_(_IDS),
        _SIGN_OFF.c.signed_on <= _ON,
        _SIGN_OFF.c.team_manager_approved_at.is_not(None),
        _SIGN_OFF.c.senior_manager_approved_at.is_not(None),
        or_(_SIGN_OFF.c.revoked_on.is_(None), _SIGN_OFF.c.revoked_on > _ON),
    ),
).order_by(literal_column("fact"), literal_column("day1"), literal_column("id"))
# An allocation with its case: the columns a `CaseLoadItem` is made of.
_CASELOAD_COLUMNS = (
    _ALLOCATION.c.id.label("allocation_id"),
    _ALLOCATION.c.worker_id,
    _ALLOCATION.c.role,
    _ALLOCATION.c.start_date,
    _CASE.c.id.label("case_id"),
    _CASE.c.reference,
    _as_of(_FACTS, _CASE, "category"),
    _as_of(_FACTS, _CASE, "complexity"),
)
# A case with the category and complexity it had on `:on`.
_CASE_AS_OF = _CASE.outerjoin(
    _FACTS,
    and_(_FACTS.c.case_id == _CASE.c.id, _FACTS.c.valid_from <= _ON, _FACTS.c.valid_to > _ON),
)
_CASE_OPEN = and_(
    _CASE.c.opened_on <= _ON, or_(_CASE.c.closed_on.is_(None), _CASE.c.closed_on > _ON)
)
# For a co-worked case: is an advanced practitioner its named holder on `:on`? (The same
# question as `advanced_practitioner_held_cases`, asked in the caseload's own statement.)
_HELD, _HOLDER = _ALLOCATION.alias("held"), _STAFF.alias("holder")
_AP_HOLDS = (
    sa_select(_HELD.c.id)
    .select_from(_HELD.join(_HOLDER, _HOLDER.c.id == _HELD.c.worker_id))
    .where(
        _HELD.c.case_id == _ALLOCATION.c.case_id,
        _HELD.c.role == "holder",
        _HOLDER.c.role == "advanced_practitioner",
        _active(_HELD),
    )
    .exists()
)
_CASELOADS = (
    sa_select(
        *_CASELOAD_COLUMNS,
        case((_ALLOCATION.c.role == "co_worker", _AP_HOLDS), else_=false()).label("ap_held"),
    )
    .select_from(_ALLOCATION.join(_CASE_AS_OF, _CASE.c.id == _ALLOCATION.c.case_id))
    .where(_ALLOCATION.c.worker_id.in_(_IDS), _active(_ALLOCATION), _CASE_OPEN)
    .order_by(_ALLOCATION.c.start_date, _ALLOCATION.c.id)
)


def _enrolled(session: Session, ids: list[int], on: date) -> dict[int, Row[Any]]:
    """Per staff id, the enrolment current on `on` (the latest started, if several) with
    the person's team, FTE and hours: one statement (per chunk of ids)."""
    found: dict[int, Row[Any]] = {}
    for chunk in _chunks(ids):
        for row in read(session, _ENROLLED, ids=chunk, on=on):
            if enrolment_is_current(row, on):
                found[row.staff_id] = row
    return found


@dataclass(frozen=True, slots=True)
class ProgrammeFacts:
    """Per enrolment id, what `_PROGRAMME_FACTS` read."""

    pauses: dict[int, tuple[PauseSpan, ...]]
    sign_offs: dict[int, tuple[SignOffRecord, ...]]
    adjustments: dict[int, tuple[AdjustmentRecord, ...]]
    hours_periods: dict[int, tuple[HoursPeriod, ...]]


def _programme_facts(session: Session, enrolment_ids: list[int], on: date) -> ProgrammeFacts:
    """Per enrolment id: every pause, the sign-offs in force on `on`, the individual
    adjustments in force on `on` and the person's earlier working patterns (one
    statement per chunk of ids)."""
    pauses: dict[int, list[PauseSpan]] = defaultdict(list)
    sign_offs: dict[int, list[SignOffRecord]] = defaultdict(list)
    adjustments: dict[int, list[AdjustmentRecord]] = defaultdict(list)
    periods: dict[int, list[HoursPeriod]] = defaultdict(list)
    for chunk in _chunks(enrolment_ids):
        for row in read(session, _PROGRAMME_FACTS, ids=chunk, on=on):
            if row.fact == "term":
                periods[row.enrolment_id].append(HoursPeriod(
                    first=row.day1, until=row.day2, fte=float(row.text1),
                    contracted_hours=float(row.text2),
                ))
            elif row.fact == "pause":
                pauses[row.enrolment_id].append(
                    PauseSpan(start=row.day1, end=row.day2, reason=row.text1)
                )
            elif row.fact == "sign_off":
                sign_offs[row.enrolment_id].append(
                    SignOffRecord(kind=row.text1, signed_on=row.day1)
                )
            else:
                adjustments[row.enrolment_id].append(
                    AdjustmentRecord(
                        policy_id=row.text1,
                        parameter=row.text2,
                        value=row.value,
                        reason=row.text3,
                        valid_from=row.day1,
                        valid_to=row.day2,
                        adjustment_id=row.id,
                    )
                )
    return ProgrammeFacts(
        pauses={key: tuple(value) for key, value in pauses.items()},
        sign_offs={key: tuple(value) for key, value in sign_offs.items()},
        adjustments={key: tuple(value) for key, value in adjustments.items()},
        hours_periods={key: tuple(value) for key, value in periods.items()},
    )


def _caseloads(
    session: Session, worker_ids: list[int], on: date
) -> dict[int, tuple[CaseLoadItem, ...]]:
    """Active allocations with their open cases, and for each co-worked case whether an
    advanced practitioner holds it (asked in the same statement)."""
    found: dict[int, list[CaseLoadItem]] = defaultdict(list)
    for chunk in _chunks(worker_ids):
        for row in read(session, _CASELOADS, ids=chunk, on=on):
            found[row.worker_id].append(case_load_item(row, bool(row.ap_held)))
    return {key: tuple(value) for key, value in found.items()}


def case_load_item(row: Any, holder_is_ap: bool) -> CaseLoadItem:
    """A `CaseLoadItem` from a row of `_CASELOAD_COLUMNS`."""
    return CaseLoadItem(
        case_id=row.case_id,
        reference=row.reference,
        category=row.category,
        complexity=row.complexity,
        role=row.role,
        start_date=row.start_date,
        allocation_id=row.allocation_id,
        holder_is_advanced_practitioner=holder_is_ap if row.role == "co_worker" else False,
    )


def advanced_practitioner_held_cases(
    session: Session, case_ids: Sequence[int], on: date
) -> set[int]:
    """Which of these cases have an advanced practitioner as named holder on `on`."""
    held: set[int] = set()
    for chunk in _chunks(list(case_ids)):
        rows = session.exec(
            select(Allocation.case_id)
            .join(Staff, col(Staff.id) == col(Allocation.worker_id))
            .where(
                col(Allocation.case_id).in_(chunk),
                col(Allocation.role) == "holder",
                col(Staff.role) == "advanced_practitioner",
                allocation_active_on(on),
            )
        ).all()
        held.update(rows)
    return held


# --- team benchmark --------------------------------------------------------------------


# Who the team benchmark compares an NQSW with, unless the rule says otherwise: the
# experienced social workers who hold cases. Team managers and advanced practitioners
# carry reduced or no caseloads by design, so counting them would pull the benchmark down.
DEFAULT_BENCHMARK_ROLES = ("social_worker",)
# Fewer comparable workers than this and a median says little: the rule's fixed
# benchmark is used instead.
DEFAULT_BENCHMARK_MIN_WORKERS = 3


@dataclass(frozen=True, slots=True)
class BenchmarkRule:
    """What one programme's `workload_share` rule wants measured in each team."""

    weights: Any
    roles: tuple[str, ...] = DEFAULT_BENCHMARK_ROLES
    min_workers: int = DEFAULT_BENCHMARK_MIN_WORKERS


def _benchmark_weightings(policies: Any, programmes: set[str]) -> dict[str, BenchmarkRule]:
    """Per programme, the first active `workload_share` rule that wants a team benchmark
    (none when no such rule is active: nothing to measure)."""
    found: dict[str, BenchmarkRule] = {}
    if policies is None:
        return found
    for programme in programmes:
        for rule in policies.rules_for(programme):
            params = rule.params
            if rule.kind == "workload_share" and getattr(params, "use_team_benchmark", False):
                found[programme] = BenchmarkRule(
                    weights=params.weights,
                    roles=tuple(getattr(params, "benchmark_roles", DEFAULT_BENCHMARK_ROLES)),
                    min_workers=int(getattr(params, "benchmark_min_workers",
                                            DEFAULT_BENCHMARK_MIN_WORKERS)),
                )
                break
    return found


# The caseloads, on the date, of some workers (the team's members on that date).
_WORKER_CASELOADS = (
    sa_select(*_CASELOAD_COLUMNS)
    .select_from(_ALLOCATION.join(_CASE_AS_OF, _CASE.c.id == _ALLOCATION.c.case_id))
    .where(
        _ALLOCATION.c.worker_id.in_(_IDS),
        _active(_ALLOCATION),
        _CASE_OPEN,
    )
)


def _team_benchmarks(
    session: Session, wanted: set[tuple[int | None, str]], on: date, policies: Any
) -> dict[tuple[int | None, str], float]:
    """Median FTE-normalised weighted load of each team's experienced, case-holding
    workers in the rule's roles, per programme's rule. One query for every team at once.

    A team with fewer such workers than the rule's minimum gets no benchmark, and the
    rule falls back to its fixed one.
    """
    rules = _benchmark_weightings(policies, {programme for _, programme in wanted})
    team_ids = sorted({team for team, programme in wanted if team and programme in rules})
    if not team_ids:
        return {}
    # Who was in these teams *on the date*, with the FTE then: a later move or change of
    # hours must not rewrite an earlier day's benchmark.
    was_member = select(StaffTerm.staff_id).where(
        col(StaffTerm.team_id).in_(team_ids),
        col(StaffTerm.valid_from) <= on,
        col(StaffTerm.valid_to) > on,
    )
    candidates = session.exec(
        select(Staff).where(
            or_(col(Staff.team_id).in_(team_ids), col(Staff.id).in_(was_member)),
            col(Staff.experienced).is_(True),
            col(Staff.start_date) <= on,
            or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on),
        )
    ).all()
    terms = staff_terms_on(session, candidates, on)
    people = [p for p in candidates if p.id is not None and terms[p.id].team_id in team_ids]
    if not people:
        return {}
    loads: dict[int, list[CaseLoadItem]] = {p.id: [] for p in people if p.id is not None}
    for row in read(session, _WORKER_CASELOADS, ids=sorted(loads), on=on):
        loads[row.worker_id].append(case_load_item(row, False))
    result: dict[tuple[int | None, str], float] = {}
    for team_id, programme in wanted:
        rule = rules.get(programme)
        if rule is None or not team_id:
            continue
        normalised: list[float] = []
        for person in people:
            if (person.id is None or terms[person.id].team_id != team_id
                    or not loads[person.id] or person.role not in rule.roles):
                continue
            then = terms[person.id].fte
            fte = then if then > 0 else 1.0
            pseudo = Snapshot(
                staff_id=person.id, enrolment_id=0, programme="asye",
                programme_start=on, as_of=on, fte=fte, caseload=tuple(loads[person.id]),
            )
            load, _ = rule.weights.load(pseudo)
            normalised.append(load / fte)
        if normalised and len(normalised) >= rule.min_workers:
            result[(team_id, programme)] = float(statistics.median(normalised))
    return result


# --- diary and supervision ----------------------------------------------------------------


def _diary_facts(session: Session, enrolment_ids: list[int], on: date) -> dict[int, Any]:
    """Protected time, supervision and reviews per enrolment (three queries)."""
    if not enrolment_ids:
        return {}
    return dict(load_diary_facts(session, enrolment_ids, on))
