"""The three reports, as rows: the breach register, a workload snapshot and compliance by
team. Each figure is the one the rest of the service shows for the same date:

- the register reads the breach list's own filters and ages breaches as the list does;
- a workload row is the engine's measure of that NQSW on that date (`evaluate` and
  `measure_workload` on the snapshot, as the workload API does), with protected time and
  supervision read from those rules' own findings: never a cap or share recomputed;
- compliance by team counts breaches with the dashboard's own aggregate
  (`services.breaches.summary`), and NQSWs from the workload rows above.

Rows are produced in chunks, each from a fixed number of statements (snapshots are
loaded in bulk, a chunk of NQSWs at a time), so an export of any size never issues a
query per row and never holds the whole register in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.auth.reach import Reach
from app.clock import today
from app.policy.engine import evaluate, measure_workload
from app.policy.findings import Finding
from app.policy.measures import WorkloadMeasures
from app.policy.registry import PolicySet
from app.repositories import export as export_rows
from app.services import breaches as breach_service
from app.services.breaches import BreachFilters
from app.services.snapshots import load_snapshots
from app.services.working_days import working_days_between

Row = list[Any]
Chunks = Iterator[Sequence[Row]]
# NQSWs whose snapshots are loaded together: a fixed number of statements per chunk.
NQSW_CHUNK = 200
NO_TEAM = "No team"
ALL_TEAMS = "All teams"


@dataclass(frozen=True)
class Report:
    """One report: its file name, its sheet's title and headings, and how to read its
    rows (in chunks) from a session."""

    name: str
    title: str
    headers: list[str]
    chunks: Callable[[Session], Chunks]


def rule_titles(policies: PolicySet) -> dict[str, str]:
    """Every rule as "policy/rule" with the title people read, in the policy files' order."""
    return {f"{policy.id}/{rule.id}": rule.title or policy.title
            for policy in policies for rule in policy.rules}


# --- the breach register ---------------------------------------------------------------


def register_filters(filters: BreachFilters, on: date) -> BreachFilters:
    """The register as of `on` never holds a breach opened after that day."""
    if filters.min_age_days is None:
        return replace(filters, min_age_days=0)
    return filters


def breach_register(filters: BreachFilters, on: date, policies: PolicySet) -> Report:
    """Every breach matching the filters (the breach list's), one row each."""
    titles = rule_titles(policies)
    headers = [
        "Breach ID", "NQSW ID", "NQSW", "Team", "Service area", "Policy", "Rule ID", "Rule",
        "Kind", "Level", "Severity", "Status", f"Open on {on.isoformat()}", "Opened on",
        "Problem began on", "Resolved on", "Age (days)", "Age (working days)",
        "Escalation level", "Escalated on", "Acknowledgement note", "Exception expires on",
        "Override reason", "Reason", "Resolution", "Resolution cause", "Policy version",
    ]
    ages: dict[tuple[date, date], int] = {}

    def row(values: Sequence[Any]) -> Row:
        (ident, staff_id, name, team, area, policy_id, rule_id, kind, level, severity, status,
         opened_on, began_on, resolved_on, *rest) = values
        end = resolved_on or on
        if (opened_on, end) not in ages:  # many breaches share their dates
            ages[(opened_on, end)] = working_days_between(opened_on, end)
        open_then = opened_on <= on and (resolved_on is None or resolved_on > on)
        return [ident, staff_id, name, team, area, policy_id, rule_id,
                titles.get(f"{policy_id}/{rule_id}", rule_id), kind, level, severity, status,
                open_then, opened_on, began_on, resolved_on, max((end - opened_on).days, 0),
                ages[(opened_on, end)], *rest]

    def chunks(session: Session) -> Chunks:
        for chunk in export_rows.breach_register(
            session, filters=register_filters(filters, on), on=on
        ):
            yield [row(values) for values in chunk]

    return Report(f"breach-register-{on.isoformat()}", "Breach register", headers, chunks)


# --- the workload snapshot -------------------------------------------------------------


@dataclass
class NqswLoad:
    """One NQSW's row of the workload snapshot: who they are (staff id, name, team id,
    team name, service area name, as the repository reads them), and the engine's figures."""

    who: Sequence[Any]
    status: str
    measures: WorkloadMeasures
    findings: list[Finding]
    open_breaches: int

    @property
    def staff_id(self) -> int:
        return int(self.who[0])

    @property
    def team_id(self) -> int | None:
        return self.who[2]

    def finding(self, kind: str) -> Finding | None:
        """The first finding of a rule kind (the rule in force for the programme)."""
        return next((f for f in self.findings if f.kind == kind), None)

    @property
    def cap(self) -> float | None:
        band = self.measures.band
        return band.cap_for_fte if band is not None else None

    @property
    def over_cap(self) -> bool | None:
        """Whether the weighted caseload is over the engine's cap (None: no cap applies)."""
        weighted = self.measures.cases.weighted
        if self.cap is None or weighted is None:
            return None
        return weighted > self.cap

    @property
    def protected_time(self) -> dict[str, Any]:
        found = self.finding("protected_time")
        return dict(found.details) if found is not None else {}

    @property
    def protected_time_on_track(self) -> bool | None:
        found = self.finding("protected_time")
        return None if found is None else found.outcome.value == "ok"

    @property
    def supervision(self) -> dict[str, Any]:
        """How often supervision is held: the supervision rule that measures frequency
        (reviews are a rule of the same kind, measured apart)."""
        return next((dict(f.details["frequency"]) for f in self.findings
                     if f.kind == "supervision" and f.details.get("frequency")), {})

    @property
    def supervision_due_by(self) -> date | None:
        """The last day of the gap allowed (the day before supervision is overdue), as the
        supervision page says it."""
        overdue_from = self.supervision.get("overdue_from")
        return date.fromisoformat(overdue_from) - timedelta(days=1) if overdue_from else None


def _as_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def nqsw_loads(
    session: Session, *, scope: Reach, on: date, policies: PolicySet
) -> Iterator[list[NqswLoad]]:
    """Every NQSW on a programme on `on` within reach, a chunk at a time, measured by the
    engine exactly as the workload API measures one."""
    people = export_rows.nqsws_in_reach(session, scope=scope, on=on)
    for start in range(0, len(people), NQSW_CHUNK):
        chunk = people[start:start + NQSW_CHUNK]
        ids = [staff_id for staff_id, *_ in chunk]
        snapshots = load_snapshots(session, ids, on, policies=policies)
        counts = export_rows.unresolved_opened_by(session, list(snapshots), on=on)
        loads = []
        for who in chunk:
            snapshot = snapshots.get(who[0])
            if snapshot is None:  # no enrolment current on the date: not on a programme
                continue
            findings = evaluate(snapshot, policies)
            loads.append(NqswLoad(
                who, snapshot.status, measure_workload(snapshot, policies, findings=findings),
                findings, counts.get(who[0], 0),
            ))
        yield loads


def _measured(block: Any, name: str) -> Any:
    return getattr(block, name) if block is not None else None


WORKLOAD_COLUMNS: tuple[tuple[str, Callable[[NqswLoad], Any]], ...] = (
    ("NQSW ID", lambda n: n.staff_id),
    ("NQSW", lambda n: n.who[1]),
    ("Team", lambda n: n.who[3]),
    ("Service area", lambda n: n.who[4]),
    ("Programme", lambda n: n.measures.programme.upper()),
    ("Status", lambda n: n.status),
    ("Completed programme months", lambda n: n.measures.stage.programme_months),
    ("Programme months (with fraction)", lambda n: n.measures.stage.month_fraction),
    ("Stage", lambda n: _measured(n.measures.band, "label")),
    ("FTE", lambda n: n.measures.fte),
    ("Cases held", lambda n: n.measures.cases.held),
    ("Cases co-worked", lambda n: n.measures.cases.co_worked),
    ("Cases", lambda n: n.measures.cases.total),
    ("Weighted cases", lambda n: n.measures.cases.weighted),
    ("Cap", lambda n: n.cap),
    ("How the cap was set", lambda n: _measured(n.measures.band, "cap_note")),
    ("Over cap", lambda n: n.over_cap),
    ("Points", lambda n: _measured(n.measures.points, "load")),
    ("Points allowance", lambda n: _measured(n.measures.points, "allowance")),
    ("Share of benchmark", lambda n: _measured(n.measures.share, "share")),
    ("Target share", lambda n: _measured(n.measures.share, "target_share")),
    ("Share against target", lambda n: _measured(n.measures.share, "light")),
    ("Protected time entitled (hours)", lambda n: n.protected_time.get("entitlement_hours")),
    ("Protected time earned so far (hours)", lambda n: n.protected_time.get("accrued_hours")),
    ("Protected time booked (hours)", lambda n: n.protected_time.get("booked_hours")),
    ("Protected time taken (hours)", lambda n: n.protected_time.get("taken_hours")),
    ("Protected time on track", lambda n: n.protected_time_on_track),
    ("Last supervision", lambda n: _as_date(n.supervision.get("last_session"))),
    ("Next supervision due by", lambda n: n.supervision_due_by),
    ("Supervision overdue", lambda n: n.supervision.get("overdue")),
    ("Outcome", lambda n: n.measures.outcome),
    ("Unresolved breaches", lambda n: n.open_breaches),
)


def workload_snapshot(scope: Reach, on: date, policies: PolicySet) -> Report:
    """Every NQSW within reach on a programme on `on`, one row each."""

    def chunks(session: Session) -> Chunks:
        for loads in nqsw_loads(session, scope=scope, on=on, policies=policies):
            yield [[getter(load) for _, getter in WORKLOAD_COLUMNS] for load in loads]

    return Report(f"workload-{on.isoformat()}", "Workload",
                  [title for title, _ in WORKLOAD_COLUMNS], chunks)


# --- compliance by team ----------------------------------------------------------------


def dashboard_filters(scope: Reach, on: date) -> BreachFilters:
    """The breach dashboard's default view ("not resolved") as of `on`, within reach:
    those open on a past date though some may be resolved since; today, the unresolved."""
    past = on < today()
    return BreachFilters(scope=scope, unresolved=None if past else True,
                         open_on=on if past else None, min_age_days=0)


@dataclass
class TeamCompliance:
    """One team's figures: counts of its NQSWs (`counts`, by what is counted) and of its
    unresolved breaches by "policy/rule" (`breaches`)."""

    name: str
    area: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    breaches: Counter[str] = field(default_factory=Counter)

    def add(self, load: NqswLoad) -> None:
        self.counts.update({
            "nqsws": 1,
            "with_cap": load.over_cap is not None,
            "within_cap": load.over_cap is False,
            "supervision_overdue": bool(load.supervision.get("overdue")),
            "protected_time_slipping": load.protected_time_on_track is False,
        })

    def merge(self, other: TeamCompliance) -> None:
        self.counts.update(other.counts)
        self.breaches.update(other.breaches)

    def row(self, rules: Sequence[str]) -> Row:
        """The team's row: a count for each of `rules`, then those of rules no longer in
        the policies, then the total of every rule."""
        n = self.counts
        share = round(100 * n["within_cap"] / n["with_cap"], 1) if n["with_cap"] else None
        by_rule = [self.breaches[key] for key in rules]
        total = sum(self.breaches.values())
        return [self.name, self.area, n["nqsws"], n["with_cap"], n["within_cap"],
                n["with_cap"] - n["within_cap"], share, n["supervision_overdue"],
                n["protected_time_slipping"], *by_rule, total - sum(by_rule), total]


def compliance_by_team(scope: Reach, on: date, policies: PolicySet) -> Report:
    """Per team: its NQSWs against their caps, supervision and protected time, and its
    unresolved breaches by rule as the dashboard counts them; then every team together."""
    titles = rule_titles(policies)
    headers = [
        "Team", "Service area", "NQSWs", "NQSWs with a cap", "Within cap", "Over cap",
        "Share within cap (%)", "Supervision overdue", "Protected time not on track",
    ]

    def chunks(session: Session) -> Chunks:
        teams: dict[int | None, TeamCompliance] = {}
        for loads in nqsw_loads(session, scope=scope, on=on, policies=policies):
            for load in loads:
                teams.setdefault(load.team_id, TeamCompliance(load.who[3] or NO_TEAM,
                                                              load.who[4])).add(load)
        summary = breach_service.summary(session, filters=dashboard_filters(scope, on), on=on)
        for item in summary["by_team_rule"]:
            team = teams.setdefault(item["team_id"], TeamCompliance(item["team_name"] or NO_TEAM))
            key = f"{item['policy_id']}/{item['rule_id']}"
            team.breaches[key] += item["count"]
        rules = list(titles)
        total = TeamCompliance(ALL_TEAMS)
        rows = []
        for team in sorted(teams.values(), key=lambda t: t.name.lower()):
            total.merge(team)
            rows.append(team.row(rules))
        rows.append(total.row(rules))
        yield rows

    extra = [f"Unresolved breaches: {title}" for title in titles.values()]
    return Report(f"compliance-by-team-{on.isoformat()}", "Compliance by team",
                  [*headers, *extra, "Unresolved breaches: rules no longer in force",
                   "Unresolved breaches: total"], chunks)
