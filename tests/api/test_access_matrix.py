"""Every API route x every role x own/other scope, against one table of expected outcomes.

The routes come from the application itself, so a route added without a row in EXPECT
(and a rule in app/auth/access_table.py) fails here. Each row lists, for the roles in
ROLES order, the outcome on the caller's own family of records (team 1: their NQSW,
case, breach, diary entry...) and on another team's in another service area (team 2), as
`own/other`, or one outcome when both are the same:

- `ok`: let through (whatever the handler then says: 2xx, 409, 422 for a dummy body);
- `403`: refused for the role or scope; `404`: refused as if the record did not exist.

Two more families are derived from the same row, so the table stays one line a route:

- a **neighbouring team in the same service area** (team 3): the senior manager, who
  leads the area, gets their `own` outcome; everyone else their `other` outcome (the team
  manager's reach stops at their own team);
- an **advanced practitioner of team 1 who does not support its NQSW** (not on the
  enrolment, not co-working their case): on team 1's records they get the advanced
  practitioner's `other` outcome.

Every route is also tried without credentials: 401, except those marked `public`. The
main lists (NQSWs, cases, breaches, allocations) are checked to return, for each role,
exactly the families within reach.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth import tokens
from app.auth.access_index import api_routes, build_index
from app.auth.access_table import ACCESS
from app.auth.testing import token_for_staff
from app.main import create_app
from app.models import (
    Account,
    Adjustment,
    Allocation,
    AuditEvent,
    Breach,
    Case,
    Enrolment,
    Notification,
    ProtectedTime,
    ServiceArea,
    SignOff,
    Staff,
    SupervisionSession,
    Team,
)
from app.settings import Settings

ROLES = (
    "nqsw",
    "advanced_practitioner",
    "social_worker",
    "team_manager",
    "senior_manager",
    "asye_coordinator",
    "admin",
)

# Shorthands for rows that recur (same role order as ROLES).
ANY = "ok ok ok ok ok ok ok"
OWN_ONLY = "ok/404 ok/404 ok/404 ok/404 ok/404 ok/404 ok/404"  # /me/... records by id
ADMIN = "403 403 403 403 403 403 ok"
READ = "ok/404 ok/404 404 ok/404 ok/404 ok 403"  # a person's records
READ_CASE = "ok/404 ok/404 ok/404 ok/404 ok/404 ok 403"  # a case the social worker works on
MANAGE = "403 403 403 ok/404 ok/404 403 403"
LIST = "ok ok ok ok ok ok 403"  # filtered to the caller's reach by the handler
PROGRAMME_EVENT = "403 403 403 ok/404 403 ok 403"
COORDINATOR_ADMIN = "403 403 403 403 403 ok ok"

EXPECT: dict[str, str] = {
    "POST /api/v1/auth/token": "public",
    "POST /api/v1/auth/revoke": ANY,
    "GET /api/v1/me": ANY,
    "GET /api/v1/me/tokens": ANY,
    "POST /api/v1/me/tokens": ANY,
    "DELETE /api/v1/me/tokens/{token_id}": OWN_ONLY,
    "GET /api/v1/accounts": ADMIN,
    "POST /api/v1/accounts": ADMIN,
    "GET /api/v1/accounts/{account_id}": ADMIN,
    "PATCH /api/v1/accounts/{account_id}": ADMIN,
    "GET /api/v1/service-areas": ANY,
    "POST /api/v1/service-areas": ADMIN,
    "GET /api/v1/service-areas/{area_id}": ANY,
    "PATCH /api/v1/service-areas/{area_id}": ADMIN,
    "POST /api/v1/service-areas/{area_id}/close": ADMIN,
    "GET /api/v1/teams": ANY,
    "POST /api/v1/teams": ADMIN,
    "GET /api/v1/teams/{team_id}": ANY,
    "PATCH /api/v1/teams/{team_id}": ADMIN,
    "POST /api/v1/teams/{team_id}/close": ADMIN,
    "GET /api/v1/policies": ANY,
    "POST /api/v1/staff": ADMIN,
    "GET /api/v1/staff": ANY,
    "GET /api/v1/staff/{staff_id}": "ok/404 ok/404 404 ok/404 ok/404 ok ok",
    "PATCH /api/v1/staff/{staff_id}": ADMIN,
    "POST /api/v1/staff/{staff_id}/leave": ADMIN,
    "POST /api/v1/nqsws": COORDINATOR_ADMIN,
    "GET /api/v1/nqsws": LIST,
    "GET /api/v1/nqsws/{staff_id}": READ,
    "PATCH /api/v1/nqsws/{staff_id}": "403 403 403 ok/404 ok/404 ok 403",
    "GET /api/v1/nqsws/{staff_id}/enrolments": READ,
    "POST /api/v1/enrolments": "403 403 403 403 403 ok 403",
    "GET /api/v1/enrolments/{enrolment_id}": READ,
    "GET /api/v1/enrolments": LIST,
    "PATCH /api/v1/enrolments/{enrolment_id}": "403 403 403 403 403 ok 403",
    "GET /api/v1/nqsws/{staff_id}/workload": READ,
    "POST /api/v1/nqsws/{staff_id}/adjustments": "403 403 403 403 ok/404 ok 403",
    "GET /api/v1/nqsws/{staff_id}/adjustments": READ,
    "GET /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}": READ,
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/end":
        "403 403 403 403 ok/404 ok 403",
    "POST /api/v1/nqsws/{staff_id}/adjustments/proposals": MANAGE,
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/approve":
        "403 403 403 ok/404 ok/404 ok 403",
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/refuse":
        "403 403 403 ok/404 ok/404 ok 403",
    "POST /api/v1/nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw": MANAGE,
    "POST /api/v1/cases": "403 403 403 ok/403 ok/403 403 403",
    "GET /api/v1/cases": LIST,
    "GET /api/v1/cases/{case_id}": READ_CASE,
    "PATCH /api/v1/cases/{case_id}": MANAGE,
    "POST /api/v1/cases/{case_id}/close": MANAGE,
    "GET /api/v1/cases/{case_id}/candidates": "403 403 403 ok/404 ok/404 ok 403",
    "POST /api/v1/allocations": "403 403 403 ok/403 ok/403 403 403",
    "POST /api/v1/allocations/check": "403 ok/403 403 ok/403 ok/403 ok 403",
    "GET /api/v1/allocations": LIST,
    "GET /api/v1/allocations/{allocation_id}": READ_CASE,
    "PATCH /api/v1/allocations/{allocation_id}": MANAGE,
    "POST /api/v1/allocations/{allocation_id}/end": MANAGE,
    # Override requests: the roles here; who reaches which request, and who decides it, is
    # the service's (tests/api/test_override_requests.py). The id names no request.
    "POST /api/v1/override-requests": "403 403 403 ok/403 ok/403 403 403",
    "GET /api/v1/override-requests": "403 403 403 ok ok ok 403",
    "GET /api/v1/override-requests/{request_id}": "403 403 403 404 404 404 403",
    "POST /api/v1/override-requests/{request_id}/approve": "403 403 403 ok ok ok 403",
    "POST /api/v1/override-requests/{request_id}/refuse": "403 403 403 ok ok ok 403",
    "POST /api/v1/override-requests/{request_id}/withdraw": "403 403 403 404 404 403 403",
    "GET /api/v1/breaches": LIST,
    "GET /api/v1/breaches.csv": LIST,
    "GET /api/v1/breaches/summary": LIST,
    "GET /api/v1/breaches/trend": LIST,
    "POST /api/v1/breaches/sweep": COORDINATOR_ADMIN,
    "GET /api/v1/breaches/{breach_id}": READ,
    "POST /api/v1/breaches/{breach_id}/acknowledge": MANAGE,
    "POST /api/v1/breaches/{breach_id}/exception": "403 403 403 403 ok/404 ok 403",
    **{f"GET /api/v1/exports/{report}.{fmt}": "403 403 403 ok ok ok 403"
       for report in ("breaches", "workload", "compliance") for fmt in ("csv", "xlsx")},
    "POST /api/v1/imports": "403 403 403 ok 403 ok 403",
    "GET /api/v1/imports": "403 403 403 ok 403 ok 403",
    "GET /api/v1/imports/{run_id}": "403 403 403 404 403 404 403",
    "POST /api/v1/imports/{run_id}/apply": "403 403 403 404 403 404 403",
    "GET /api/v1/nqsws/{staff_id}/diary": READ,
    "GET /api/v1/nqsws/{staff_id}/diary/summary": READ,
    "GET /api/v1/nqsws/{staff_id}/diary/entitlement": READ,
    "POST /api/v1/nqsws/{staff_id}/diary": "ok/404 403 403 ok/404 403 403 403",
    "GET /api/v1/nqsws/{staff_id}/diary/{entry_id}": READ,
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/move": "ok/404 403 403 ok/404 403 403 403",
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/taken": "ok/404 403 403 ok/404 403 403 403",
    "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/cancel": "403 403 403 ok/404 403 403 403",
    "GET /api/v1/nqsws/{staff_id}/supervision": READ,
    "POST /api/v1/nqsws/{staff_id}/supervision": "403 ok/404 403 ok/404 403 403 403",
    "POST /api/v1/nqsws/{staff_id}/supervision/{session_id}/cancel":
        "403 ok/404 403 ok/404 403 403 403",
    "GET /api/v1/nqsws/{staff_id}/reviews": READ,
    "POST /api/v1/nqsws/{staff_id}/reviews": PROGRAMME_EVENT,
    "GET /api/v1/nqsws/{staff_id}/programme": READ,
    "POST /api/v1/nqsws/{staff_id}/pause": PROGRAMME_EVENT,
    "POST /api/v1/nqsws/{staff_id}/resume": PROGRAMME_EVENT,
    "POST /api/v1/nqsws/{staff_id}/withdraw": PROGRAMME_EVENT,
    "POST /api/v1/nqsws/{staff_id}/complete": PROGRAMME_EVENT,
    "POST /api/v1/nqsws/{staff_id}/sign-offs": MANAGE,
    "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/approve": MANAGE,
    "POST /api/v1/nqsws/{staff_id}/sign-offs/{sign_off_id}/revoke": MANAGE,
    "POST /api/v1/nqsws/{staff_id}/calendar-token": "ok/404 403 403 403 403 403 403",
    "GET /api/v1/audit": COORDINATOR_ADMIN,
    "GET /api/v1/audit/{event_id}": COORDINATOR_ADMIN,
    "GET /api/v1/me/notifications": ANY,
    "POST /api/v1/me/notifications/read-all": ANY,
    "POST /api/v1/me/notifications/{notification_id}/read": OWN_ONLY,
    "GET /api/v1/me/notification-preferences": ANY,
    "PUT /api/v1/me/notification-preferences": ANY,
}

# Bodies for routes whose access depends on what the body names (values are family keys:
# the family's records and people, see `_body_values`).
BODIES: dict[str, dict[str, str]] = {
    "POST /api/v1/allocations": {"case_id": "case", "worker_id": "nqsw"},
    "POST /api/v1/allocations/check": {"case_id": "case", "worker_id": "nqsw"},
    "POST /api/v1/override-requests": {"case_id": "case", "worker_id": "nqsw"},
    "POST /api/v1/enrolments": {"staff_id": "nqsw", "assessor_id": "team_manager",
                                "advanced_practitioner_id": "advanced_practitioner"},
    "POST /api/v1/nqsws": {"assessor_id": "team_manager",
                           "advanced_practitioner_id": "advanced_practitioner"},
    "PATCH /api/v1/nqsws/{staff_id}": {"assessor_id": "team_manager",
                                       "advanced_practitioner_id": "advanced_practitioner"},
    "PATCH /api/v1/enrolments/{enrolment_id}": {
        "assessor_id": "team_manager", "advanced_practitioner_id": "advanced_practitioner"},
    "POST /api/v1/cases": {"team_id": "team"},
    "PATCH /api/v1/cases/{case_id}": {"team_id": "team"},
    "PATCH /api/v1/allocations/{allocation_id}": {"worker_id": "nqsw"},
    "POST /api/v1/nqsws/{staff_id}/supervision": {"supervisor_id": "team_manager"},
    "POST /api/v1/nqsws/{staff_id}/sign-offs": {"team_manager_id": "team_manager",
                                                "senior_manager_id": "senior_manager"},
}
START = date(2026, 1, 5)
BYSTANDER = "bystander advanced practitioner"


def _application_route_keys() -> list[str]:
    logging.getLogger("ringfence.auth").disabled = True
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'routes.db'}", data_dir=Path(tmp),
            scheduler_enabled=False,
        )
        app = create_app(settings)
        keys = [key for key, _route in api_routes(app)]
        app.state.engine.dispose()
    logging.getLogger("ringfence.auth").disabled = False
    return keys


APP_KEYS = _application_route_keys()


# ---- a small organisation: two of everything, one family each -----------------------


@dataclass
class Family:
    area: int
    team: int
    nqsw: int
    enrolment: int
    case: int
    allocation: int
    breach: int
    adjustment: int
    entry: int
    supervision: int
    account: int
    sign_off: int
    people: dict[str, Staff] = field(default_factory=dict)


@dataclass
class World:
    own: Family
    other: Family
    coordinator: Staff
    admin: Staff
    event: int
    # A neighbouring team of the own family's service area, and an AP of the own team
    # who supports nobody in it.
    neighbour: Family | None = None
    bystander: Staff | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    personal_tokens: dict[str, int] = field(default_factory=dict)  # role -> own PAT id
    notifications: dict[str, int] = field(default_factory=dict)  # role -> own notification

    def principal(self, role: str) -> Staff:
        if role == "asye_coordinator":
            return self.coordinator
        if role == "admin":
            return self.admin
        return self.own.people[role]


def _staff(session: Session, role: str, tag: str, team: int | None) -> Staff:
    staff = Staff(name=f"{role} {tag}", email=f"{role}.{tag}@matrix.invalid", role=role,
                  team_id=team, start_date=date(2020, 1, 1))
    session.add(staff)
    session.flush()
    return staff


def _family(session: Session, tag: str, *, within: Family | None = None) -> Family:
    """A team with its people and one of each record; `within`: a neighbouring team in
    that family's service area (led by the same senior manager)."""
    if within is None:
        area = ServiceArea(name=f"Area {tag}")
        session.add(area)
        session.flush()
    else:
        found = session.get(ServiceArea, within.area)
        assert found is not None
        area = found
    team = Team(name=f"Team {tag}", service_area_id=area.id)
    session.add(team)
    session.flush()
    people = {
        role: _staff(session, role, tag, team.id)
        for role in ("nqsw", "advanced_practitioner", "social_worker", "team_manager")
    }
    people["senior_manager"] = (within.people["senior_manager"] if within is not None
                                else _staff(session, "senior_manager", tag, None))
    team.manager_id = people["team_manager"].id
    area.senior_manager_id = people["senior_manager"].id
    nqsw, ap = people["nqsw"], people["advanced_practitioner"]
    enrolment = Enrolment(staff_id=nqsw.id, programme="asye", start_date=START,
                          assessor_id=people["team_manager"].id, advanced_practitioner_id=ap.id)
    case = Case(reference=f"MX-{tag}", category="child_in_need", complexity=2, team_id=team.id,
                opened_on=START)
    session.add_all([enrolment, case])
    session.flush()
    allocation = Allocation(case_id=case.id, worker_id=nqsw.id, role="co_worker",
                            start_date=START)
    session.add_all([
        allocation,
        Allocation(case_id=case.id, worker_id=ap.id, role="holder", start_date=START),
        Allocation(case_id=case.id, worker_id=people["social_worker"].id, role="co_worker",
                   start_date=START),
    ])
    breach = Breach(staff_id=nqsw.id, enrolment_id=enrolment.id, policy_id="stage-caps",
                    rule_id="cap", kind="stage_cap", level="warn", severity="normal",
                    opened_on=START, last_seen_on=START)
    adjustment = Adjustment(enrolment_id=enrolment.id, policy_id="stage-caps",
                            parameter="stages.0.max_cases", value=6, reason="agreed",
                            approved_by_id=people["team_manager"].id, valid_from=START)
    entry = ProtectedTime(enrolment_id=enrolment.id, day=date(2026, 12, 2), length="full_day",
                          hours=7.4, purpose="study")
    supervision = SupervisionSession(enrolment_id=enrolment.id, day=START,
                                     supervisor_id=people["team_manager"].id, kind="reflective")
    account = Account(email=f"account.{tag}@matrix.invalid", staff_id=nqsw.id)
    # Awaiting both managers' approval, so that either one's approval is a real one here:
    # approving a sign-off one recorded oneself is refused on its merits (403), which is
    # the service's rule, tested in test_programme_events, not this table's.
    sign_off = SignOff(enrolment_id=enrolment.id, kind="child_protection", signed_on=START,
                       team_manager_id=people["team_manager"].id,
                       senior_manager_id=people["senior_manager"].id)
    session.add_all([breach, adjustment, entry, supervision, account, sign_off])
    session.flush()
    ids = [area.id, team.id, nqsw.id, enrolment.id, case.id, allocation.id, breach.id,
           adjustment.id, entry.id, supervision.id, account.id, sign_off.id]
    assert all(i is not None for i in ids)
    return Family(*ids, people=people)  # type: ignore[arg-type]


def build_world(session: Session) -> World:
    own, other = _family(session, "1"), _family(session, "2")
    neighbour = _family(session, "3", within=own)
    event = AuditEvent(action="account.matrix_seed", entity="account")  # in both readers' remit
    session.add(event)
    session.flush()
    world = World(own=own, other=other, coordinator=_staff(session, "asye_coordinator", "0", None),
                  admin=_staff(session, "admin", "0", None), event=event.id or 0,
                  neighbour=neighbour,
                  bystander=_staff(session, "advanced_practitioner", "1b", own.team))
    owners = {role: world.principal(role) for role in ROLES}
    owners["other"] = other.people["nqsw"]
    for role, staff in owners.items():
        if role != "other":
            world.tokens[role] = token_for_staff(session, staff)
        account = session.get(Account, _account_id(session, staff))
        assert account is not None
        _secret, pat = tokens.create_personal_token(
            session, account, name="matrix", scopes=("read",), expires_in_days=1, actor_id=None
        )
        note = Notification(recipient_id=staff.id, kind="matrix", subject="s", body_text="b")
        session.add(note)
        session.flush()
        world.personal_tokens[role] = pat.id or 0
        world.notifications[role] = note.id or 0
    world.tokens[BYSTANDER] = token_for_staff(session, world.bystander)
    session.commit()  # a savepoint: a failing request cannot undo the world
    return world


def _account_id(session: Session, staff: Staff) -> int:
    from app.repositories import account as repo

    account = repo.account_for_staff(session, staff.id or 0)
    if account is None:
        account = Account(email=f"{staff.email}.account", staff_id=staff.id)
        session.add(account)
        session.flush()
    return account.id or 0


# ---- the test --------------------------------------------------------------------------


def _outcomes(row: str) -> dict[str, tuple[str, str]]:
    cells = row.split()
    assert len(cells) == len(ROLES), f"{row!r} needs {len(ROLES)} cells"
    pairs = {}
    for role, cell in zip(ROLES, cells, strict=True):
        own, _, other = cell.partition("/")
        pairs[role] = (own, other or own)
    return pairs


def _classify(status: int) -> str:
    if status in (401, 403, 404):
        return str(status)
    assert status < 500, f"server error {status}"
    return "ok"


def _ids(world: World, family: Family, role: str) -> dict[str, int]:
    mine = family is world.own
    return {
        "area_id": family.area,
        "team_id": family.team,
        "staff_id": family.nqsw,
        "enrolment_id": family.enrolment,
        "case_id": family.case,
        "allocation_id": family.allocation,
        "breach_id": family.breach,
        "adjustment_id": family.adjustment,
        "entry_id": family.entry,
        "session_id": family.supervision,
        "sign_off_id": family.sign_off,
        "account_id": family.account,
        "event_id": world.event,
        "token_id": world.personal_tokens[role if mine else "other"],
        "notification_id": world.notifications[role if mine else "other"],
        "request_id": 999_999,  # no such override request: the roles' answers only
        "run_id": 999_999,  # no such import run: the roles' answers only
    }


def _body_values(family: Family) -> dict[str, int]:
    people = {role: staff.id or 0 for role, staff in family.people.items()}
    return {"case": family.case, "nqsw": family.nqsw, "team": family.team, **people}


def _request(client: TestClient, key: str, world: World, family: Family, role: str,
             token: str | None) -> int:
    method, template = key.split(" ", 1)
    url = template.format(**_ids(world, family, role))
    values = _body_values(family)
    body: dict[str, Any] = {k: values[v] for k, v in BODIES.get(key, {}).items()}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method in ("GET", "DELETE"):
        response = client.request(method, url, headers=headers)
    else:
        response = client.request(method, url, json=body, headers=headers)
    return response.status_code


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session) as test_client:
        yield test_client


# Who reaches the neighbouring team of the same service area as their own: the senior
# manager who leads the area (and those who reach everything anyway).
SAME_AREA_AS_OWN = {"senior_manager", "asye_coordinator", "admin"}


@pytest.mark.parametrize("key", sorted(set(APP_KEYS) | set(EXPECT)))
def test_route_access(key: str, anonymous: TestClient, db_session: Session) -> None:
    assert key in APP_KEYS, f"{key} is in the expected table but the application has no such route"
    assert key in EXPECT, f"{key} has no row in EXPECT: add one (and its rule in access_table)"
    assert key in ACCESS, f"{key} has no rule in app/auth/access_table.py"
    world = build_world(db_session)
    row = EXPECT[key]
    anonymous_status = _request(anonymous, key, world, world.own, "nqsw", None)
    if row == "public":
        assert anonymous_status != 401
        return
    assert anonymous_status == 401, f"{key} without credentials answered {anonymous_status}"
    scoped = "{" in key or key in BODIES
    expected = _outcomes(row)
    if not scoped:
        expected = {role: (own, own) for role, (own, _other) in expected.items()}
    got: dict[str, tuple[str, str]] = {}
    for role in ROLES:
        token = world.tokens[role]
        own = _classify(_request(anonymous, key, world, world.own, role, token))
        other = own
        if scoped:
            other = _classify(_request(anonymous, key, world, world.other, role, token))
        got[role] = (own, other)
    assert got == expected, _explain(key, expected, got)
    if not scoped:
        return
    _check_derived_families(anonymous, key, world, expected)


def _check_derived_families(
    client: TestClient, key: str, world: World, expected: dict[str, tuple[str, str]]
) -> None:
    """The neighbouring team of the same area, and the AP who supports nobody in team 1."""
    bystander = _classify(_request(client, key, world, world.own, "advanced_practitioner",
                                   world.tokens[BYSTANDER]))
    assert bystander == expected["advanced_practitioner"][1], (
        f"{key}: an AP of the same team who does not support its NQSW got {bystander}"
    )
    if "/api/v1/me/" in key:
        return  # the caller's own records: whose team they are in does not matter
    assert world.neighbour is not None
    neighbour_expected = {
        role: expected[role][0 if role in SAME_AREA_AS_OWN else 1] for role in ROLES
    }
    neighbour_got = {
        role: _classify(_request(client, key, world, world.neighbour, role,
                                 world.tokens[role]))
        for role in ROLES
    }
    assert neighbour_got == neighbour_expected, (
        f"{key}, a neighbouring team of the same service area: expected {neighbour_expected}"
        f", got {neighbour_got}"
    )


def _explain(key: str, expected: dict[str, tuple[str, str]],
             got: dict[str, tuple[str, str]]) -> str:
    lines = [f"{key}: role: expected own/other -> got own/other"]
    for role in ROLES:
        mark = "  " if expected[role] == got[role] else "!!"
        lines.append(f"{mark} {role}: {'/'.join(expected[role])} -> {'/'.join(got[role])}")
    return "\n".join(lines)


def test_every_route_has_exactly_one_rule() -> None:
    """The access table and the application agree: nothing missing, nothing stale."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'routes.db'}", data_dir=Path(tmp),
            scheduler_enabled=False,
        )
        app = create_app(settings)
        index = build_index(app)
        app.state.engine.dispose()
    assert index.missing == []
    assert index.stale == []
    assert sorted(EXPECT) == sorted(ACCESS)


# ---- lists return exactly what is within reach -----------------------------------------

# The main lists, and how to read a row's family marker from what they return.
LISTS = {
    "/api/v1/nqsws": "nqsw",
    "/api/v1/cases": "case",
    "/api/v1/breaches": "breach",
    "/api/v1/allocations": "allocation",
}
# Which families each role's lists show ("own" team 1, "neighbour" team 3 in the same
# area, "other" team 2 elsewhere); an AP of team 1 who supports nobody sees none.
VISIBLE = {
    "nqsw": {"own"},
    "advanced_practitioner": {"own"},
    "social_worker": {"own"},
    "team_manager": {"own"},
    "senior_manager": {"own", "neighbour"},
    "asye_coordinator": {"own", "neighbour", "other"},
    BYSTANDER: set(),
}
# A social worker reaches no NQSW (breaches are about NQSWs), though they see their case.
NOT_LISTED = {("social_worker", "/api/v1/nqsws"), ("social_worker", "/api/v1/breaches")}


def _family_ids(world: World, kind: str) -> dict[int, str]:
    assert world.neighbour is not None
    families = {"own": world.own, "neighbour": world.neighbour, "other": world.other}
    return {getattr(family, kind): name for name, family in families.items()}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_lists_show_only_records_within_reach(
    path: str, anonymous: TestClient, db_session: Session
) -> None:
    world = build_world(db_session)
    kind = LISTS[path]
    families = _family_ids(world, kind)
    for role, visible in VISIBLE.items():
        response = anonymous.get(path, params={"limit": 500},
                                 headers={"Authorization": f"Bearer {world.tokens[role]}"})
        assert response.status_code == 200, (role, path, response.text)
        rows = response.json()["data"]
        if kind == "allocation":
            # Every allocation on a family's case belongs to that family.
            cases = _family_ids(world, "case")
            seen = {cases[row["case_id"]] for row in rows if row["case_id"] in cases}
            strangers = [row for row in rows if row["case_id"] not in cases]
        else:
            seen = {families[row["id"]] for row in rows if row["id"] in families}
            strangers = [row for row in rows if row["id"] not in families]
        wanted = set() if (role, path) in NOT_LISTED else visible
        assert seen == wanted, f"{role} listing {path}: saw {sorted(seen)}, wanted {sorted(wanted)}"
        assert strangers == [], f"{role} listing {path} saw rows from no family: {strangers}"
        assert response.json()["count"] == len(rows), (role, path)


# ---- body fields: unknown records are 404, out-of-reach ones 403 ----------------------


def test_a_body_naming_no_record_is_404_and_one_out_of_reach_403(
    anonymous: TestClient, db_session: Session
) -> None:
    world = build_world(db_session)
    manager = {"Authorization": f"Bearer {world.tokens['team_manager']}"}
    body = {"case_id": 9_999_999, "worker_id": world.own.nqsw, "role": "holder",
            "start_date": "2026-02-02"}
    missing = anonymous.post("/api/v1/allocations", json=body, headers=manager)
    assert missing.status_code == 404
    assert missing.json() == {"detail": [{"loc": ["body", "case_id"],
                                          "msg": "case 9999999 not found",
                                          "type": "not_found"}]}
    elsewhere = anonymous.post("/api/v1/allocations", headers=manager,
                               json={**body, "case_id": world.other.case})
    assert elsewhere.status_code == 403
    assert elsewhere.json()["detail"][0]["loc"] == ["body", "case_id"]
    zero = anonymous.post("/api/v1/allocations", headers=manager, json={**body, "case_id": 0})
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["body", "case_id"]
    # A record in the path that is out of reach looks exactly like one that does not exist.
    hidden = anonymous.get(f"/api/v1/nqsws/{world.other.nqsw}", headers=manager)
    absent = anonymous.get("/api/v1/nqsws/9999999", headers=manager)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"][0]["loc"] == absent.json()["detail"][0]["loc"] == [
        "path", "staff_id"]
    assert hidden.json()["detail"][0]["msg"] == f"staff member {world.other.nqsw} not found"


def test_a_team_manager_names_colleagues_of_their_area_not_strangers(
    anonymous: TestClient, db_session: Session
) -> None:
    """Supervisors, assessors and APs named in a change must work in the caller's area."""
    world = build_world(db_session)
    assert world.neighbour is not None
    manager = {"Authorization": f"Bearer {world.tokens['team_manager']}"}
    nqsw = f"/api/v1/nqsws/{world.own.nqsw}"
    stranger = world.other.people["advanced_practitioner"].id
    colleague = world.neighbour.people["advanced_practitioner"].id
    refused = anonymous.patch(nqsw, json={"advanced_practitioner_id": stranger}, headers=manager)
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["loc"] == ["body", "advanced_practitioner_id"]
    assessor = anonymous.patch(nqsw, json={"assessor_id": world.other.people["team_manager"].id},
                               headers=manager)
    assert assessor.status_code == 403
    assert anonymous.patch(nqsw, json={"advanced_practitioner_id": colleague},
                           headers=manager).status_code < 400
    supervisor = anonymous.post(f"{nqsw}/supervision", headers=manager, json={
        "day": "2026-02-02", "supervisor_id": world.other.people["team_manager"].id})
    assert supervisor.status_code == 403
    assert supervisor.json()["detail"][0]["loc"] == ["body", "supervisor_id"]


def test_an_ap_loses_access_when_the_programme_they_supported_ends(
    anonymous: TestClient, db_session: Session
) -> None:
    """Only a running (active or paused) enrolment gives its AP access to the NQSW."""
    world = build_world(db_session)
    ap = {"Authorization": f"Bearer {world.tokens['advanced_practitioner']}"}
    nqsw = f"/api/v1/nqsws/{world.own.nqsw}"
    # End the AP's own co-working of the NQSW's case, so only the enrolment links them.
    for allocation in db_session.exec(select(Allocation).where(
            Allocation.case_id == world.own.case)).all():
        if allocation.worker_id == world.own.people["advanced_practitioner"].id:
            db_session.delete(allocation)
    db_session.commit()
    assert anonymous.get(nqsw, headers=ap).status_code == 200
    enrolment = db_session.get(Enrolment, world.own.enrolment)
    assert enrolment is not None
    enrolment.status = "paused"
    db_session.commit()
    assert anonymous.get(nqsw, headers=ap).status_code == 200
    enrolment.status = "completed"
    enrolment.ended_on = date(2026, 12, 31)
    db_session.commit()
    assert anonymous.get(nqsw, headers=ap).status_code == 404
    assert anonymous.get(f"{nqsw}/diary", headers=ap).status_code == 404
