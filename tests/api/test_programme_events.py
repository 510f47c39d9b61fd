"""Programme events over HTTP: pause, resume, withdraw, complete and the CP sign-off."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Breach

from .test_diary import book, make_nqsw, make_staff, refused


def url(staff_id: int, rest: str) -> str:
    return f"/api/v1/nqsws/{staff_id}{rest}"


def audit_actions(db_session: Session, nqsw: int) -> list[str]:
    return list(db_session.exec(
        select(AuditEvent.action).where(AuditEvent.nqsw_id == nqsw).order_by(AuditEvent.id)
    ).all())


def test_pause_and_resume(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "maternity",
                                                    "note": "Maternity leave"},
                         params={"on": "2026-05-20"})
    assert paused.status_code == 200, paused.text
    state = paused.json()
    assert state["enrolment"]["status"] == "paused"
    assert state["pauses"] == [{"id": state["pauses"][0]["id"], "start_date": "2026-06-01",
                                "end_date": None, "reason": "maternity"}]
    again = client.post(url(nqsw, "/pause"), json={"start_date": "2026-07-01",
                                                   "reason": "health"})
    assert again.status_code == 409
    refused(client.post(url(nqsw, "/resume"), json={"on": "2026-06-01"}), "on",
            "must be after the pause started on 2026-06-01")
    resumed = client.post(url(nqsw, "/resume"), json={"on": "2026-10-01"},
                          params={"on": "2026-10-01"})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["enrolment"]["status"] == "active"
    assert resumed.json()["pauses"][0]["end_date"] == "2026-09-30"
    assert client.post(url(nqsw, "/resume"), json={"on": "2026-10-02"}).status_code == 409
    refused(client.post(url(nqsw, "/pause"), json={"start_date": "2026-09-01",
                                                   "reason": "health"}),
            "start_date", "overlaps the pause from 2026-06-01 to 2026-09-30")
    refused(client.post(url(nqsw, "/pause"), json={"start_date": "2025-09-01",
                                                   "reason": "health"}),
            "start_date", "before the programme starts")
    refused(client.post(url(nqsw, "/pause"), json={"start_date": "2026-11-01",
                                                   "reason": "holiday"}),
            "reason", "Input should be")
    assert {"enrolment.pause", "enrolment.resume"} <= set(audit_actions(db_session, nqsw))
    # The foundation's NQSW view reads the same pause: the programme now ends later.
    progress = client.get(f"/api/v1/nqsws/{nqsw}", params={"on": "2026-10-01"}).json()
    assert progress["progress"]["end_date"] == "2027-05-17"


def test_a_maternity_pause_across_the_six_month_boundary_moves_the_stages(
    client: TestClient,
) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01", "reason": "maternity"},
                params={"on": "2026-06-01"})
    client.post(url(nqsw, "/resume"), json={"on": "2026-10-01"}, params={"on": "2026-10-01"})
    # Back on 1 October: still in month 5 of programme time, so supervision stays fortnightly
    # and the protected time earned in the pause is nil.
    schedule = client.get(url(nqsw, "/supervision"), params={"on": "2026-10-05"}).json()
    assert schedule["schedule"]["programme_months"] == 4
    assert schedule["schedule"]["frequency"] == "fortnightly"
    during = client.get(url(nqsw, "/diary/entitlement"), params={"on": "2026-09-30"}).json()
    before = client.get(url(nqsw, "/diary/entitlement"), params={"on": "2026-05-31"}).json()
    assert during["accrued_hours"] == before["accrued_hours"]
    assert during["working"]["paused_days_excluded"] > 80
    assert during["programme_last_day"] == "2027-05-16"


def test_withdraw_cancels_later_bookings(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client)
    earlier = book(client, nqsw, "2026-11-24")
    later = book(client, nqsw, "2027-01-12")
    done = client.post(url(nqsw, "/withdraw"), json={"on": "2026-12-31", "reason": "left_employer",
                                                     "note": "Moved to another authority"},
                       params={"on": "2026-12-31"})
    assert done.status_code == 200, done.text
    state = done.json()
    assert state["enrolment"]["status"] == "withdrawn"
    assert state["enrolment"]["ended_on"] == "2026-12-31"
    assert state["enrolment"]["outcome"] == "withdrawn: left_employer"
    assert state["cancelled_protected_time"] == [later["id"]]
    entry = client.get(url(nqsw, f"/diary/{later['id']}")).json()
    assert entry["status"] == "cancelled"
    assert "withdrawn" in entry["cancel_reason"]
    assert client.get(url(nqsw, f"/diary/{earlier['id']}")).json()["status"] == "booked"
    refused(client.post(url(nqsw, "/diary"), json={"day": "2026-12-01", "purpose": "study"}),
            "day", "the programme was withdrawn on 2026-12-31")
    refused(client.post(url(nqsw, "/withdraw"), json={"reason": "other"}), "on",
            "the programme was withdrawn")
    assert "enrolment.withdraw" in audit_actions(db_session, nqsw)


def test_complete_with_an_outcome(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2025-09-01")
    done = client.post(url(nqsw, "/complete"), json={"on": "2026-08-31", "outcome": "passed"},
                       params={"on": "2026-08-31"})
    assert done.status_code == 200, done.text
    assert done.json()["enrolment"]["status"] == "completed"
    assert done.json()["enrolment"]["outcome"] == "passed"
    refused(client.post(url(nqsw, "/complete"), json={"outcome": "excellent"}), "outcome",
            "Input should be")


def test_child_protection_sign_off_needs_both_managers(
    client: TestClient, db_session: Session
) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    team_manager = make_staff(client, "team_manager")
    senior = make_staff(client, "senior_manager")
    ap = make_staff(client, "advanced_practitioner")
    body = {"signed_on": "2026-07-20", "team_manager_id": team_manager,
            "senior_manager_id": senior}
    refused(client.post(url(nqsw, "/sign-offs"), json={**body, "team_manager_id": senior}),
            "team_manager_id", "is a senior manager, not a team manager")
    refused(client.post(url(nqsw, "/sign-offs"), json={**body, "senior_manager_id": ap}),
            "senior_manager_id", "is an advanced practitioner, not a senior manager")
    refused(client.post(url(nqsw, "/sign-offs"), json={**body, "senior_manager_id": 999999}),
            "senior_manager_id", "does not exist")
    refused(client.post(url(nqsw, "/sign-offs"), json={"team_manager_id": team_manager}),
            "senior_manager_id", "Field required")
    signed = client.post(url(nqsw, "/sign-offs"), json=body, params={"on": "2026-07-20"})
    assert signed.status_code == 201, signed.text
    assert signed.json()["sign_offs"][0]["kind"] == "child_protection"
    assert signed.json()["sign_offs"][0]["signed_on"] == "2026-07-20"
    twice = client.post(url(nqsw, "/sign-offs"), json=body)
    assert twice.status_code == 409
    assert "enrolment.sign_off" in audit_actions(db_session, nqsw)
    state = client.get(url(nqsw, "/programme")).json()
    assert len(state["sign_offs"]) == 1


def test_each_event_re_evaluates_the_nqsw(client: TestClient, db_session: Session) -> None:
    """No supervision recorded: the pause's re-evaluation opens the supervision breach."""
    nqsw = make_nqsw(client, start="2026-01-05")
    client.post(url(nqsw, "/pause"), json={"start_date": "2026-02-02", "reason": "health"},
                params={"on": "2026-02-02"})
    breaches = db_session.exec(select(Breach).where(Breach.staff_id == nqsw)).all()
    assert "supervision-frequency" in {b.rule_id for b in breaches}


def test_unknown_nqsw_is_404(client: TestClient) -> None:
    assert client.post(url(987654, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "health"}).status_code == 404
    assert client.get(url(987654, "/programme")).status_code == 404
