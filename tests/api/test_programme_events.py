"""Programme events over HTTP: pause, resume, withdraw, complete and the CP sign-off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth.testing import make_staff as staff_row
from app.models import AuditEvent, Breach, SignOff, Staff, Team
from app.policy.registry import PolicySet
from app.services import workload_events
from app.services.reconcile import Cause, Trigger
from tests.scenarios import seed

from .test_diary import book, make_nqsw, refused


def url(staff_id: int, rest: str) -> str:
    return f"/api/v1/nqsws/{staff_id}{rest}"


def audit_actions(db_session: Session, nqsw: int) -> list[str]:
    return list(db_session.exec(
        select(AuditEvent.action).where(AuditEvent.nqsw_id == nqsw).order_by(AuditEvent.id)
    ).all())


def test_resume_takes_the_first_day_back_from_the_query(client: TestClient) -> None:
    """Like every dated route, `resume` takes `on` in the query; the body may be empty."""
    nqsw = make_nqsw(client, start="2026-01-15")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "health"},
                         params={"on": "2026-05-20"})
    assert paused.status_code == 200, paused.text
    resumed = client.post(url(nqsw, "/resume"), json={}, params={"on": "2026-07-01"})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["pauses"][0]["end_date"] == "2026-06-30"
    assert resumed.json()["enrolment"]["status"] == "active"


def test_pause_and_resume(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "maternity",
                                                    "note": "Maternity leave"},
                         params={"on": "2026-05-20"})
    assert paused.status_code == 200, paused.text
    state = paused.json()
    # Recorded on 20 May for 1 June: still active that day, paused from the first.
    assert state["enrolment"]["status"] == "active"
    during = client.get(url(nqsw, "/programme"), params={"on": "2026-06-15"}).json()
    assert during["enrolment"]["status"] == "paused"
    assert state["pauses"] == [{"id": state["pauses"][0]["id"], "start_date": "2026-06-01",
                                "end_date": None, "reason": "maternity"}]
    again = client.post(url(nqsw, "/pause"), json={"start_date": "2026-07-01",
                                                   "reason": "health"})
    assert again.status_code == 409
    refused(client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-06-01"}), "resumed_on",
            "must be after the pause started on 2026-06-01")
    resumed = client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-10-01"},
                          params={"on": "2026-10-01"})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["enrolment"]["status"] == "active"
    assert resumed.json()["pauses"][0]["end_date"] == "2026-09-30"
    assert client.post(url(nqsw, "/resume"),
                       json={"resumed_on": "2026-10-02"}).status_code == 409
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
    client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-10-01"},
                params={"on": "2026-10-01"})
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
    last_day = book(client, nqsw, "2026-12-31")
    later = book(client, nqsw, "2027-01-12")
    done = client.post(url(nqsw, "/withdraw"), json={"ended_on": "2026-12-31",
                                                     "reason": "left_employer",
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
    # `ended_on` is the last day on the programme: time booked that day still stands.
    assert client.get(url(nqsw, f"/diary/{last_day['id']}")).json()["status"] == "booked"
    refused(client.post(url(nqsw, "/diary"), json={"day": "2026-12-01", "purpose": "study"}),
            "day", "the programme was withdrawn on 2026-12-31")
    refused(client.post(url(nqsw, "/withdraw"), json={"reason": "other"}), "ended_on",
            "the programme was withdrawn")
    assert "enrolment.withdraw" in audit_actions(db_session, nqsw)


def test_complete_with_an_outcome(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client, start="2026-09-01")
    final = book(client, nqsw, "2027-02-26")
    after = book(client, nqsw, "2027-03-01")
    done = client.post(url(nqsw, "/complete"), json={"ended_on": "2027-02-26",
                                                     "outcome": "passed"},
                       params={"on": "2027-02-26"})
    assert done.status_code == 200, done.text
    assert done.json()["enrolment"]["status"] == "completed"
    assert done.json()["enrolment"]["outcome"] == "passed"
    # The completion day is the last day on the programme: its booking stands.
    assert done.json()["cancelled_protected_time"] == [after["id"]]
    assert client.get(url(nqsw, f"/diary/{final['id']}")).json()["status"] == "booked"
    event = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "enrolment.complete", AuditEvent.nqsw_id == nqsw)).one()
    assert event.effective_on == date(2027, 2, 26)
    refused(client.post(url(nqsw, "/complete"), json={"outcome": "excellent"}), "outcome",
            "Input should be")


def test_each_event_re_evaluates_the_nqsw(client: TestClient, db_session: Session) -> None:
    """No supervision recorded: the return's re-evaluation opens the supervision breach
    (the clock is stopped during the pause, and overdue again on the first day back)."""
    nqsw = make_nqsw(client, start="2026-01-05")
    client.post(url(nqsw, "/pause"), json={"start_date": "2026-02-02", "reason": "health"},
                params={"on": "2026-02-02"})
    back = client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-02-16"},
                       params={"on": "2026-02-16"})
    assert back.status_code == 200, back.text
    breaches = db_session.exec(select(Breach).where(Breach.staff_id == nqsw)).all()
    assert "supervision-frequency" in {b.rule_id for b in breaches}


def test_unknown_nqsw_is_404(client: TestClient) -> None:
    assert client.post(url(987654, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "health"}).status_code == 404
    assert client.get(url(987654, "/programme")).status_code == 404


# ---- the joint child-protection sign-off, as the managers themselves -----------------------

START = date(2026, 1, 15)
SIGNED_ON = "2026-07-20"


def breach_status(db_session: Session, nqsw: int, rule_id: str) -> str | None:
    row = db_session.exec(
        select(Breach).where(Breach.staff_id == nqsw, Breach.rule_id == rule_id)
        .order_by(col(Breach.id).desc())
    ).first()
    return row.status if row is not None else None


def cp_world(db_session: Session, policies: PolicySet) -> tuple[seed.Org, Staff]:
    """An NQSW in a team with its manager and the area's senior manager, holding a child
    protection case alone (a co-working breach until they are signed off)."""
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 1, start=START, category="child_protection_plan")
    workload_events.staff_changed(db_session, staff_ids=[worker.id or 0],
                                  on=date(2026, 7, 1), policies=policies,
                                  trigger=Trigger("starting facts", Cause.changed))
    db_session.commit()
    assert breach_status(db_session, worker.id or 0, "cp-coworking") == "open"
    return org, worker


def sign_off_body(org: seed.Org, **changes: Any) -> dict[str, Any]:
    return {"signed_on": SIGNED_ON, "team_manager_id": org.team_manager.id,
            "senior_manager_id": org.senior_manager.id, **changes}


def audit_of(db_session: Session, nqsw: int, action: str) -> list[AuditEvent]:
    return list(db_session.exec(select(AuditEvent).where(
        AuditEvent.nqsw_id == nqsw, AuditEvent.action == action).order_by(col(AuditEvent.id))))


def test_a_sign_off_counts_only_once_both_managers_approve(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    manager, senior = client_as(org.team_manager), client_as(org.senior_manager)
    recorded = manager.post(url(nqsw, "/sign-offs"), json=sign_off_body(org, note="Ready"),
                            params={"on": "2026-07-20"})
    assert recorded.status_code == 201, recorded.text
    proposal = recorded.json()["sign_off"]
    assert proposal["status"] == "awaiting_senior_manager"
    assert proposal["awaiting"] == "awaiting the senior manager's approval"
    assert proposal["team_manager_id"] == org.team_manager.id
    assert proposal["senior_manager_id"] == org.senior_manager.id
    assert proposal["team_manager_approved_at"] is not None
    assert proposal["senior_manager_approved_at"] is None
    assert proposal["recorded_by_id"] == org.team_manager.id
    assert proposal["in_force_from"] is None
    assert recorded.json()["sign_offs"] == [proposal]
    # Not in force yet: nothing is re-evaluated and the rules still apply.
    assert breach_status(db_session, nqsw, "cp-coworking") == "open"
    assert db_session.get(SignOff, proposal["id"]) is not None
    # The recorder cannot approve their own request (403); the senior manager's approval
    # puts it in force.
    again = manager.post(url(nqsw, f"/sign-offs/{proposal['id']}/approve"))
    assert again.status_code == 403, again.text
    refusal = again.json()["detail"][0]
    assert refusal["loc"] == ["path", "sign_off_id"] and refusal["type"] == "forbidden"
    assert refusal["msg"] == ("you recorded this sign-off, so the other manager it names "
                              "must approve it")
    approved = senior.post(url(nqsw, f"/sign-offs/{proposal['id']}/approve"),
                           params={"on": "2026-07-21"})
    assert approved.status_code == 200, approved.text
    view = approved.json()["sign_off"]
    assert view["status"] == "approved" and view["awaiting"] is None
    assert view["senior_manager_approved_at"] is not None
    assert view["in_force_from"] == SIGNED_ON
    assert breach_status(db_session, nqsw, "cp-coworking") == "resolved"
    assert senior.post(url(nqsw, f"/sign-offs/{proposal['id']}/approve")).status_code == 409
    # Each step is audited with the day it takes effect.
    (record,) = audit_of(db_session, nqsw, "sign_off.record")
    (approval,) = audit_of(db_session, nqsw, "sign_off.approve")
    assert record.actor_id == org.team_manager.id and approval.actor_id == org.senior_manager.id
    assert record.effective_on == approval.effective_on == date(2026, 7, 20)
    # The NQSW sees both approvals on their own programme.
    mine = client_as(worker).get(url(nqsw, "/programme")).json()["sign_offs"]
    assert [s["status"] for s in mine] == ["approved"]


def test_the_senior_manager_may_record_and_the_team_manager_approve(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    recorded = client_as(org.senior_manager).post(url(nqsw, "/sign-offs"),
                                                  json=sign_off_body(org))
    assert recorded.status_code == 201, recorded.text
    proposal = recorded.json()["sign_off"]
    assert proposal["status"] == "awaiting_team_manager"
    assert proposal["awaiting"] == "awaiting the team manager's approval"
    approved = client_as(org.team_manager).post(
        url(nqsw, f"/sign-offs/{proposal['id']}/approve"), json={"note": "Agreed"},
        params={"on": "2026-07-21"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["sign_off"]["status"] == "approved"
    assert breach_status(db_session, nqsw, "cp-coworking") == "resolved"


def test_who_may_be_named_and_who_may_record(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session,
    app: FastAPI,
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    elsewhere = seed.organisation(db_session)  # another service area altogether
    neighbour = staff_row(db_session, "team_manager")  # another team of the same area
    db_session.add(Team(name="Next door", service_area_id=org.area.id, manager_id=neighbour.id))
    db_session.flush()
    neighbour_team = db_session.exec(select(Team).where(Team.manager_id == neighbour.id)).one()
    neighbour.team_id = neighbour_team.id
    db_session.commit()
    manager = client_as(org.team_manager)
    sign_offs = url(nqsw, "/sign-offs")
    # The audit's finding: managers of other teams and areas, neither the caller: refused.
    outsiders = manager.post(sign_offs, json=sign_off_body(
        org, team_manager_id=elsewhere.team_manager.id,
        senior_manager_id=elsewhere.senior_manager.id))
    assert outsiders.status_code == 403, outsiders.text
    assert outsiders.json()["detail"][0]["loc"] == ["body", "team_manager_id"]
    other_area = manager.post(sign_offs, json=sign_off_body(
        org, senior_manager_id=elsewhere.senior_manager.id))
    assert other_area.status_code == 403
    assert other_area.json()["detail"][0]["loc"] == ["body", "senior_manager_id"]
    # A colleague of the same area may be named, but is not this NQSW's team manager.
    refused(manager.post(sign_offs, json=sign_off_body(org, team_manager_id=neighbour.id)),
            "team_manager_id", "is not the team manager of")
    refused(manager.post(sign_offs, json=sign_off_body(org, senior_manager_id=org.ap.id)),
            "senior_manager_id", "is an advanced practitioner, not a senior manager")
    refused(manager.post(sign_offs, json=sign_off_body(
        org, team_manager_id=org.senior_manager.id)),
            "team_manager_id", "is a senior manager, not a team manager")
    unknown = manager.post(sign_offs, json=sign_off_body(org, senior_manager_id=9999999))
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == [{"loc": ["body", "senior_manager_id"],
                                         "msg": "staff member 9999999 not found",
                                         "type": "not_found"}]
    refused(manager.post(sign_offs, json={"team_manager_id": org.team_manager.id}),
            "senior_manager_id", "Field required")
    # The neighbouring team manager does not reach this NQSW at all.
    assert client_as(neighbour).post(sign_offs, json=sign_off_body(org)).status_code == 404
    # Someone who is neither named manager cannot record the decision for them.
    nobody = client.post(sign_offs, json=sign_off_body(org))
    assert nobody.status_code == 403 and "one of the two managers" in nobody.text
    assert db_session.exec(select(SignOff)).all() == []


def test_approving_is_for_the_other_named_manager_only(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    proposal = client_as(org.team_manager).post(
        url(nqsw, "/sign-offs"), json=sign_off_body(org)).json()["sign_off"]
    approve = url(nqsw, f"/sign-offs/{proposal['id']}/approve")
    ap = client_as(org.ap).post(approve)
    assert ap.status_code == 403  # not a manager's route
    other_nqsw, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    wrong_path = client_as(org.senior_manager).post(
        url(other_nqsw.id or 0, f"/sign-offs/{proposal['id']}/approve"))
    assert wrong_path.status_code == 404
    assert wrong_path.json()["detail"][0]["loc"] == ["path", "sign_off_id"]
    missing = client_as(org.senior_manager).post(url(nqsw, "/sign-offs/9999999/approve"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == [{"loc": ["path", "sign_off_id"],
                                         "msg": "sign-off 9999999 not found",
                                         "type": "not_found"}]


def test_revoking_puts_the_rules_back_from_the_day_given(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    manager, senior = client_as(org.team_manager), client_as(org.senior_manager)
    proposal = manager.post(url(nqsw, "/sign-offs"), json=sign_off_body(org)).json()["sign_off"]
    senior.post(url(nqsw, f"/sign-offs/{proposal['id']}/approve"), params={"on": "2026-07-21"})
    assert breach_status(db_session, nqsw, "cp-coworking") == "resolved"
    revoke = url(nqsw, f"/sign-offs/{proposal['id']}/revoke")
    refused(manager.post(revoke, json={"revoked_on": "2026-07-01", "reason": "Too early"}),
            "revoked_on", "took effect on 2026-07-20")
    refused(manager.post(revoke, json={"revoked_on": "2026-09-01"}), "reason", "Field required")
    revoked = manager.post(revoke, json={"revoked_on": "2026-09-01",
                                         "reason": "Concerns raised"},
                           params={"on": "2026-09-01"})
    assert revoked.status_code == 200, revoked.text
    view = revoked.json()["sign_off"]
    assert view["status"] == "revoked" and view["revoked_on"] == "2026-09-01"
    assert view["revoke_reason"] == "Concerns raised"
    assert breach_status(db_session, nqsw, "cp-coworking") == "open"
    (event,) = audit_of(db_session, nqsw, "sign_off.revoke")
    assert event.effective_on == date(2026, 9, 1) and event.after["reason"] == "Concerns raised"
    assert manager.post(revoke, json={"reason": "twice"}).status_code == 409
    # A proposal not yet approved may be withdrawn on any day; a new one may follow.
    second = senior.post(url(nqsw, "/sign-offs"),
                         json=sign_off_body(org, signed_on="2026-12-01")).json()["sign_off"]
    twice = manager.post(url(nqsw, "/sign-offs"), json=sign_off_body(org))
    assert twice.status_code == 409 and "awaiting the team manager" in twice.text
    withdrawn = manager.post(url(nqsw, f"/sign-offs/{second['id']}/revoke"),
                             json={"revoked_on": "2026-10-01", "reason": "Not yet"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert [s["status"] for s in withdrawn.json()["sign_offs"]] == ["revoked", "revoked"]


def test_the_sign_off_page_offers_each_manager_what_awaits_them(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    org, worker = cp_world(db_session, app.state.policies)
    nqsw = worker.id or 0
    proposal = client_as(org.team_manager).post(
        url(nqsw, "/sign-offs"), json=sign_off_body(org)).json()["sign_off"]
    page_for_senior = client_as(org.senior_manager).get(f"/nqsws/{nqsw}/programme",
                                                        headers={"Accept": "text/html"})
    assert page_for_senior.status_code == 200
    assert "A sign-off is awaiting your approval" in page_for_senior.text
    assert f"/programme/sign-off/{proposal['id']}/approve" in page_for_senior.text
    page_for_manager = client_as(org.team_manager).get(f"/nqsws/{nqsw}/programme",
                                                       headers={"Accept": "text/html"})
    assert "awaiting your approval" not in page_for_manager.text
    assert "awaiting the senior manager" in page_for_manager.text.lower()


def test_a_sign_off_of_an_unknown_kind_is_refused(
    client_as: Callable[..., TestClient], db_session: Session, app: FastAPI
) -> None:
    """A misspelt kind would never match a rule: refused, naming the known kinds."""
    org, worker = cp_world(db_session, app.state.policies)
    refused(client_as(org.team_manager).post(
        url(worker.id or 0, "/sign-offs"), json=sign_off_body(org, kind="child_protectoin"),
        params={"on": "2026-07-20"}), "kind", "unknown sign-off kind 'child_protectoin'")


def test_a_pause_cannot_start_after_the_programme_ends(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    refused(client.post(url(nqsw, "/pause"), json={"start_date": "2027-01-15",
                                                   "reason": "health"}),
            "start_date", "the programme's last day is 2027-01-14")
    last_day = client.post(url(nqsw, "/pause"), json={"start_date": "2027-01-14",
                                                      "reason": "health"})
    assert last_day.status_code == 200, last_day.text
