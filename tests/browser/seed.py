"""A small organisation for the browser tests: one of each role and three NQSWs at
different stages, so each page has something true to show.

    Sam Okafor   month 9 of the ASYE, 15 cases: one more is over the cap (a warning)
    Nia Patel    month 3 of the ASYE, 3 cases: one more is allowed
    Leo Brennan  month 1 of the ASYE, 6 cases: over the first-stage cap (a breach)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from app.models import Allocation, Case, Enrolment, ServiceArea, Staff, Team

AS_OF = date(2026, 11, 23)
PASSWORD = "Ringfence-browser-2026!"


@dataclass
class Seeded:
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    spare_cases: list[str] = field(default_factory=list)


def _person(session: Session, seeded: Seeded, key: str, name: str, role: str,
            team_id: int | None, **extra: object) -> Staff:
    email = f"{key}@example.org"
    person = Staff(name=name, email=email, role=role, team_id=team_id,
                   start_date=date(2020, 1, 6), **extra)  # type: ignore[arg-type]
    session.add(person)
    session.flush()
    assert person.id is not None
    seeded.ids[key] = person.id
    seeded.emails[key] = email
    return person


def seed(session: Session) -> Seeded:
    """Insert the organisation and flush; the caller commits."""
    seeded = Seeded()
    area = ServiceArea(name="Children's Services North")
    session.add(area)
    session.flush()
    north = Team(name="Riverside Assessment", service_area_id=area.id)  # type: ignore[arg-type]
    east = Team(name="Hillside Family Support", service_area_id=area.id)  # type: ignore[arg-type]
    session.add_all([north, east])
    session.flush()

    senior = _person(session, seeded, "senior", "Grace Adeyemi", "senior_manager", None)
    manager = _person(session, seeded, "manager", "Tom Hughes", "team_manager", north.id)
    other_manager = _person(session, seeded, "manager2", "Ruth Evans", "team_manager", east.id)
    _person(session, seeded, "coordinator", "Priya Shah", "asye_coordinator", None)
    ap = _person(session, seeded, "ap", "Alan Price", "advanced_practitioner", north.id,
                 experienced=True)
    area.senior_manager_id = senior.id
    north.manager_id = manager.id
    east.manager_id = other_manager.id

    nqsws = {
        "sam": ("Sam Okafor", north.id, date(2026, 2, 16), 15),
        "nia": ("Nia Patel", north.id, date(2026, 9, 1), 3),
        "leo": ("Leo Brennan", north.id, date(2026, 11, 2), 6),
        "ema": ("Ema Novak", east.id, date(2026, 5, 11), 4),
    }
    number = 1000
    for key, (name, team_id, start, case_count) in nqsws.items():
        person = _person(session, seeded, key, name, "nqsw", team_id)
        session.add(Enrolment(staff_id=person.id, programme="asye",  # type: ignore[arg-type]
                              start_date=start, assessor_id=manager.id,
                              advanced_practitioner_id=ap.id))
        for i in range(case_count):
            number += 1
            case = Case(reference=f"C-{number}", category="child_in_need",
                        complexity=2 if i % 2 else 1, team_id=team_id,
                        opened_on=start + timedelta(days=i))
            session.add(case)
            session.flush()
            session.add(Allocation(case_id=case.id, worker_id=person.id,  # type: ignore[arg-type]
                                   role="holder", start_date=start + timedelta(days=i),
                                   allocated_by_id=manager.id))
    for _ in range(6):
        number += 1
        reference = f"C-{number}"
        session.add(Case(reference=reference, category="early_help", complexity=1,
                         team_id=north.id, opened_on=date(2026, 11, 1)))
        seeded.spare_cases.append(reference)
    session.flush()
    return seeded


def seed_accounts(session: Session, seeded: Seeded) -> None:
    """A sign-in for everyone seeded, all with the same test password."""
    from app.auth.accounts import create_account

    for key, staff_id in seeded.ids.items():
        create_account(session, email=seeded.emails[key], password=PASSWORD, staff_id=staff_id)
    session.flush()


def reconcile(session: Session, seeded: Seeded, on: date = AS_OF) -> None:
    """Let the engine find the breaches the seeded facts already make, with the policies
    of the configured folder: the live server, started afterwards, loads the same."""
    from app.policy.registry import load_policy_set
    from app.services.reconcile import Cause, Trigger
    from app.services.workload_events import staff_changed
    from app.settings import get_settings

    nqsws = [seeded.ids[k] for k in ("sam", "nia", "leo", "ema")]
    staff_changed(session, staff_ids=nqsws, on=on,
                  policies=load_policy_set(get_settings().policy_dir),
                  trigger=Trigger("seeded for the browser tests", Cause.changed))
    session.flush()
