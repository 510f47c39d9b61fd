"""From an id in a request to the `Subject` that scope rules are checked against.

One resolver per kind of record: a breach, a diary entry, an adjustment or a sign-off is
about its NQSW; an allocation is about its worker and its case; a case is about its team
and the people working it; a colleague (a person named in a change) is about the service
areas they work in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session

from app.auth.reach import Subject
from app.repositories import account as repo

Resolver = Callable[[Session, int, date], Subject | None]


def staff_subject(
    session: Session, staff_id: int, _on: date, kind: str = "staff"
) -> Subject | None:
    place = repo.staff_place(session, staff_id)
    if place is None:
        return None
    ident, team_id, area_id = place
    return Subject(kind=kind, ident=ident, staff_id=ident, team_id=team_id, area_id=area_id)


def case_subject(session: Session, case_id: int, on: date) -> Subject | None:
    place = repo.case_place(session, case_id, on)
    if place is None:
        return None
    team_id, workers = place
    return Subject(
        kind="case", ident=case_id, case_id=case_id, team_id=team_id, workers=frozenset(workers)
    )


def team_subject(session: Session, team_id: int, _on: date) -> Subject | None:
    area = repo.team_area(session, team_id)
    if area is False:
        return None
    return Subject(kind="team", ident=team_id, team_id=team_id, area_id=area or None)


def area_subject(session: Session, area_id: int, _on: date) -> Subject | None:
    if not repo.area_exists(session, area_id):
        return None
    return Subject(kind="area", ident=area_id, area_id=area_id)


def colleague_subject(session: Session, staff_id: int, on: date) -> Subject | None:
    """A person named in a change: their team's service area, and the areas they lead."""
    subject = staff_subject(session, staff_id, on, kind="colleague")
    if subject is None:
        return None
    led = tuple(
        Subject(kind="colleague", ident=staff_id, area_id=area)
        for area in repo.led_areas(session, staff_id) if area != subject.area_id
    )
    return Subject(kind="colleague", ident=staff_id, staff_id=staff_id,
                   team_id=subject.team_id, area_id=subject.area_id, alternatives=led)


def allocation_subject(session: Session, allocation_id: int, on: date) -> Subject | None:
    parts = repo.allocation_parts(session, allocation_id)
    if parts is None:
        return None
    worker_id, case_id = parts
    alternatives = tuple(
        s
        for s in (staff_subject(session, worker_id, on), case_subject(session, case_id, on))
        if s is not None
    )
    return Subject(kind="allocation", ident=allocation_id, alternatives=alternatives)


def _via_staff(lookup: Callable[[Session, int], int | None], kind: str) -> Resolver:
    def resolve(session: Session, ident: int, on: date) -> Subject | None:
        staff_id = lookup(session, ident)
        if staff_id is None:
            return None
        subject = staff_subject(session, staff_id, on, kind=kind)
        return None if subject is None else Subject(
            kind=kind, ident=ident, staff_id=subject.staff_id, team_id=subject.team_id,
            area_id=subject.area_id,
        )

    return resolve


RESOLVERS: dict[str, Resolver] = {
    "staff": staff_subject,
    "case": case_subject,
    "team": team_subject,
    "area": area_subject,
    "allocation": allocation_subject,
    "breach": _via_staff(repo.breach_staff, "breach"),
    "enrolment": _via_staff(repo.enrolment_staff, "enrolment"),
    "adjustment": _via_staff(repo.adjustment_staff, "adjustment"),
    "protected_time": _via_staff(repo.protected_time_staff, "protected_time"),
    "supervision": _via_staff(repo.supervision_staff, "supervision"),
    "notification": _via_staff(repo.notification_recipient, "notification"),
    "sign_off": _via_staff(repo.sign_off_staff, "sign_off"),
    "colleague": colleague_subject,
}


def resolve(session: Session, kind: str, ident: int, on: date) -> Subject | None:
    return RESOLVERS[kind](session, ident, on)
