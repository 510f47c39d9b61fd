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
from datetime import date
from functools import lru_cache
from typing import Any

import holidays
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.models import (
    Adjustment,
    Allocation,
    Case,
    Enrolment,
    Pause,
    SignOff,
    Staff,
)
from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)
from app.services.diary_facts import load_diary_facts

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


def enrolment_is_current(enrolment: Enrolment, on: date) -> bool:
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
    enrolments = current_enrolments(session, ids, on)
    if not enrolments:
        return {}
    staff_rows = _staff(session, list(enrolments))
    enrolment_ids = [e.id for e in enrolments.values() if e.id is not None]
    pauses = _pauses(session, enrolment_ids)
    sign_offs = _sign_offs(session, enrolment_ids, on)
    adjustments = _adjustments(session, enrolment_ids, on)
    caseloads = _caseloads(session, list(enrolments), on)
    benchmarks = _team_benchmarks(
        session,
        {(s.team_id, enrolments[sid].programme) for sid, s in staff_rows.items() if s.team_id},
        on,
        policies,
    )
    diary = _diary_facts(session, enrolment_ids, on)
    first_year = min(e.start_date.year for e in enrolments.values())
    bank_holidays = bank_holidays_between(first_year, on.year + HOLIDAY_YEARS_AHEAD)

    snapshots: dict[int, Snapshot] = {}
    for staff_id, enrolment in enrolments.items():
        person = staff_rows.get(staff_id)
        assert enrolment.id is not None
        own_pauses = pauses.get(enrolment.id, ())
        facts = diary.get(enrolment.id)
        team_id = person.team_id if person else None
        snapshots[staff_id] = Snapshot(
            staff_id=staff_id,
            enrolment_id=enrolment.id,
            programme=enrolment.programme,  # type: ignore[arg-type]
            programme_start=enrolment.start_date,
            as_of=on,
            fte=person.fte if person else 1.0,
            contracted_hours=person.contracted_hours if person else 37.0,
            status=_status_on(enrolment, own_pauses, on),
            team_id=team_id,
            pauses=own_pauses,
            sign_offs=sign_offs.get(enrolment.id, ()),
            adjustments=adjustments.get(enrolment.id, ()),
            caseload=caseloads.get(staff_id, ()),
            benchmark_load=benchmarks.get((team_id, enrolment.programme)),
            protected_time=tuple(getattr(facts, "protected_time", ()) or ()),
            supervision=tuple(getattr(facts, "supervision", ()) or ()),
            reviews=tuple(getattr(facts, "reviews", ()) or ()),
            bank_holidays=bank_holidays,
        )
    return snapshots


def _status_on(enrolment: Enrolment, pauses: tuple[PauseSpan, ...], on: date) -> str:
    for pause in pauses:
        if pause.start <= on and (pause.end is None or on <= pause.end):
            return "paused"
    return "active"


def _staff(session: Session, ids: list[int]) -> dict[int, Staff]:
    found: dict[int, Staff] = {}
    for chunk in _chunks(ids):
        for person in session.exec(select(Staff).where(col(Staff.id).in_(chunk))).all():
            assert person.id is not None
            found[person.id] = person
    return found


def _pauses(session: Session, enrolment_ids: list[int]) -> dict[int, tuple[PauseSpan, ...]]:
    found: dict[int, list[PauseSpan]] = defaultdict(list)
    for chunk in _chunks(enrolment_ids):
        rows = session.exec(
            select(Pause)
            .where(col(Pause.enrolment_id).in_(chunk))
            .order_by(col(Pause.start_date), col(Pause.id))
        ).all()
        for pause in rows:
            found[pause.enrolment_id].append(
                PauseSpan(start=pause.start_date, end=pause.end_date, reason=pause.reason)
            )
    return {key: tuple(value) for key, value in found.items()}


def _sign_offs(
    session: Session, enrolment_ids: list[int], on: date
) -> dict[int, tuple[SignOffRecord, ...]]:
    found: dict[int, list[SignOffRecord]] = defaultdict(list)
    for chunk in _chunks(enrolment_ids):
        rows = session.exec(
            select(SignOff)
            .where(
                col(SignOff.enrolment_id).in_(chunk),
                col(SignOff.signed_on) <= on,
                or_(col(SignOff.revoked_on).is_(None), col(SignOff.revoked_on) > on),
            )
            .order_by(col(SignOff.signed_on), col(SignOff.id))
        ).all()
        for row in rows:
            found[row.enrolment_id].append(SignOffRecord(kind=row.kind, signed_on=row.signed_on))
    return {key: tuple(value) for key, value in found.items()}


def _adjustments(
    session: Session, enrolment_ids: list[int], on: date
) -> dict[int, tuple[AdjustmentRecord, ...]]:
    found: dict[int, list[AdjustmentRecord]] = defaultdict(list)
    for chunk in _chunks(enrolment_ids):
        rows = session.exec(
            select(Adjustment)
            .where(
                col(Adjustment.enrolment_id).in_(chunk),
                col(Adjustment.valid_from) <= on,
                or_(col(Adjustment.valid_to).is_(None), col(Adjustment.valid_to) >= on),
            )
            .order_by(col(Adjustment.valid_from), col(Adjustment.id))
        ).all()
        for row in rows:
            found[row.enrolment_id].append(
                AdjustmentRecord(
                    policy_id=row.policy_id,
                    parameter=row.parameter,
                    value=row.value,
                    reason=row.reason,
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    adjustment_id=row.id,
                )
            )
    return {key: tuple(value) for key, value in found.items()}


def _caseloads(
    session: Session, worker_ids: list[int], on: date
) -> dict[int, tuple[CaseLoadItem, ...]]:
    """Active allocations with their open cases, plus who holds each co-worked case."""
    rows: list[tuple[Allocation, Case]] = []
    for chunk in _chunks(worker_ids):
        rows.extend(
            session.exec(
                select(Allocation, Case)
                .join(Case, col(Case.id) == col(Allocation.case_id))
                .where(
                    col(Allocation.worker_id).in_(chunk),
                    allocation_active_on(on),
                    case_open_on(on),
                )
                .order_by(col(Allocation.start_date), col(Allocation.id))
            ).all()
        )
    coworked = sorted(
        {case.id for alloc, case in rows if alloc.role == "co_worker" and case.id is not None}
    )
    ap_held = advanced_practitioner_held_cases(session, coworked, on)
    found: dict[int, list[CaseLoadItem]] = defaultdict(list)
    for alloc, case in rows:
        assert case.id is not None
        found[alloc.worker_id].append(case_load_item(alloc, case, case.id in ap_held))
    return {key: tuple(value) for key, value in found.items()}


def case_load_item(alloc: Allocation, case: Case, holder_is_ap: bool) -> CaseLoadItem:
    assert case.id is not None
    return CaseLoadItem(
        case_id=case.id,
        reference=case.reference,
        category=case.category,
        complexity=case.complexity,
        role=alloc.role,  # type: ignore[arg-type]
        start_date=alloc.start_date,
        allocation_id=alloc.id,
        holder_is_advanced_practitioner=holder_is_ap if alloc.role == "co_worker" else False,
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


def _benchmark_weightings(policies: Any, programmes: set[str]) -> dict[str, Any]:
    """Per programme, the weighting of the first active `workload_share` rule that wants
    a team benchmark (None when no such rule is active: nothing to measure)."""
    found: dict[str, Any] = {}
    if policies is None:
        return found
    for programme in programmes:
        for rule in policies.rules_for(programme):
            params = rule.params
            if rule.kind == "workload_share" and getattr(params, "use_team_benchmark", False):
                found[programme] = params.weights
                break
    return found


def _team_benchmarks(
    session: Session, wanted: set[tuple[int | None, str]], on: date, policies: Any
) -> dict[tuple[int | None, str], float]:
    """Median FTE-normalised weighted load of each team's experienced workers, per
    programme weighting. One query for every team at once."""
    weightings = _benchmark_weightings(policies, {programme for _, programme in wanted})
    team_ids = sorted({team for team, programme in wanted if team and programme in weightings})
    if not team_ids:
        return {}
    people = session.exec(
        select(Staff).where(
            col(Staff.team_id).in_(team_ids),
            col(Staff.experienced).is_(True),
            col(Staff.start_date) <= on,
            or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on),
        )
    ).all()
    if not people:
        return {}
    by_id = {p.id: p for p in people}
    loads: dict[int, list[CaseLoadItem]] = {pid: [] for pid in by_id if pid is not None}
    rows = session.exec(
        select(Allocation, Case)
        .join(Case, col(Case.id) == col(Allocation.case_id))
        .join(Staff, col(Staff.id) == col(Allocation.worker_id))
        .where(
            col(Staff.team_id).in_(team_ids),
            col(Staff.experienced).is_(True),
            allocation_active_on(on),
            case_open_on(on),
        )
    ).all()
    for alloc, case in rows:
        if alloc.worker_id in loads:
            loads[alloc.worker_id].append(case_load_item(alloc, case, False))
    result: dict[tuple[int | None, str], float] = {}
    for team_id, programme in wanted:
        weights = weightings.get(programme)
        if weights is None or not team_id:
            continue
        normalised: list[float] = []
        for person in people:
            if person.team_id != team_id or person.id is None:
                continue
            fte = person.fte if person.fte > 0 else 1.0
            pseudo = Snapshot(
                staff_id=person.id, enrolment_id=0, programme="asye",
                programme_start=on, as_of=on, fte=fte, caseload=tuple(loads[person.id]),
            )
            load, _ = weights.load(pseudo)
            normalised.append(load / fte)
        if normalised:
            result[(team_id, programme)] = float(statistics.median(normalised))
    return result


# --- diary and supervision ----------------------------------------------------------------


def _diary_facts(session: Session, enrolment_ids: list[int], on: date) -> dict[int, Any]:
    """Protected time, supervision and reviews per enrolment (three queries)."""
    if not enrolment_ids:
        return {}
    return dict(load_diary_facts(session, enrolment_ids, on))
