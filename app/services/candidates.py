"""Who could take this case? Every case-holding worker of the case's team, side by side:
what the policy would say if the case were allocated to them, and their load today.

Every figure is the engine's, read exactly as the what-if check and the workload read
it: the outcome is `allocation_judge`'s judgement of the same proposal over its whole
period, the load is `measure_workload` on the same snapshot. Nothing is recomputed here
but the order. The team's snapshots are read in one batch (a constant number of
statements, `load_snapshots`), and only the workers on a programme, or starting one,
need the dated changes of their own period (one statement each): for everyone else no
rule applies, and the judgement is the engine's answer for "no programme".

The order: allowed before a warning before blocked (what the allocation would cause);
within each, NQSWs with the most room under their cap first, then workers the policy
sets no cap for, fewest cases first; then by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.errors import DomainError
from app.models import Case, Staff
from app.policy.engine import evaluate, measure_workload
from app.policy.findings import Outcome
from app.policy.measures import CaseCounts, WorkloadMeasures
from app.policy.snapshot import Snapshot
from app.policy.vocabulary import Role
from app.repositories import case as case_repository
from app.repositories import snapshot as snapshot_rows
from app.repositories import staff as staff_repo
from app.services.allocation_checks import require_case_open
from app.services.allocation_judge import decide, judge, period_facts
from app.services.allocation_period import OPEN_END_HORIZON, PeriodFacts
from app.services.allocation_types import Decision, Proposal
from app.services.snapshots import load_snapshots

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


# The roles that hold cases: the people a manager allocates to.
HOLDING_ROLES = (Role.nqsw.value, Role.social_worker.value, Role.advanced_practitioner.value)
# More than any team: the whole team is read in one page of the staff list.
TEAM_LIMIT = 900


@dataclass(frozen=True)
class Reason:
    """One finding in words: its outcome, the engine's reason and the day it is for."""

    outcome: str
    reason: str
    on: date


@dataclass(frozen=True)
class Candidate:
    """One worker as a candidate for the case: the engine's verdict and their load."""

    person: Staff
    decision: Decision
    cases: CaseCounts
    # The engine's measures on the date; None when the worker is not on a programme.
    measures: WorkloadMeasures | None = None
    # Whether they already hold ("holder") or co-work ("co_worker") this case.
    on_case: str | None = None
    # Their programme's status on the date ("active" or "paused").
    status: str = "active"

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome

    @property
    def cap(self) -> float | None:
        """The cap the engine holds them to on the date (None: no cap applies)."""
        band = self.measures.band if self.measures is not None else None
        return band.cap_for_fte if band is not None else None

    @property
    def room(self) -> float | None:
        """How far their weighted caseload is under that cap (negative: over it)."""
        cap = self.cap
        weighted = self.cases.weighted
        return None if cap is None or weighted is None else round(cap - weighted, 3)

    def reasons(self, *, caused: bool = True) -> list[Reason]:
        """What the allocation would cause or make worse (`caused`), else what is already
        so without it: blocks first, each with the day it is found on."""
        groups = self.decision.grouped()
        chosen = groups.caused if caused else groups.pre_existing
        return [Reason(f.outcome.value, f.reason, self.decision.found_on(f)) for f in chosen]

    @property
    def override_roles(self) -> list[str]:
        """Who may override what blocks it (none unless it is blocked)."""
        return sorted(self.decision.override_roles()) if self.decision.blocking else []

    def finding_of(self, kind: str) -> dict[str, Any] | None:
        """The engine's finding today for the first rule of this kind, if one applies."""
        if self.measures is None:
            return None
        return next((f for f in self.measures.findings if f["kind"] == kind), None)

    def sort_key(self) -> tuple[Any, ...]:
        room = self.room
        return (
            self.outcome.rank,
            room is None,
            -(room or 0.0),
            self.cases.total,
            self.person.name.casefold(),
            self.person.id or 0,
        )


@dataclass(frozen=True)
class CandidateList:
    case: Case
    on: date
    role: str
    candidates: list[Candidate]

    @property
    def case_open(self) -> bool:
        """Whether the case can be allocated on the date (open then), as a write decides."""
        try:
            require_case_open(self.case, self.on)
        except DomainError:
            return False
        return True


def candidates(
    session: Session, *, policies: PolicySet, case_id: int, on: date, role: str = "holder"
) -> CandidateList:
    """The case's team's case-holding workers in post on `on`, best candidates first."""
    case = case_repository.case_or_404(session, case_id)
    people = _team_workers(session, case.team_id, on)
    ids = [p.id for p in people if p.id is not None]
    snapshots = load_snapshots(session, ids, on, policies=policies)
    others = [i for i in ids if i not in snapshots]
    counts, on_case = _unmeasured_caseloads(session, others, on, case_id)
    starting = _starting_a_programme(session, others, on)
    shared = PeriodFacts(case=None)
    found: list[Candidate] = []
    for person in people:
        assert person.id is not None
        proposal = Proposal(case_id=case_id, worker_id=person.id, role=role, start=on)
        snapshot = snapshots.get(person.id)
        if snapshot is None and person.id not in starting:
            # No programme now and none starting in the period: no rule applies.
            decision = judge([], policies=policies, facts=shared, proposal=proposal)
            found.append(Candidate(person, decision, counts.get(person.id, _NONE),
                                   on_case=on_case.get(person.id)))
            continue
        decision = decide(session, policies=policies, proposal=proposal,
                          facts=period_facts(session, proposal), first=snapshot,
                          first_read=True)
        if snapshot is None:
            found.append(Candidate(person, decision, counts.get(person.id, _NONE),
                                   on_case=on_case.get(person.id)))
            continue
        measures = measure_workload(snapshot, policies, findings=evaluate(snapshot, policies))
        found.append(Candidate(person, decision, measures.cases, measures,
                               on_case=_role_on(snapshot, case_id), status=snapshot.status))
    found.sort(key=Candidate.sort_key)
    return CandidateList(case=case, on=on, role=role, candidates=found)


_NONE = CaseCounts(held=0, co_worked=0, total=0)


def _team_workers(session: Session, team_id: int | None, on: date) -> list[Staff]:
    """The team's case-holding staff in post on `on` (none for a case without a team)."""
    if team_id is None:
        return []
    rows, _ = staff_repo.staff_page(
        session, on=on, limit=TEAM_LIMIT, offset=0,
        filters=staff_repo.StaffFilter(team_id=team_id, active=True),
    )
    return [p for p in rows if p.role in HOLDING_ROLES]


def _role_on(snapshot: Snapshot, case_id: int) -> str | None:
    return next((item.role for item in snapshot.caseload if item.case_id == case_id), None)


def _unmeasured_caseloads(
    session: Session, ids: list[int], on: date, case_id: int
) -> tuple[dict[int, CaseCounts], dict[int, str]]:
    """Case counts of workers not on a programme (no cap, no weighting: the cases they
    hold and co-work), and which of them already work on the case: one statement."""
    held: dict[int, int] = {}
    co_worked: dict[int, int] = {}
    on_case: dict[int, str] = {}
    for row in snapshot_rows.caseloads(session, ids, on) if ids else ():
        tally = held if row.role == "holder" else co_worked
        tally[row.worker_id] = tally.get(row.worker_id, 0) + 1
        if row.case_id == case_id:
            on_case[row.worker_id] = row.role
    counts = {
        i: CaseCounts(held=held.get(i, 0), co_worked=co_worked.get(i, 0),
                      total=held.get(i, 0) + co_worked.get(i, 0))
        for i in ids
    }
    return counts, on_case


def _starting_a_programme(session: Session, ids: list[int], on: date) -> set[int]:
    """Who, of workers not on a programme on `on`, starts one within the period the
    what-if follows an open-ended allocation for (their rules apply from then)."""
    if not ids:
        return set()
    rows = snapshot_rows.enrolments_started_by(session, ids, on + OPEN_END_HORIZON)
    return {row.staff_id for row in rows if row.start_date > on}
