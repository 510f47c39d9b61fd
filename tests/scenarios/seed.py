"""A small organisation for allocation and breach tests, written straight to the database.

The facts a test starts from (people, teams, cases, an existing load) are inserted
directly so that the test exercises exactly the behaviour it names; everything the
test then asserts on goes through the HTTP API.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.models import Allocation, Breach, Case, Enrolment, ServiceArea, SignOff, Staff, Team
from app.models.base import utcnow

_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


@dataclass
class Org:
    area: ServiceArea
    team: Team
    team_manager: Staff
    senior_manager: Staff
    coordinator: Staff
    ap: Staff

    @property
    def team_id(self) -> int:
        assert self.team.id is not None
        return self.team.id


def person(
    session: Session, role: str, *, team_id: int | None = None, name: str | None = None,
    fte: float = 1.0, experienced: bool = False, start: date = date(2020, 1, 1),
) -> Staff:
    n = _n()
    staff = Staff(
        name=name or f"{role.replace('_', ' ').title()} {n}",
        email=f"{role}.{n}.{id(session) % 100000}@example.org",
        role=role, team_id=team_id, fte=fte, contracted_hours=37.0 * fte,
        start_date=start, experienced=experienced,
    )
    session.add(staff)
    session.flush()
    return staff


def organisation(session: Session) -> Org:
    n = _n()
    senior = person(session, "senior_manager", name=f"Sam Senior {n}")
    area = ServiceArea(name=f"Area {n}", senior_manager_id=senior.id)
    session.add(area)
    session.flush()
    manager = person(session, "team_manager", name=f"Tess Manager {n}")
    team = Team(name=f"Team {n}", service_area_id=area.id, manager_id=manager.id)  # type: ignore[arg-type]
    session.add(team)
    session.flush()
    manager.team_id = team.id
    coordinator = person(session, "asye_coordinator", name=f"Cora Coordinator {n}")
    ap = person(session, "advanced_practitioner", team_id=team.id, name=f"Ada AP {n}",
                experienced=True)
    session.flush()
    return Org(area, team, manager, senior, coordinator, ap)


def nqsw(
    session: Session, org: Org, *, start: date, programme: str = "asye", fte: float = 1.0,
    name: str | None = None,
) -> tuple[Staff, Enrolment]:
    worker = person(session, "nqsw", team_id=org.team_id, fte=fte, name=name, start=start)
    enrolment = Enrolment(staff_id=worker.id, programme=programme, start_date=start,  # type: ignore[arg-type]
                          status="active", advanced_practitioner_id=org.ap.id)
    session.add(enrolment)
    session.flush()
    return worker, enrolment


def case(
    session: Session, *, opened_on: date, category: str = "child_in_need",
    complexity: int = 2, team_id: int | None = None,
) -> Case:
    row = Case(reference=f"C-{_n():05d}-{id(session) % 1000}", category=category,
               complexity=complexity, team_id=team_id, opened_on=opened_on)
    session.add(row)
    session.flush()
    return row


def allocate(
    session: Session, worker: Staff, row: Case, *, start: date, role: str = "holder",
) -> Allocation:
    """An allocation recorded before the test (no check: the starting facts)."""
    allocation = Allocation(case_id=row.id, worker_id=worker.id, role=role, start_date=start)  # type: ignore[arg-type]
    session.add(allocation)
    session.flush()
    return allocation


def load(
    session: Session, worker: Staff, count: int, *, start: date, **case_args: object
) -> list[Case]:
    """`count` open cases held by `worker` from `start`."""
    cases = []
    for _ in range(count):
        row = case(session, opened_on=start, **case_args)  # type: ignore[arg-type]
        allocate(session, worker, row, start=start)
        cases.append(row)
    return cases


def sign_off(session: Session, enrolment: Enrolment, org: Org, on: date,
             kind: str = "child_protection") -> SignOff:
    row = SignOff(enrolment_id=enrolment.id, kind=kind, signed_on=on,  # type: ignore[arg-type]
                  team_manager_id=org.team_manager.id,  # type: ignore[arg-type]
                  senior_manager_id=org.senior_manager.id,  # type: ignore[arg-type]
                  team_manager_approved_at=utcnow(), senior_manager_approved_at=utcnow())
    session.add(row)
    session.flush()
    return row


def breach(
    session: Session, worker: Staff, enrolment: Enrolment, *, opened_on: date,
    rule_id: str = "caseload-cap", policy_id: str = "stage-caps", severity: str = "high",
    status: str = "open", resolved_on: date | None = None, level: str = "block",
) -> Breach:
    """A breach already on record (dashboards are tested on known histories)."""
    from app.services.working_days import add_working_days

    row = Breach(
        staff_id=worker.id, enrolment_id=enrolment.id, policy_id=policy_id,  # type: ignore[arg-type]
        rule_id=rule_id, kind=rule_id.split("-")[0], level=level, severity=severity,
        status=status, policy_version="test", reason=f"{rule_id} broken",
        opened_on=opened_on, last_seen_on=resolved_on or opened_on,
        resolved_on=resolved_on, escalation_due_on=add_working_days(opened_on, 5),
        evidence={"rule_id": rule_id, "measured": 6, "limit": 5},
    )
    if resolved_on is not None:
        row.status = "resolved"
        row.resolution = "resolved in the test history"
    session.add(row)
    session.flush()
    return row
