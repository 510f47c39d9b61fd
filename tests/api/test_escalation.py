"""The escalation ladder: who is told, and when a breach climbs to a senior manager."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, Breach, BreachEvent, Notification
from tests.scenarios import seed

START = date(2037, 11, 2)  # a Monday; the first 3 months run past Christmas: a firm cap of 5
# (2037-38 has the weekdays and Christmas bank holidays of 2026-27, and is after today:
# writes are reconciled up to today, which must stay outside these dates.)


def sweep(client: TestClient, as_of: str) -> None:
    assert client.post("/api/v1/breaches/sweep", json={"as_of": as_of}).status_code == 200


def email_text(session: Session, breach_id: int | None, kind: str = "breach.opened") -> str:
    """The text of the first email of this kind about the breach."""
    row = session.exec(select(Notification).where(
        Notification.breach_id == breach_id, Notification.kind == kind)
        .order_by(col(Notification.id))).first()
    assert row is not None
    return row.body_text


def told(session: Session, breach_id: int, kind: str) -> list[int]:
    rows = session.exec(select(Notification).where(
        Notification.breach_id == breach_id, Notification.kind == kind)
        .order_by(col(Notification.id))).all()
    return [n.recipient_id for n in rows]


def cap_breach(session: Session, staff_id: int) -> Breach:
    return session.exec(select(Breach).where(
        Breach.staff_id == staff_id, Breach.rule_id == "caseload-cap")).one()


def over_cap(session: Session, org: seed.Org) -> int:
    worker, _ = seed.nqsw(session, org, start=START)
    seed.load(session, worker, 6, start=START)
    session.commit()
    assert worker.id is not None
    return worker.id


def test_team_manager_told_at_once_then_senior_manager_after_five_working_days(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker_id = over_cap(db_session, org)
    sweep(client, "2037-12-24")  # Thursday; Christmas, Boxing Day (Mon 28) and New Year follow
    breach = cap_breach(db_session, worker_id)
    assert breach.status == "open" and breach.severe is False
    assert told(db_session, breach.id, "breach.opened") == [org.team_manager.id]  # type: ignore[arg-type]
    # Five working days after 24 December 2037, bank holidays excluded: 5 January 2038.
    assert breach.escalation_due_on == date(2038, 1, 5)
    text = email_text(db_session, breach.id)
    assert "Measured: 6 against a limit of 5" in text
    assert "If it is not resolved by 5 January 2038 it will be escalated" in text
    sweep(client, "2038-01-04")
    db_session.refresh(breach)
    assert breach.escalation_level == 0
    assert told(db_session, breach.id, "breach.escalated") == []  # type: ignore[arg-type]
    sweep(client, "2038-01-05")
    db_session.refresh(breach)
    assert breach.escalation_level == 1 and breach.escalated_on == date(2038, 1, 5)
    assert told(db_session, breach.id, "breach.escalated") == [org.senior_manager.id]  # type: ignore[arg-type]
    sweep(client, "2038-01-06")
    assert told(db_session, breach.id, "breach.escalated") == [org.senior_manager.id]  # type: ignore[arg-type]
    escalations = db_session.exec(select(BreachEvent).where(
        BreachEvent.breach_id == breach.id, BreachEvent.action == "escalated")).all()
    assert [e.effective_on for e in escalations] == [date(2038, 1, 5)]
    audited = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "breach.escalate", AuditEvent.entity_id == str(breach.id))).all()
    assert len(audited) == 1


def test_a_severe_rule_tells_both_at_once(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan",
                   team_id=org.team_id)
    db_session.commit()
    response = client_as(org.senior_manager).post("/api/v1/allocations", json={
        "case_id": cp.id, "worker_id": worker.id, "start_date": "2037-11-10",
        "override_reason": "No AP available this week; reviewed daily"})
    assert response.status_code == 201, response.text
    gate = db_session.exec(select(Breach).where(
        Breach.staff_id == worker.id, Breach.rule_id == "complexity-gate")).one()
    assert gate.severe is True and gate.status == "overridden"
    # Overridden breaches do not climb with time, but a severe one is told to both at once.
    assert told(db_session, gate.id, "breach.opened") == [  # type: ignore[arg-type]
        org.team_manager.id, org.senior_manager.id]
    assert gate.escalation_level == 1
    text = email_text(db_session, gate.id)
    assert "allowed when the case was allocated" in text
    assert '"No AP available this week; reviewed daily"' in text
    assert "does not climb the escalation ladder" in text
    assert "the team manager and the senior manager of the service area are both told now" in text
    assert "will be escalated" not in text
    assert "Measured: 1 against a limit of 0" in text


def test_a_severe_breach_found_by_the_sweep_goes_to_both_at_once(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    seed.allocate(db_session, worker, cp, start=START)
    db_session.commit()
    sweep(client, "2037-11-20")
    gate = db_session.exec(select(Breach).where(
        Breach.staff_id == worker.id, Breach.rule_id == "complexity-gate")).one()
    assert gate.severe and gate.escalation_level == 1
    assert gate.escalated_on == date(2037, 11, 20)
    assert told(db_session, gate.id, "breach.opened") == [  # type: ignore[arg-type]
        org.team_manager.id, org.senior_manager.id]
    text = email_text(db_session, gate.id)
    assert "This rule is severe" in text and "both told now, at the same time" in text
    assert "will be escalated" not in text and "allowed when" not in text


def test_acknowledged_breaches_still_climb_excepted_ones_do_not(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    acked_id = over_cap(db_session, org)
    excepted_id = over_cap(db_session, org)
    sweep(client, "2037-11-16")
    acked, excepted = cap_breach(db_session, acked_id), cap_breach(db_session, excepted_id)
    assert client.post(f"/api/v1/breaches/{acked.id}/acknowledge", json={
        "note": "Moving a case next week", "on": "2037-11-17"}).status_code == 200
    assert client_as(org.senior_manager).post(f"/api/v1/breaches/{excepted.id}/exception", json={
        "reason": "Agreed until cover starts",
        "expires_on": "2038-01-31", "on": "2037-11-17"}).status_code == 200
    sweep(client, "2037-11-23")
    db_session.refresh(acked)
    db_session.refresh(excepted)
    assert acked.status == "acknowledged" and acked.escalation_level == 1
    assert excepted.status == "excepted" and excepted.escalation_level == 0


def test_without_a_team_manager_the_coordinators_are_told(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    org.team.manager_id = None
    worker_id = over_cap(db_session, org)
    sweep(client, "2037-11-16")
    breach = cap_breach(db_session, worker_id)
    assert org.coordinator.id in told(db_session, breach.id, "breach.opened")  # type: ignore[arg-type]


def test_resolution_is_told_to_everyone_who_was_told(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker_id = over_cap(db_session, org)
    sweep(client, "2037-11-16")
    sweep(client, "2037-11-23")  # escalated
    breach = cap_breach(db_session, worker_id)
    assert breach.escalation_level == 1
    allocation = client.get("/api/v1/allocations", params={"worker_id": worker_id}).json()
    ended = client.post(f"/api/v1/allocations/{allocation['data'][0]['id']}/end",
                        json={"on": "2037-11-24", "reason": "case closed"})
    assert ended.status_code == 200
    db_session.refresh(breach)
    assert breach.status == "resolved"
    assert told(db_session, breach.id, "breach.resolved") == [  # type: ignore[arg-type]
        org.team_manager.id, org.senior_manager.id]
