"""Asking for an override and deciding on it, over HTTP, on both databases.

A team manager blocked by a firm limit asks; the senior manager of the NQSW's service
area is told, approves or refuses with their own reason, and an approval makes the
allocation through the ordinary path as the senior manager's override. The programme
runs in 2030-31, after today, as in test_allocations, so nothing is reconciled up to
today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.clock import today
from app.db import make_engine, write_bind
from app.jobs import outbox as delivery
from app.jobs.sweep import run_sweep
from app.models import Allocation, Breach, Case, Notification, Staff
from app.models.override import OverrideRequest
from app.policy.registry import load_policy_set
from app.services import override_requests
from app.services.working_days import add_working_days
from app.settings import PROJECT_ROOT, Settings
from tests.api.test_outbox import RecordingHandler, SmtpServer, later
from tests.conftest import make_settings
from tests.scenarios import seed
from tests.support.live_server import free_port

START = date(2030, 9, 1)
EARLY = date(2030, 10, 5)  # inside the first 3 months: a cap of 5 cases, firm
ASKING = "Sibling group: the brother's case is already hers and they must stay together"
APPROVING = "Agreed at the service meeting: cover ends when the vacancy is filled"
PLAIN_WORDS_ONLY = ("caseload-cap", "stage-caps", "senior_manager", "team_manager")


@dataclass
class Blocked:
    org: seed.Org
    worker: Staff
    case: Case
    held: list[Case]


def blocked(session: Session) -> Blocked:
    """An NQSW at the cap of 5 in their first months, and a sixth case of their team."""
    org = seed.organisation(session)
    worker, _ = seed.nqsw(session, org, start=START)
    held = seed.load(session, worker, 5, start=START)
    case = seed.case(session, opened_on=START, team_id=org.team_id)
    session.commit()  # the starting facts survive a refused request
    return Blocked(org, worker, case, held)


def ask(client: TestClient, b: Blocked, reason: str = ASKING, **extra: object) -> Any:
    body = {"case_id": b.case.id, "worker_id": b.worker.id, "role": "holder",
            "starts_on": EARLY.isoformat(), "reason": reason, **extra}
    return client.post("/api/v1/override-requests", json=body)


def notes(session: Session, recipient: Staff, kind: str) -> list[Notification]:
    return list(session.exec(select(Notification).where(
        Notification.recipient_id == recipient.id, Notification.kind == kind)).all())


def test_asked_told_approved_and_allocated_as_the_approvers_override(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    manager, senior = client_as(b.org.team_manager), client_as(b.org.senior_manager)
    response = ask(manager, b)
    assert response.status_code == 201, response.text
    asked = response.json()
    assert asked["status"] == "pending" and asked["requested_by_id"] == b.org.team_manager.id
    assert asked["decided_by_roles"] == ["senior_manager"]
    assert asked["expires_on"] == add_working_days(today(), 5).isoformat()
    # The senior manager of the NQSW's area is told, in words, not codes.
    (told,) = notes(db_session, b.org.senior_manager, "override_request.asked")
    assert b.worker.name in told.body_text and ASKING in told.body_text
    assert f"/override-requests/{asked['id']}" in told.body_text
    assert not any(code in told.body_text for code in PLAIN_WORDS_ONLY)
    listed = senior.get("/api/v1/override-requests").json()
    assert [r["id"] for r in listed["data"]] == [asked["id"]] and listed["count"] == 1

    response = senior.post(f"/api/v1/override-requests/{asked['id']}/approve",
                           json={"reason": APPROVING})
    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["status"] == "approved"
    assert approved["decided_by_id"] == b.org.senior_manager.id
    allocation = db_session.get(Allocation, approved["allocation_id"])
    assert allocation is not None and allocation.allocated_by_id == b.org.senior_manager.id
    assert (allocation.case_id, allocation.worker_id, allocation.start_date) == (
        b.case.id, b.worker.id, EARLY)
    breach = db_session.exec(select(Breach).where(
        Breach.staff_id == b.worker.id, Breach.rule_id == "caseload-cap")).one()
    assert (breach.status, breach.override_by_id, breach.override_reason) == (
        "overridden", b.org.senior_manager.id, APPROVING)
    (decision,) = notes(db_session, b.org.team_manager, "override_request.approved")
    assert APPROVING in decision.body_text and b.org.senior_manager.name in decision.body_text
    # Decided once.
    again = senior.post(f"/api/v1/override-requests/{asked['id']}/approve",
                        json={"reason": APPROVING})
    assert again.status_code == 409


def test_the_approver_overrode_so_a_second_person_agrees_any_exception(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    asked = ask(client_as(b.org.team_manager), b).json()
    senior = client_as(b.org.senior_manager)
    senior.post(f"/api/v1/override-requests/{asked['id']}/approve", json={"reason": APPROVING})
    breach = db_session.exec(select(Breach).where(
        Breach.staff_id == b.worker.id, Breach.rule_id == "caseload-cap")).one()
    exception = {"reason": "Cover agreed for the term",
                 "expires_on": (EARLY + timedelta(days=30)).isoformat(),
                 "on": EARLY.isoformat()}
    own = senior.post(f"/api/v1/breaches/{breach.id}/exception", json=exception)
    assert own.status_code == 403, own.text
    other = client_as(b.org.coordinator).post(f"/api/v1/breaches/{breach.id}/exception",
                                              json=exception)
    assert other.status_code == 200, other.text


def test_refused_with_a_reason_the_requester_reads_and_nothing_allocated(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    asked = ask(client_as(b.org.team_manager), b).json()
    senior = client_as(b.org.senior_manager)
    empty = senior.post(f"/api/v1/override-requests/{asked['id']}/refuse", json={"reason": ""})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "reason"]
    response = senior.post(f"/api/v1/override-requests/{asked['id']}/refuse",
                           json={"reason": "Allocate it to Ada: she has room"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "refused"
    assert response.json()["allocation_id"] is None
    (told,) = notes(db_session, b.org.team_manager, "override_request.refused")
    assert "Allocate it to Ada: she has room" in told.body_text
    assert len(db_session.exec(select(Allocation).where(
        Allocation.worker_id == b.worker.id)).all()) == 5


def test_only_a_role_that_may_override_decides_and_only_the_requester_withdraws(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    manager = client_as(b.org.team_manager)
    asked = ask(manager, b).json()
    own = manager.post(f"/api/v1/override-requests/{asked['id']}/approve",
                       json={"reason": APPROVING})
    assert own.status_code == 403, own.text
    senior = client_as(b.org.senior_manager)
    assert senior.post(f"/api/v1/override-requests/{asked['id']}/withdraw").status_code == 403
    response = manager.post(f"/api/v1/override-requests/{asked['id']}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    late = senior.post(f"/api/v1/override-requests/{asked['id']}/approve",
                       json={"reason": APPROVING})
    assert late.status_code == 409


def test_another_areas_senior_manager_does_not_see_the_request(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    asked = ask(client_as(b.org.team_manager), b).json()
    stranger = client_as(seed.organisation(db_session).senior_manager)
    assert stranger.get(f"/api/v1/override-requests/{asked['id']}").status_code == 404
    assert stranger.post(f"/api/v1/override-requests/{asked['id']}/approve",
                         json={"reason": APPROVING}).status_code == 404
    assert stranger.get("/api/v1/override-requests").json()["count"] == 0


def test_a_pending_request_lapses_after_its_last_day(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    asked = ask(client_as(b.org.team_manager), b).json()
    last_day = date.fromisoformat(asked["expires_on"])
    assert override_requests.expire_due(db_session, last_day) == 0
    assert override_requests.expire_due(db_session, last_day + timedelta(days=1)) == 1
    row = db_session.get(OverrideRequest, asked["id"])
    assert row is not None and row.status == "expired"
    assert len(notes(db_session, b.org.team_manager, "override_request.expired")) == 1
    assert override_requests.expire_due(db_session, last_day + timedelta(days=2)) == 0


def test_the_daily_sweep_lapses_requests_nobody_decided(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            b = blocked(session)
            row = OverrideRequest(case_id=b.case.id, worker_id=b.worker.id, role="holder",
                                  starts_on=EARLY, requested_by_id=b.org.team_manager.id,
                                  reason=ASKING, expires_on=EARLY)
            session.add(row)
            session.commit()
            row_id = row.id
        policies = load_policy_set(PROJECT_ROOT / "policies")
        run_sweep(engine, as_of=EARLY, policies=policies)
        with Session(engine) as session:
            assert session.get(OverrideRequest, row_id).status == "pending"  # type: ignore[union-attr]
        run_sweep(engine, as_of=EARLY + timedelta(days=1), policies=policies)
        with Session(engine) as session:
            assert session.get(OverrideRequest, row_id).status == "expired"  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_reasons_shorter_than_the_policy_asks_are_422_on_the_reason(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    manager = client_as(b.org.team_manager)
    short = ask(manager, b, reason="ok")
    assert short.status_code == 422
    (detail,) = short.json()["detail"]
    assert detail["loc"] == ["body", "reason"] and "at least 20 characters" in detail["msg"]
    asked = ask(manager, b).json()
    response = client_as(b.org.senior_manager).post(
        f"/api/v1/override-requests/{asked['id']}/approve", json={"reason": "fine"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]
    row = db_session.get(OverrideRequest, asked["id"])
    assert row is not None and row.status == "pending"


def test_only_an_allocation_a_limit_refuses_can_be_asked_for(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    # The senior manager may override it: they allocate with their reason instead.
    themselves = ask(client_as(b.org.senior_manager), b)
    assert themselves.status_code == 409 and "yourself" in themselves.text
    # Within the cap there is nothing to ask for.
    b.held[0].closed_on = START
    db_session.commit()
    response = ask(client_as(b.org.team_manager), b)
    assert response.status_code == 409, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "case_id"]
    assert db_session.exec(select(OverrideRequest)).all() == []


def test_approval_checks_again_what_changed_since_the_request(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    manager, senior = client_as(b.org.team_manager), client_as(b.org.senior_manager)
    first = ask(manager, b).json()
    # Someone else became the case's holder: nobody may override that.
    other, _ = seed.nqsw(db_session, b.org, start=START)
    seed.allocate(db_session, other, b.case, start=START)
    db_session.commit()
    refused = senior.post(f"/api/v1/override-requests/{first['id']}/approve",
                          json={"reason": APPROVING})
    assert refused.status_code == 409 and "holder" in refused.text
    assert db_session.get(OverrideRequest, first["id"]).status == "pending"  # type: ignore[union-attr]

    # A case closed meanwhile makes room: approving allocates without an override.
    b2 = blocked(db_session)
    second = ask(client_as(b2.org.team_manager), b2).json()
    b2.held[0].closed_on = START
    db_session.commit()
    response = client_as(b2.org.senior_manager).post(
        f"/api/v1/override-requests/{second['id']}/approve", json={"reason": APPROVING})
    assert response.status_code == 200, response.text
    assert response.json()["allocation_id"] is not None
    assert db_session.exec(select(Breach).where(
        Breach.staff_id == b2.worker.id, col(Breach.override_by_id).is_not(None))).all() == []


# --- the senior manager's email, through a real SMTP server ---------------------------------


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mail_settings(fresh_database_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return make_settings(
        fresh_database_url, tmp_path, smtp_enabled=True, smtp_host="127.0.0.1",
        smtp_port=smtp_port, smtp_sender="ringfence@council.example",
    )


@pytest.fixture
def mail_engine(mail_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(mail_settings.effective_database_url)
    yield engine
    engine.dispose()


def test_the_senior_manager_gets_an_email_asking_for_a_decision(
    mail_engine: Engine, mail_settings: Settings, smtp_port: int
) -> None:
    policies = load_policy_set(PROJECT_ROOT / "policies")
    with Session(write_bind(mail_engine)) as session:
        b = blocked(session)
        row = override_requests.create_request(
            session, policies=policies, case_id=b.case.id or 0, worker_id=b.worker.id or 0,
            role="holder", starts_on=EARLY, reason=ASKING,
            requester_id=b.org.team_manager.id)
        session.commit()
        senior_email, nqsw_name = b.org.senior_manager.email, b.worker.name
        request_id, manager_name = row.id, b.org.team_manager.name
    with SmtpServer(RecordingHandler(), smtp_port) as smtp:
        counts = delivery.deliver_due(mail_engine, mail_settings, later())
    assert counts.sent == 1
    (got,) = smtp.received
    assert got.rcpt_tos == [senior_email]
    assert got.message["Subject"].startswith("Override asked for: case")
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    assert manager_name in text and nqsw_name in text and ASKING in text
    assert f"/override-requests/{request_id}" in html
    assert not any(code in text or code in html for code in PLAIN_WORDS_ONLY)


# --- a breach page offers only what can still happen to the breach ------------------------


@pytest.mark.only_backend("sqlite")
def test_a_breach_page_offers_only_what_can_still_happen(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    asked = ask(client_as(b.org.team_manager), b).json()
    client_as(b.org.senior_manager).post(f"/api/v1/override-requests/{asked['id']}/approve",
                                         json={"reason": APPROVING})
    overridden = db_session.exec(select(Breach).where(
        Breach.staff_id == b.worker.id, Breach.rule_id == "caseload-cap")).one()
    coordinator = client_as(b.org.coordinator)
    page = coordinator.get(f"/breaches/{overridden.id}").text
    assert "Does not escalate: the limit was overridden" in page
    assert "Goes to the senior manager" not in page and "Acknowledge breach" not in page
    assert "Agree exception" in page  # a second person may still agree one
    coordinator.post(f"/api/v1/breaches/{overridden.id}/exception", json={
        "reason": "Cover agreed for the term", "on": EARLY.isoformat(),
        "expires_on": (EARLY + timedelta(days=30)).isoformat()})
    page = coordinator.get(f"/breaches/{overridden.id}").text
    assert "Does not escalate while the exception holds" in page
    assert "Agree exception" not in page and "Goes to the senior manager" not in page

    # An acknowledged breach still climbs, but is not acknowledged twice.
    enrolment = seed.nqsw(db_session, b.org, start=START)
    acknowledged = seed.breach(db_session, enrolment[0], enrolment[1], opened_on=EARLY,
                               status="acknowledged")
    db_session.commit()
    page = client_as(b.org.team_manager).get(f"/breaches/{acknowledged.id}").text
    assert "Goes to the senior manager on" in page and "Acknowledge breach" not in page
    # A resolved one: nothing left to do, and no date it would climb.
    resolved = seed.breach(db_session, enrolment[0], enrolment[1], opened_on=START,
                           resolved_on=EARLY)
    db_session.commit()
    page = coordinator.get(f"/breaches/{resolved.id}").text
    assert "Goes to the senior manager" not in page and "Agree exception" not in page


# --- an override made on the allocation page is confirmed first ----------------------------


@pytest.mark.only_backend("sqlite")
def test_an_override_on_the_allocation_page_is_confirmed_before_it_is_written(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    b = blocked(db_session)
    form = {"case_reference": b.case.reference, "worker_id": str(b.worker.id),
            "role": "holder", "start_date": EARLY.isoformat()}
    senior = client_as(b.org.senior_manager)
    short = senior.post("/allocate/override", data={**form, "reason": "ok"})
    assert short.status_code == 422
    assert 'id="reason-error"' in short.text and "at least 20 characters" in short.text

    # The allocation form itself never writes an override in one step: it shows the same
    # confirmation, and a short reason is refused beside the reason first.
    direct = senior.post("/allocate", data={**form, "reason": "ok"})
    assert direct.status_code == 422 and "at least 20 characters" in direct.text
    direct = senior.post("/allocate", data={**form, "reason": APPROVING},
                         follow_redirects=False)
    assert direct.status_code == 200 and "Confirm override" in direct.text
    assert 'action="/allocate/override"' in direct.text

    confirm = senior.post("/allocate/override", data={**form, "reason": APPROVING})
    assert confirm.status_code == 200, confirm.text
    assert "Confirm override" in confirm.text and "6 cases would exceed the cap" in confirm.text
    assert len(db_session.exec(select(Allocation).where(
        Allocation.worker_id == b.worker.id)).all()) == 5  # nothing written yet

    done = senior.post("/allocate/override", follow_redirects=False,
                       data={**form, "reason": APPROVING, "confirmed": "yes"})
    assert done.status_code == 303, done.text
    breach = db_session.exec(select(Breach).where(
        Breach.staff_id == b.worker.id, Breach.rule_id == "caseload-cap")).one()
    assert (breach.status, breach.override_by_id, breach.override_reason) == (
        "overridden", b.org.senior_manager.id, APPROVING)

    # A team manager may not override: told to ask instead, nothing written.
    other = blocked(db_session)
    refused = client_as(other.org.team_manager).post("/allocate/override", data={
        **form, "case_reference": other.case.reference, "worker_id": str(other.worker.id),
        "reason": APPROVING, "confirmed": "yes"})
    assert refused.status_code == 403 and "ask for an override" in refused.text
