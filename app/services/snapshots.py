"""Loading what the engine sees: NQSW snapshots assembled from a few batched reads.

The engine is pure, so everything a rule may look at is read for it, in a constant number
of statements whatever the number of NQSWs or cases (a sweep over 300 NQSWs with
50,000 open cases must not issue one query per case or per person). The statements are
in app/repositories/snapshot.py; this module turns their rows into `Snapshot`s.

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import holidays
from sqlalchemy.engine import Row
from sqlmodel import Session

from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    HoursPeriod,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)
from app.repositories import snapshot as snapshot_rows
from app.repositories.enrolment import (  # current_enrolments: app/web/summaries.py reads it here
    current_enrolments as current_enrolments,
)
from app.repositories.enrolment import is_current
from app.repositories.staff import terms_on
from app.services.diary_facts import load_diary_facts

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


# Years of bank holidays handed to a snapshot: the programme's start year to two years
# after the evaluation date covers a 24-month SWIP with generous room for deferrals.
HOLIDAY_YEARS_AHEAD = 2


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


# --- snapshot loading -----------------------------------------------------------------


def load_snapshot(
    session: Session, staff_id: int, on: date, *, policies: PolicySet | None = None
) -> Snapshot | None:
    """One NQSW's snapshot on `on`, or None when they have no current enrolment."""
    return load_snapshots(session, [staff_id], on, policies=policies).get(staff_id)


def load_snapshots(
    session: Session, staff_ids: Iterable[int], on: date, *, policies: PolicySet | None = None
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


def _enrolled(session: Session, ids: list[int], on: date) -> dict[int, Row[Any]]:
    """Per staff id, the enrolment current on `on` (the latest started, if several) with
    the person's team, FTE and hours: one statement (per chunk of ids)."""
    found: dict[int, Row[Any]] = {}
    for row in snapshot_rows.enrolments_started_by(session, ids, on):
        if is_current(row, on):
            found[row.staff_id] = row
    return found


@dataclass(frozen=True, slots=True)
class ProgrammeFacts:
    """Per enrolment id, what `snapshot_rows.programme_facts` read."""

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
    for row in snapshot_rows.programme_facts(session, enrolment_ids, on):
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
                    applies_as=row.text4,
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
    for row in snapshot_rows.caseloads(session, worker_ids, on):
        found[row.worker_id].append(case_load_item(row, bool(row.ap_held)))
    return {key: tuple(value) for key, value in found.items()}


def case_load_item(row: Any, holder_is_ap: bool) -> CaseLoadItem:
    """A `CaseLoadItem` from a caseload row (`snapshot_rows.caseloads` or
    `benchmark_caseloads`)."""
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


def _benchmark_weightings(
    policies: PolicySet | None, programmes: set[str]
) -> dict[str, BenchmarkRule]:
    """Per programme, the first active `workload_share` rule that wants a team benchmark
    (none when no such rule is active: nothing to measure)."""
    found: dict[str, BenchmarkRule] = {}
    if policies is None:
        return found
    for programme in programmes:
        for rule in policies.rules_for(programme):
            params: Any = rule.params  # a workload_share rule's own Params
            if rule.kind == "workload_share" and getattr(params, "use_team_benchmark", False):
                found[programme] = BenchmarkRule(
                    weights=params.weights,
                    roles=tuple(getattr(params, "benchmark_roles", DEFAULT_BENCHMARK_ROLES)),
                    min_workers=int(getattr(params, "benchmark_min_workers",
                                            DEFAULT_BENCHMARK_MIN_WORKERS)),
                )
                break
    return found


def _team_benchmarks(
    session: Session, wanted: set[tuple[int | None, str]], on: date,
    policies: PolicySet | None,
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
    candidates = snapshot_rows.benchmark_candidates(session, team_ids, on)
    terms = terms_on(session, candidates, on)
    people = [p for p in candidates if p.id is not None and terms[p.id].team_id in team_ids]
    if not people:
        return {}
    loads: dict[int, list[CaseLoadItem]] = {p.id: [] for p in people if p.id is not None}
    for row in snapshot_rows.benchmark_caseloads(session, sorted(loads), on):
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
