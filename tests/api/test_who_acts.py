"""Who acts is the person signed in, and some decisions need a second person.

Two protections, tested over HTTP on both databases:

- **Nobody acts in someone else's name.** No request body names who acts or who approved
  (`actor_id`, `allocated_by_id`, `approver_id`, `approved_by_id`, `cancelled_by_id`, ...):
  a body naming someone else is refused, and the audit trail names only the people who
  really were signed in. This is how a hard cap was once overridden "by" a senior manager
  who never saw the request.
- **Separation of duties** (`policies/separation.toml`). The senior manager who overrode a
  limit may not also agree the exception on the breach that override opened, nor approve
  an individual adjustment that settles their own override; another senior manager or
  the ASYE coordinator must. The organisation may switch either off, in writing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth import sessions
from app.auth.access_table import ACTOR_FIELDS
from app.auth.csrf import token_for
from app.auth.testing import token_for_staff
from app.models import (
    Adjustment,
    Allocation,
    AuditEvent,
    Breach,
    ProtectedTime,
    Staff,
    SupervisionSession,
)
from app.policy.registry import load_policy_set
from app.repositories import account as repo
from app.schemas.common import WHO_ACTS_FIELDS
from app.settings import PROJECT_ROOT
from tests.scenarios import seed

START = date(2030, 9, 1)  # after today: a write's reconciliation stays inside these dates
EARLY = date(2030, 10, 5)  # the first 3 months: a firm cap of 5
SELF_EXCEPTION = ("you overrode this limit, so another senior manager or the ASYE "
                  "coordinator must agree the exception")


# ---- helpers ---------------------------------------------------------------------------


def audit_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def actors_of(session: Session, action: str, entity_id: object) -> list[int | None]:
    """Who is on record for each audit event of this action about this record."""
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.entity_id == str(entity_id),
    ).order_by(col(AuditEvent.id))).all()
    return [e.actor_id for e in events]


def over_the_cap(session: Session, org: seed.Org) -> tuple[Staff, Any]:
    """An NQSW at the firm cap of 5 and one more case of their team to allocate."""
    worker, _ = seed.nqsw(session, org, start=START)
    seed.load(session, worker, 5, start=START)
    case = seed.case(session, opened_on=START, team_id=org.team_id)
    session.commit()  # the starting facts survive a refused request
    return worker, case


def override(client: TestClient, worker: Staff, case: Any, reason: str) -> int:
    """Allocate past the cap as the person `client` is signed in as; the breach's id."""
    written = client.post("/api/v1/allocations", json={
        "case_id": case.id, "worker_id": worker.id, "start_date": EARLY.isoformat(),
        "override_reason": reason})
    assert written.status_code == 201, written.text
    return next(b["id"] for b in written.json()["breaches"] if b["rule_id"] == "caseload-cap")


EXCEPTION = {"reason": "Cover agreed with the service manager",
             "expires_on": "2030-12-31", "on": "2030-10-06"}
RAISED_CAP = {"policy_id": "stage-caps", "parameter": "caseload-cap.bands.0.cap", "value": 6,
              "reason": "A sixth case while cover is found", "valid_from": "2030-10-05"}


@pytest.fixture
def separation(
    app_on_test_session: FastAPI, db_session: Session, tmp_path: Path
) -> Iterator[Callable[[list[str]], None]]:
    """`separation([...])`: run the app on a copy of the shipped policies whose separation
    setting lists only these decisions (loaded by the real loader, as at start-up)."""
    state = app_on_test_session.state
    shipped = state.policies

    def use(names: list[str]) -> None:
        copy = tmp_path / f"policies-{len(names)}"
        shutil.copytree(PROJECT_ROOT / "policies", copy)
        (copy / "separation.toml").write_text(f"second_person = {json.dumps(names)}\n")
        policies = load_policy_set(copy)
        assert policies.separation.second_person == frozenset(names)
        state.policies = policies

    try:
        yield use
    finally:
        state.policies = shipped


# ---- nobody acts in someone else's name -------------------------------------------------


def test_no_request_body_can_name_who_acts(app: FastAPI) -> None:
    """Every JSON body the API takes refuses unknown fields and has no "who acts" field,
    so a route added later is covered without editing this test."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]

    def bodies(schema: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in schema:
            return [schemas[schema["$ref"].rsplit("/", 1)[-1]]]
        return [b for part in schema.get("anyOf", []) for b in bodies(part)]

    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for body in bodies(content["application/json"]["schema"]):
                where = f"{method.upper()} {path} ({body.get('title')})"
                assert body.get("additionalProperties") is False, where
                assert not set(body.get("properties", {})) & WHO_ACTS_FIELDS, where
                checked += 1
    assert checked > 30
    # The access check's list of such names is covered by the bodies' own refusal.
    assert set(ACTOR_FIELDS) <= WHO_ACTS_FIELDS


@pytest.fixture
def world(db_session: Session) -> dict[str, Any]:
    """A team with an NQSW at the cap, an open breach, a diary booking, a supervision
    session and an allocation to change: one of everything a "who acts" field touched."""
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    held = seed.case(db_session, opened_on=START, team_id=org.team_id)
    allocation = seed.allocate(db_session, org.ap, held, start=START)
    breach = seed.breach(db_session, worker, enrolment, opened_on=date(2030, 10, 1))
    entry = ProtectedTime(enrolment_id=enrolment.id, day=date(2030, 11, 6),  # type: ignore[arg-type]
                          length="full_day", hours=7.4, purpose="study")
    planned = SupervisionSession(enrolment_id=enrolment.id, day=date(2030, 11, 7),  # type: ignore[arg-type]
                                 supervisor_id=org.team_manager.id, kind="reflective")
    db_session.add_all([entry, planned])
    db_session.commit()
    return {"org": org, "worker": worker, "case": case, "allocation": allocation,
            "breach": breach, "entry": entry, "session": planned}


def forged_requests(w: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(caller, method, url, body, field): each request names someone other than the
    caller as the one who acts or approves."""
    org, worker = w["org"], w["worker"]
    senior, manager, coordinator = org.senior_manager.id, org.team_manager.id, org.coordinator.id
    allocate = {"case_id": w["case"].id, "worker_id": worker.id,
                "start_date": EARLY.isoformat(), "override_reason": "Cover"}
    nqsw = f"/api/v1/nqsws/{worker.id}"
    return [
        # The reported attack: a team manager overriding a hard cap "as" the senior manager.
        ("team_manager", "POST", "/api/v1/allocations", {**allocate, "actor_id": senior},
         "actor_id"),
        ("team_manager", "POST", "/api/v1/allocations",
         {**allocate, "allocated_by_id": senior}, "allocated_by_id"),
        ("team_manager", "PATCH", f"/api/v1/allocations/{w['allocation'].id}",
         {"worker_id": worker.id, "on": EARLY.isoformat(), "override_reason": "Cover",
          "actor_id": senior}, "actor_id"),
        ("team_manager", "POST", f"/api/v1/allocations/{w['allocation'].id}/end",
         {"on": EARLY.isoformat(), "actor_id": senior}, "actor_id"),
        ("team_manager", "POST", f"/api/v1/breaches/{w['breach'].id}/acknowledge",
         {"note": "Seen", "on": "2030-10-02", "actor_id": senior}, "actor_id"),
        # ... and recording an exception approver in someone else's name.
        ("senior_manager", "POST", f"/api/v1/breaches/{w['breach'].id}/exception",
         {**EXCEPTION, "approver_id": coordinator}, "approver_id"),
        ("senior_manager", "POST", f"{nqsw}/adjustments",
         {**RAISED_CAP, "approved_by_id": coordinator}, "approved_by_id"),
        ("team_manager", "POST", f"{nqsw}/diary/{w['entry'].id}/cancel",
         {"reason": "Duty cover", "cancelled_by_id": senior}, "cancelled_by_id"),
        ("team_manager", "POST", f"{nqsw}/supervision/{w['session'].id}/cancel",
         {"reason": "Manager in court", "cancelled_by_id": senior}, "cancelled_by_id"),
        ("senior_manager", "POST", f"/api/v1/breaches/{w['breach'].id}/acknowledge",
         {"note": "Seen", "on": "2030-10-02", "acknowledged_by_id": manager},
         "acknowledged_by_id"),
    ]


def test_naming_someone_else_as_the_actor_is_refused_and_audits_nothing(
    client_as: Callable[..., TestClient], db_session: Session, world: dict[str, Any]
) -> None:
    org = world["org"]
    callers = {"team_manager": client_as(org.team_manager),
               "senior_manager": client_as(org.senior_manager)}
    before = audit_count(db_session)
    for role, method, url, body, field in forged_requests(world):
        for content_type in ("application/json", "Application/JSON; charset=utf-8"):
            response = callers[role].request(method, url, content=json.dumps(body),
                                             headers={"Content-Type": content_type})
            what = f"{role} {method} {url} {field} ({content_type})"
            assert response.status_code in (403, 422), (what, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", field], what
    # Nothing was written, so the audit trail names nobody who did not act.
    db_session.expire_all()
    assert audit_count(db_session) == before
    assert db_session.exec(select(AuditEvent).where(
        col(AuditEvent.actor_id).in_([org.senior_manager.id, org.coordinator.id]))).all() == []
    assert db_session.get(Breach, world["breach"].id).status == "open"  # type: ignore[union-attr]
    assert db_session.get(Allocation, world["allocation"].id).end_date is None  # type: ignore[union-attr]
    assert db_session.get(ProtectedTime, world["entry"].id).status == "booked"  # type: ignore[union-attr]
    assert db_session.get(SupervisionSession, world["session"].id).cancelled is False  # type: ignore[union-attr]
    assert db_session.exec(select(Adjustment)).all() == []


def test_naming_yourself_is_refused_with_a_sentence_that_says_why(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session,
    world: dict[str, Any],
) -> None:
    org, breach = world["org"], world["breach"]
    url = f"/api/v1/breaches/{breach.id}/acknowledge"
    for caller, me in ((client_as(org.team_manager), org.team_manager.id), (client, 1)):
        response = caller.post(url, json={"note": "Seen", "on": "2030-10-02", "actor_id": me})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "actor_id"]
        assert detail["msg"].startswith("actor_id is not accepted: a change is recorded in "
                                        "the name of the person signed in")
    # Beside other mistakes in the same body, each keeps its own type and words.
    booked = client.post(f"/api/v1/nqsws/{world['worker'].id}/diary", json={
        "day": "2030-11-12", "purpose": "study", "length": "hours", "hours": 0.1,
        "booked_by_id": world["worker"].id})
    assert booked.status_code == 422, booked.text
    assert {(d["loc"][-1], d["type"]) for d in booked.json()["detail"]} == {
        ("hours", "too_few_hours"), ("booked_by_id", "extra_forbidden")}
    # Without the field, the same request is recorded in the caller's name.
    done = client_as(org.team_manager).post(url, json={"note": "Seen", "on": "2030-10-02"})
    assert done.status_code == 200, done.text
    assert done.json()["acknowledged_by_id"] == org.team_manager.id
    assert actors_of(db_session, "breach.acknowledge", breach.id) == [org.team_manager.id]


# ---- separation of duties ---------------------------------------------------------------


def test_the_senior_manager_who_overrode_may_not_agree_the_exception(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, case = over_the_cap(db_session, org)
    senior = client_as(org.senior_manager)
    breach_id = override(senior, worker, case, "Duty cover while a colleague is off sick")
    url = f"/api/v1/breaches/{breach_id}/exception"
    refused = senior.post(url, json=EXCEPTION)
    assert refused.status_code == 403, refused.text
    assert refused.json() == {"detail": [{"loc": ["body"], "msg": SELF_EXCEPTION,
                                          "type": "forbidden"}]}
    db_session.expire_all()
    breach = db_session.get(Breach, breach_id)
    assert breach is not None
    assert (breach.status, breach.exception_approver_id) == ("overridden", None)
    assert actors_of(db_session, "breach.exception", breach_id) == []
    # The ASYE coordinator is a second person: agreed, in the coordinator's name.
    agreed = client_as(org.coordinator).post(url, json=EXCEPTION)
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["status"], agreed.json()["exception_approver_id"]) == (
        "excepted", org.coordinator.id)
    assert actors_of(db_session, "breach.exception", breach_id) == [org.coordinator.id]
    assert actors_of(db_session, "allocation.override", breach.allocation_id) == [
        org.senior_manager.id]


def test_another_senior_manager_may_agree_it_and_a_later_override_does_not_wash_it_out(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, case = over_the_cap(db_session, org)
    first = org.senior_manager
    breach_id = override(client_as(first), worker, case, "Duty cover while a colleague is off sick")
    # The area passes to another senior manager (cover while the first is away), who
    # allocates one more case past the same cap: the breach now names them.
    second = seed.person(db_session, "senior_manager", name="Sol Second")
    org.area.senior_manager_id = second.id
    another = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()
    assert override(client_as(second), worker, another, "Sibling group, one worker") == breach_id
    db_session.expire_all()
    assert db_session.get(Breach, breach_id).override_by_id == second.id  # type: ignore[union-attr]
    # Back with the first senior manager: they still overrode it, so still refused.
    org.area.senior_manager_id = first.id
    db_session.add(org.area)
    db_session.commit()
    url = f"/api/v1/breaches/{breach_id}/exception"
    refused = client_as(first).post(url, json=EXCEPTION)
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["msg"] == SELF_EXCEPTION
    # A senior manager who overrode nothing here agrees it.
    third = seed.person(db_session, "senior_manager", name="Tia Third")
    org.area.senior_manager_id = third.id
    db_session.add(org.area)
    db_session.commit()
    agreed = client_as(third).post(url, json=EXCEPTION)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["exception_approver_id"] == third.id
    assert actors_of(db_session, "breach.exception", breach_id) == [third.id]


def test_approving_an_adjustment_that_settles_your_own_override_is_refused(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, case = over_the_cap(db_session, org)
    senior = client_as(org.senior_manager)
    breach_id = override(senior, worker, case, "Duty cover while a colleague is off sick")
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    refused = senior.post(url, json=RAISED_CAP, params={"on": "2030-10-05"})
    assert refused.status_code == 403, refused.text
    detail = refused.json()["detail"][0]
    assert detail["type"] == "forbidden" and detail["loc"] == ["body"]
    assert detail["msg"].startswith("you overrode this NQSW's stage-caps limit")
    assert db_session.exec(select(Adjustment)).all() == []
    # The coordinator approves it: the cap is 6 for her, and the breach resolves.
    approved = client_as(org.coordinator).post(url, json=RAISED_CAP, params={"on": "2030-10-05"})
    assert approved.status_code == 201, approved.text
    assert approved.json()["approved_by_id"] == org.coordinator.id
    assert actors_of(db_session, "adjustment.create", approved.json()["id"]) == [
        org.coordinator.id]
    db_session.expire_all()
    breach = db_session.get(Breach, breach_id)
    assert breach is not None
    assert (breach.status, breach.resolution_cause) == ("resolved", "adjustment")


def test_the_setting_switched_off_lets_the_overrider_decide(
    separation: Callable[[list[str]], None], client_as: Callable[..., TestClient],
    db_session: Session,
) -> None:
    separation([])
    org = seed.organisation(db_session)
    senior = client_as(org.senior_manager)
    worker, case = over_the_cap(db_session, org)
    breach_id = override(senior, worker, case, "Duty cover while a colleague is off sick")
    agreed = senior.post(f"/api/v1/breaches/{breach_id}/exception", json=EXCEPTION)
    assert agreed.status_code == 200, agreed.text
    assert actors_of(db_session, "breach.exception", breach_id) == [org.senior_manager.id]
    other, other_case = over_the_cap(db_session, org)
    override(senior, other, other_case, "Duty cover while a colleague is off sick")
    approved = senior.post(f"/api/v1/nqsws/{other.id}/adjustments", json=RAISED_CAP,
                           params={"on": "2030-10-05"})
    assert approved.status_code == 201, approved.text
    assert approved.json()["approved_by_id"] == org.senior_manager.id


def test_each_decision_is_switched_on_its_own(
    separation: Callable[[list[str]], None], client_as: Callable[..., TestClient],
    db_session: Session,
) -> None:
    separation(["adjustment_after_override"])
    org = seed.organisation(db_session)
    senior = client_as(org.senior_manager)
    worker, case = over_the_cap(db_session, org)
    breach_id = override(senior, worker, case, "Duty cover while a colleague is off sick")
    refused = senior.post(f"/api/v1/nqsws/{worker.id}/adjustments", json=RAISED_CAP,
                          params={"on": "2030-10-05"})
    assert refused.status_code == 403, refused.text
    agreed = senior.post(f"/api/v1/breaches/{breach_id}/exception", json=EXCEPTION)
    assert agreed.status_code == 200, agreed.text


# ---- the breach page says the same beside the form --------------------------------------


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_visitor(app: FastAPI, session: Session, staff: Staff) -> tuple[str, str]:
    """A real page session for this person: the cookie `/login` sets, and its CSRF token."""
    token_for_staff(session, staff)  # makes the account when there is none
    account = repo.account_for_staff(session, staff.id or 0)
    assert account is not None
    cookie, _ = sessions.start(session, account, app.state.settings, address="testclient",
                               user_agent="pytest")
    session.commit()
    return cookie, token_for(app.state.settings.resolved_secret_key(), cookie)


def test_the_breach_page_refuses_it_beside_the_form(
    app_on_test_session: FastAPI, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, case = over_the_cap(db_session, org)
    breach_id = override(client_as(org.senior_manager), worker, case, "Duty cover for a colleague")
    cookie, csrf = page_visitor(app_on_test_session, db_session, org.senior_manager)
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.headers["Accept"] = "text/html"
        browser.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        page = browser.get(f"/breaches/{breach_id}")
        assert page.status_code == 200
        assert 'id="separation-note"' in page.text
        assert ("You overrode this limit, so another senior manager or the ASYE coordinator "
                "must agree the exception.") in page.text
        posted = browser.post(f"/breaches/{breach_id}/exception", data={
            "csrf_token": csrf, "reason": "Agreed", "expires_on": "2030-12-31"})
        assert posted.status_code == 403
        summary = posted.text.split('class="govuk-error-summary"', 1)[1].split("</div>", 2)[0]
        assert "You overrode this limit" in summary
        assert 'href="#reason"' in summary  # the message links to the form's reason field
    db_session.expire_all()
    assert db_session.get(Breach, breach_id).status == "overridden"  # type: ignore[union-attr]
