"""View models for pages, built from the services and the engine (never from raw SQL).

Each builder returns plain data a template can print, so that templates hold no logic
beyond layout and the same figure is computed the same way on every page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from app.models import Staff, Team
from app.models.base import PROGRAMME_MONTHS, Programme
from app.policy.engine import measure_workload
from app.policy.measures import (
    CapBandMeasures,
    NextReview,
    PointsMeasures,
    ShareMeasures,
    WorkloadMeasures,
)
from app.repositories.org import unclosed_teams
from app.repositories.staff import enrolled_nqsws
from app.services.snapshots import current_enrolments, load_snapshots


def programme_length(programme: str) -> int:
    try:
        return PROGRAMME_MONTHS[Programme(programme)]
    except ValueError:
        return 12


@dataclass
class Workload:
    """One NQSW's load on a date as a page shows it: the engine's typed measures, with
    the few things a page adds (its programme's length, the status)."""

    measures: WorkloadMeasures
    length: int
    status: str

    @property
    def staff_id(self) -> int:
        return self.measures.staff_id

    @property
    def programme(self) -> str:
        return self.measures.programme

    @property
    def months_done(self) -> int:
        return self.measures.stage.programme_months

    @property
    def next_review(self) -> NextReview | None:
        return self.measures.stage.next_review

    @property
    def total_cases(self) -> int:
        return self.measures.cases.total

    @property
    def held(self) -> int:
        return self.measures.cases.held

    @property
    def co_worked(self) -> int:
        return self.measures.cases.co_worked

    @property
    def weighted(self) -> float | None:
        return self.measures.cases.weighted

    @property
    def band(self) -> CapBandMeasures | None:
        return self.measures.band

    @property
    def cap(self) -> float | None:
        """The cap the engine holds this NQSW to on the date (pro rata, as agreed, or the
        policy's): the one figure every page shows, never the full-time band cap."""
        return self.band.cap_for_fte if self.band is not None else None

    @property
    def cap_note(self) -> str:
        """How that cap was reached, in the engine's words ("as agreed", "10 pro rata for
        0.8 FTE"); empty for the policy's number as written."""
        return self.band.cap_note if self.band is not None else ""

    @property
    def band_label(self) -> str | None:
        return self.band.label if self.band is not None else None

    @property
    def band_enforcement(self) -> str | None:
        return self.band.enforcement if self.band is not None else None

    @property
    def points(self) -> PointsMeasures | None:
        return self.measures.points

    @property
    def share(self) -> ShareMeasures | None:
        return self.measures.share

    @property
    def outcome(self) -> str:
        return self.measures.outcome

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.measures.findings

    @property
    def month_number(self) -> int:
        """The month they are in ("month 4 of 12"), capped at the programme's length."""
        return min(self.months_done + 1, self.length)

    @property
    def over_cap(self) -> bool:
        return self.cap is not None and self.weighted is not None and self.weighted > self.cap

    @property
    def breach_findings(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["outcome"] != "ok"]


def workload_of(measures: WorkloadMeasures, status: str) -> Workload:
    return Workload(measures=measures, length=programme_length(measures.programme),
                    status=status)


def workloads(
    session: Session, staff_ids: Iterable[int], on: date, policies: Any
) -> dict[int, Workload]:
    """Loads of many NQSWs in a fixed number of queries (snapshots are batched)."""
    snapshots = load_snapshots(session, list(staff_ids), on, policies=policies)
    loads = {
        staff_id: workload_of(measure_workload(snap, policies), snap.status)
        for staff_id, snap in snapshots.items()
    }
    for load in loads.values():
        titled(load.findings, policies)
    return loads


def titled(findings: list[dict[str, Any]], policies: Any) -> list[dict[str, Any]]:
    """Give each finding its rule's title from the policy file, for headings."""
    for finding in findings:
        try:
            rule = policies.rule(finding["policy_id"], finding["rule_id"])
            policy = policies.policy(finding["policy_id"])
        except (KeyError, AttributeError):
            continue
        finding.setdefault("title", rule.title or policy.title)
        finding.setdefault("policy_title", policy.title)
    return findings


@dataclass
class NqswRow:
    staff: Staff
    team: Team | None
    workload: Workload | None
    open_breaches: int = 0


@dataclass
class TeamView:
    rows: list[NqswRow] = field(default_factory=list)

    @property
    def over_cap(self) -> int:
        return sum(1 for r in self.rows if r.workload and r.workload.over_cap)

    @property
    def with_breaches(self) -> int:
        return sum(1 for r in self.rows if r.open_breaches)


def team_view(
    session: Session, *, on: date, policies: Any, team_ids: Sequence[int] | None,
    advanced_practitioner_id: int | None = None,
) -> TeamView:
    """NQSWs of these teams with their stage, caseload against the cap and open breaches."""
    people = enrolled_nqsws(
        session, on=on, team_ids=team_ids, advanced_practitioner_id=advanced_practitioner_id
    )
    # Only NQSWs on a programme now (active or paused); finished ones have left the list.
    current = current_enrolments(session, [p.id for p in people if p.id is not None], on)
    people = [p for p in people if p.id in current]
    ids = [p.id for p in people if p.id is not None]
    loads = workloads(session, ids, on, policies)
    counts = open_breach_counts(session, ids)
    team_rows = {t.id: t for t in unclosed_teams(session)}
    view = TeamView()
    for person in people:
        assert person.id is not None
        view.rows.append(NqswRow(
            staff=person,
            team=team_rows.get(person.team_id) if person.team_id else None,
            workload=loads.get(person.id),
            open_breaches=counts.get(person.id, 0),
        ))
    return view


def open_breach_counts(session: Session, staff_ids: Sequence[int]) -> dict[int, int]:
    from app.services.breaches import counts_by_staff

    return counts_by_staff(session, list(staff_ids))
