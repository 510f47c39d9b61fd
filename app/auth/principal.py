"""The signed-in person as the rest of the service sees them: a `Principal`.

Route handlers get it with `PrincipalDep` (app.auth.dependencies); services take the
parts they need (`actor_id=principal.staff_id`, or `scope=principal.reach()` for a list).
Its reach is computed on first use, with a handful of small queries, and kept for the
rest of the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from app.auth.reach import Reach, Subject, is_self, reaches
from app.clock import today
from app.models.base import Role
from app.repositories import account as repo

READ, WRITE = "read", "write"
# Only the test suite mints this scope, and it is honoured only outside production mode.
ALL_ACCESS = "all_access"
GLOBAL_READERS = frozenset({Role.asye_coordinator.value})


@dataclass
class Principal:
    account_id: int
    email: str
    staff_id: int | None
    role: str | None
    name: str
    scopes: frozenset[str]
    via: str  # "token" or "session"
    all_access: bool = False
    token_id: int | None = None
    token_kind: str | None = None
    session_id: int | None = None
    # What the access table grants this role on the route being served ("all", "scope",
    # "self"); None outside the API. With "all", `reach()` is everything for the request.
    grant: str | None = None
    db: Session | None = field(default=None, repr=False, compare=False)
    _reach: dict[date, Reach] = field(default_factory=dict, repr=False, compare=False)
    _colleague_areas: frozenset[int] | None = field(default=None, repr=False, compare=False)

    @property
    def can_write(self) -> bool:
        return self.all_access or WRITE in self.scopes

    @property
    def is_global_reader(self) -> bool:
        """Sees every record (the ASYE coordinator; the test suite's all-access principal)."""
        return self.all_access or self.role in GLOBAL_READERS

    def reach(self, on: date | None = None) -> Reach:
        """What this person can reach as of `on` (default today); kept for the request."""
        if self.grant == "all":
            return Reach(everything=True)
        day = on or today()
        if day not in self._reach:
            if self.db is None:
                raise RuntimeError("principal has no database session to compute its reach")
            self._reach[day] = load_reach(self.db, self, day)
        return self._reach[day]

    def can_see(self, subject: Subject) -> bool:
        return reaches(self.reach(), subject)

    def owns(self, subject: Subject) -> bool:
        return is_self(self.staff_id, subject)

    def may_name(self, subject: Subject) -> bool:
        """Whether this person may name `subject` (a `colleague`) in a change they make:
        someone whose records they reach, or who works in one of their service areas."""
        reach = self.reach()
        if reach.everything:
            return True
        if subject.staff_id is not None and subject.staff_id in (
            reach.people | reach.case_people
        ):
            return True
        areas = self.colleague_areas()
        return any(s.area_id in areas for s in (subject, *subject.alternatives)
                   if s.area_id is not None)

    def colleague_areas(self) -> frozenset[int]:
        """The service areas this person works in or reaches: their own team's, those of
        the teams and people in their reach, and the areas they lead."""
        if self._colleague_areas is None:
            reach = self.reach()
            if self.db is None:
                raise RuntimeError("principal has no database session to compute its reach")
            found = repo.areas_of(self.db, staff_ids=set(reach.people),
                                  team_ids=set(reach.teams))
            self._colleague_areas = frozenset(found | reach.areas)
        return self._colleague_areas

    def permits(self, grant: str, subject: Subject) -> bool:
        """The one scope decision for a record a request names, under the route's grant.

        `SELF`: the person's own record; `SCOPE`: within their reach. A `colleague` (a
        person named in a change) is judged by `may_name` under either grant.
        """
        if subject.kind == "colleague":
            return self.may_name(subject)
        if grant == "self":
            return self.owns(subject)
        return self.can_see(subject)

    def visible_team_ids(self) -> frozenset[int] | None:
        """Teams whose people and cases are in reach; None means every team."""
        reach = self.reach()
        return None if reach.everything else reach.teams

    def visible_staff_ids(self) -> frozenset[int] | None:
        """People whose own records are in reach; None means everyone.

        For managers this includes everyone in their teams (resolved now, so it is a
        fixed set; list services may prefer `app.repositories.account.people_in_reach`).
        """
        reach = self.reach()
        if reach.everything:
            return None
        # Everyone in the managed teams is already part of the reach (`case_people`).
        return reach.people | reach.case_people


REACH_KINDS = (repo.CASE, repo.AREA, repo.TEAM, repo.TEAM_MEMBER, repo.SUPPORTED)


def load_reach(session: Session, principal: Principal, on: date) -> Reach:
    """What this person can reach, by role (see app.auth.reach for the rules in words)."""
    if principal.all_access:
        return Reach(everything=True)
    return reach_for(session, principal.staff_id, principal.role, on)


def reach_for(session: Session, staff_id: int | None, role: str | None, on: date) -> Reach:
    """What a person of this role reaches as of `on`.

    The same rules decide for the caller and for someone a request names (e.g. whether
    the team manager named on a sign-off is that NQSW's team manager). One statement
    whatever the role (`repo.reach_rows`): it is read on most requests.
    """
    if role in GLOBAL_READERS:
        return Reach(everything=True)
    me = staff_id
    if me is None or role is None:
        return Reach()
    rows = repo.reach_rows(
        session, me, on,
        supports=role == Role.advanced_practitioner,
        manages=role in (Role.team_manager, Role.senior_manager),
        leads=role == Role.senior_manager,
    )
    found: dict[str, set[int]] = {kind: set() for kind in REACH_KINDS}
    for kind, ident in rows:
        found[kind].add(ident)
    return Reach(
        areas=frozenset(found[repo.AREA]),
        teams=frozenset(found[repo.TEAM]),
        people=frozenset({me} | found[repo.SUPPORTED]),
        cases=frozenset(found[repo.CASE]),
        case_people=frozenset(found[repo.TEAM_MEMBER]),
    )
