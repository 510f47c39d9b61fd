"""How far a person's access reaches, and whether a record falls within it.

Pure data and set arithmetic: the database work (who manages which team, who co-works
which case) happens once per request in `app.repositories.account`, and every scope decision,
for single records and for list filters alike, is made from the same `Reach`.

By role:

- NQSW, social worker: themselves and the cases they are (or were) allocated to.
- Advanced practitioner: the above, plus the NQSWs they support (named on the enrolment, or
  co-working one of their current cases).
- Team manager: the above, plus the teams they manage: everyone in them and every case of
  the team or held by someone in it.
- Senior manager: the above, for every team of the service areas they lead.
- ASYE coordinator (reads), and the test-only all-access principal: everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reach:
    everything: bool = False
    areas: frozenset[int] = frozenset()
    teams: frozenset[int] = frozenset()
    # People whose own records (staff, enrolment, diary, breaches) are within reach.
    people: frozenset[int] = frozenset()
    # Cases within reach directly (allocated to the person).
    cases: frozenset[int] = frozenset()
    # People whose cases are within reach (everyone in a managed team).
    case_people: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Subject:
    """The record a request names, described by what decides who may see it."""

    kind: str
    ident: int
    staff_id: int | None = None
    team_id: int | None = None
    area_id: int | None = None
    case_id: int | None = None
    workers: frozenset[int] = field(default_factory=frozenset)
    # A subject also reachable through another (an allocation: its worker or its case).
    alternatives: tuple[Subject, ...] = ()


def reaches(reach: Reach, subject: Subject) -> bool:
    """Whether `subject` lies within `reach`."""
    if reach.everything:
        return True
    if subject.staff_id is not None and subject.staff_id in reach.people:
        return True
    if subject.case_id is not None and subject.case_id in reach.cases:
        return True
    if subject.team_id is not None and subject.team_id in reach.teams:
        return True
    if subject.area_id is not None and subject.area_id in reach.areas:
        return True
    if subject.kind == "case" and subject.workers & reach.case_people:
        return True
    return any(reaches(reach, alt) for alt in subject.alternatives)


def is_self(staff_id: int | None, subject: Subject) -> bool:
    """Whether the subject is the person's own record (for `SELF` grants)."""
    if staff_id is None:
        return False
    if subject.staff_id == staff_id and subject.kind != "case":
        return True
    return any(is_self(staff_id, alt) for alt in subject.alternatives)
