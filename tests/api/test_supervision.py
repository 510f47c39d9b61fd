"""The supervision log and programme reviews over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Breach, Staff

from .test_diary import make_nqsw, make_staff, managed_team, refused, signed_in_as

START = "2026-01-05"  # a Monday


def url(staff_id: int, rest: str = "/supervision") -> str:
    return f"/api/v1/nqsws/{staff_id}{rest}"


def record(client: TestClient, nqsw: int, supervisor: int, day: str, **body: object) -> dict:
    response = client.post(url(nqsw), json={"day": day, "supervisor_id": supervisor, **body},
                           params={"on": day})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_record_sessions_and_see_the_schedule(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    first = record(client, nqsw, manager, "2026-01-05", kind="reflective", minutes=90,
                   start_time="10:00:00")
    assert (first["kind"], first["minutes"], first["cancelled"]) == ("reflective", 90, False)
    record(client, nqsw, manager, "2026-01-12", kind="case")
    page = client.get(url(nqsw), params={"on": "2026-01-19"}).json()
    assert page["count"] == 2
    assert [s["day"] for s in page["data"]] == ["2026-01-12", "2026-01-05"]
    schedule = page["schedule"]
    assert schedule["last_session"] == "2026-01-12"
    assert (schedule["gap_days"], schedule["allowed_days"], schedule["overdue"]) == (7, 7, False)
    assert schedule["frequency"] == "weekly"
    assert db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "supervision.record",
                                 AuditEvent.nqsw_id == nqsw)
    ).all()


def test_an_overdue_supervision_in_week_three_opens_a_breach(
    client: TestClient, db_session: Session
) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    record(client, nqsw, manager, "2026-01-05")
    record(client, nqsw, manager, "2026-01-12")
    schedule = client.get(url(nqsw), params={"on": "2026-01-20"}).json()["schedule"]
    assert schedule["overdue"] is True
    assert schedule["overdue_from"] == "2026-01-20"
    # The sweep is what trips time-driven rules; any change re-evaluates too.
    client.post(url(nqsw, "/diary"), json={"day": "2026-01-21", "purpose": "study"},
                params={"on": "2026-01-20"})
    open_ = db_session.exec(
        select(Breach).where(Breach.staff_id == nqsw, Breach.rule_id == "supervision-frequency")
    ).all()
    assert len(open_) == 1 and open_[0].resolved_at is None
    # The next session resolves it.
    record(client, nqsw, manager, "2026-01-20")
    db_session.refresh(open_[0])
    assert open_[0].resolved_at is not None


def test_refusals(client: TestClient) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    missing = client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": 999999})
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"][0]["loc"] == ["body", "supervisor_id"]
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": nqsw}),
            "supervisor_id", "an NQSW cannot be the supervisor")
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": manager,
                                         "cancelled": True}),
            "cancel_reason", "a cancelled session needs a reason")
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": manager,
                                         "cancel_reason": "ill"}),
            "cancel_reason", "only a cancelled session")
    refused(client.post(url(nqsw), json={"day": "2025-12-29", "supervisor_id": manager}),
            "day", "before the programme starts")
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": manager,
                                         "kind": "group"}), "kind", "Input should be")
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": manager,
                                         "minutes": 0}), "minutes", "greater than or equal")
    assert client.get(url(987654)).status_code == 404


def test_cancel_a_planned_session(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, start=START, team_id=team)
    planned = record(client, nqsw, manager, "2026-01-14", start_time="14:00:00")
    cancel = url(nqsw, f"/supervision/{planned['id']}/cancel")
    by_manager = signed_in_as(client_as, db_session, manager)
    # Nobody cancels in someone else's name, not even by naming them in the body.
    forged = by_manager.post(cancel, json={"reason": "Manager called to court",
                                           "cancelled_by_id": make_staff(client, "team_manager")})
    assert forged.status_code in (403, 422)
    assert forged.json()["detail"][0]["loc"] == ["body", "cancelled_by_id"]
    done = by_manager.post(cancel, json={"reason": "Manager called to court",
                                         "cancelled_on": "2026-01-13"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["cancelled"], body["cancel_reason"], body["cancelled_on"]) == (
        True, "Manager called to court", "2026-01-13")
    assert body["cancelled_by_id"] == manager
    audit = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "supervision.cancel", AuditEvent.nqsw_id == nqsw)).all()
    assert [e.actor_id for e in audit] == [manager]
    refused(by_manager.post(cancel, json={"reason": "again"}), ["path", "session_id"],
            "already cancelled")
    recorded_cancelled = record(client, nqsw, manager, "2026-01-15", cancelled=True,
                                cancel_reason="Team crisis")
    assert recorded_cancelled["cancelled"] is True
    schedule = client.get(url(nqsw), params={"on": "2026-01-16"}).json()["schedule"]
    assert schedule["sessions_cancelled"] == 2
    assert schedule["sessions_held"] == 0
    assert schedule["overdue"] is True
    assert client.post(url(nqsw, "/supervision/999999/cancel"),
                       json={"reason": "x y z"}).status_code == 404


def test_review_points_and_recording_one(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    view = client.get(url(nqsw, "/reviews"), params={"on": "2026-05-01"}).json()
    assert [(r["month"], r["due"]) for r in view["data"]] == [
        (3, "2026-04-15"), (6, "2026-07-15"), (9, "2026-10-15"), (12, "2027-01-15")]
    assert view["data"][0]["overdue"] is True
    assert view["grace_working_days"] == 10
    held = client.post(url(nqsw, "/reviews"), json={"month": 3, "held_on": "2026-04-22",
                                                    "note": "Good progress"},
                       params={"on": "2026-05-01"})
    assert held.status_code == 201, held.text
    assert held.json() == {"month": 3, "due": "2026-04-15", "month_boundary": "2026-04-15",
                           "held_on": "2026-04-22", "working_days_late": 0, "overdue": False,
                           "note": "Good progress", "id": held.json()["id"]}
    twice = client.post(url(nqsw, "/reviews"), json={"month": 3, "held_on": "2026-04-23"},
                        params={"on": "2026-05-01"})
    assert twice.status_code == 409 and twice.json()["detail"][0]["loc"] == ["body", "month"]
    refused(client.post(url(nqsw, "/reviews"), json={"month": 5, "held_on": "2026-04-23"},
                        params={"on": "2026-05-01"}), "month", "reviews are at months 3, 6, 9, 12")
    refused(client.post(url(nqsw, "/reviews"), json={"month": 6, "held_on": "2026-07-20"},
                        params={"on": "2026-05-01"}), "held_on", "cannot be recorded as held")


def test_swip_reviews_run_to_24_months(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15", programme="swip")
    view = client.get(url(nqsw, "/reviews"), params={"on": "2026-02-01"}).json()
    assert [r["month"] for r in view["data"]] == [3, 6, 9, 12, 18, 24]
    # The 24-month boundary, 15 January 2028, is a Saturday: due the Monday after.
    assert view["data"][-1]["month_boundary"] == "2028-01-15"
    assert view["data"][-1]["due"] == "2028-01-17"


def test_review_points_shifted_by_a_pause(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "maternity"},
                         params={"on": "2026-06-01"})
    assert paused.status_code == 200, paused.text
    waiting = client.get(url(nqsw, "/reviews"), params={"on": "2026-08-01"}).json()
    assert [r["due"] for r in waiting["data"]] == ["2026-04-15", None, None, None]
    client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-10-01"},
                params={"on": "2026-10-01"})
    view = client.get(url(nqsw, "/reviews"), params={"on": "2026-10-01"}).json()
    # 122 paused days (1 June to 30 September) move every later review; a boundary on a
    # weekend (Saturday 14 November, Sunday 14 February) is due the next working day.
    assert [r["month_boundary"] for r in view["data"]] == [
        "2026-04-15", "2026-11-14", "2027-02-14", "2027-05-17"]
    assert [r["due"] for r in view["data"]] == [
        "2026-04-15", "2026-11-16", "2027-02-15", "2027-05-17"]


# --- pauses, weekends, and what an advanced practitioner may record -----------------------


def test_a_pause_stops_the_supervision_clock_and_an_overdue_breach(
    client: TestClient, db_session: Session
) -> None:
    """Overdue before a maternity pause: while paused nothing is overdue (the breach
    resolves rather than escalating); on return the same gap, in programme time, is
    overdue again until a session is held."""
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    record(client, nqsw, manager, "2026-01-05")
    record(client, nqsw, manager, "2026-01-12")
    client.post(url(nqsw, "/diary"), json={"day": "2026-01-22", "purpose": "study"},
                params={"on": "2026-01-21"})
    breach = db_session.exec(
        select(Breach).where(Breach.staff_id == nqsw, Breach.rule_id == "supervision-frequency")
    ).one()
    assert breach.resolved_at is None
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-01-26",
                                                    "reason": "maternity"},
                         params={"on": "2026-01-26"})
    assert paused.status_code == 200, paused.text
    db_session.refresh(breach)
    assert breach.resolved_at is not None
    schedule = client.get(url(nqsw), params={"on": "2026-03-02"}).json()["schedule"]
    assert (schedule["paused"], schedule["overdue"], schedule["overdue_from"]) == (
        True, False, None)
    assert schedule["gap_days"] == 14  # 12 to 26 January: the clock stopped there
    # No session inside the pause: the clock is stopped.
    refused(client.post(url(nqsw), json={"day": "2026-03-03", "supervisor_id": manager},
                        params={"on": "2026-03-03"}),
            "day", "inside the programme's pause (maternity) from 2026-01-26 until further "
                   "notice")
    client.post(url(nqsw, "/resume"), json={"resumed_on": "2026-06-01"},
                params={"on": "2026-06-01"})
    back = client.get(url(nqsw), params={"on": "2026-06-01"}).json()["schedule"]
    assert (back["paused"], back["overdue"], back["gap_days"]) == (False, True, 14)
    record(client, nqsw, manager, "2026-06-01")
    assert client.get(url(nqsw), params={"on": "2026-06-02"}).json()["schedule"][
        "overdue"] is False


def test_a_weekend_or_bank_holiday_session_needs_confirming(client: TestClient) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    refused(client.post(url(nqsw), json={"day": "2026-01-10", "supervisor_id": manager},
                        params={"on": "2026-01-10"}),
            "day", "2026-01-10 is a Saturday: check the date, or set non_working_day")
    refused(client.post(url(nqsw), json={"day": "2026-04-03", "supervisor_id": manager},
                        params={"on": "2026-04-03"}),
            "day", "2026-04-03 is a bank holiday (Good Friday)")
    saturday = record(client, nqsw, manager, "2026-01-10", non_working_day=True)
    assert saturday["day"] == "2026-01-10"


def test_supervision_times_are_local_without_an_offset(client: TestClient) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": manager,
                                         "start_time": "10:00:00+01:00"},
                        params={"on": "2026-01-06"}),
            "start_time", "without a UTC offset")
    held = record(client, nqsw, manager, "2026-01-06", start_time="10:00")
    assert held["start_time"] == "10:00:00"


def _team_with_ap(client: TestClient) -> tuple[int, int, int, int]:
    """(NQSW, their team manager, their advanced practitioner, the manager of another team
    in the same service area)."""
    area = client.post("/api/v1/service-areas", json={"name": "Children's services"})
    assert area.status_code == 201, area.text
    teams = []
    for name in ("Assessment team", "Court team"):
        team = client.post("/api/v1/teams", json={"name": name,
                                                  "service_area_id": area.json()["id"]})
        assert team.status_code == 201, team.text
        manager = make_staff(client, "team_manager", team_id=team.json()["id"])
        led = client.patch(f"/api/v1/teams/{team.json()['id']}", json={"manager_id": manager})
        assert led.status_code == 200, led.text
        teams.append((team.json()["id"], manager))
    (team_id, manager), (_, elsewhere) = teams
    ap = make_staff(client, "advanced_practitioner", team_id=team_id)
    body = {"name": "Nadia AP", "email": "nadia.ap@example.org", "programme": "asye",
            "start_date": START, "team_id": team_id, "advanced_practitioner_id": ap}
    nqsw = client.post("/api/v1/nqsws", json=body, params={"on": START})
    assert nqsw.status_code == 201, nqsw.text
    return int(nqsw.json()["id"]), manager, ap, elsewhere


def test_an_advanced_practitioner_records_and_cancels_only_their_joint_sessions(
    client: TestClient, client_as: Any, db_session: Session
) -> None:
    """Through the API with the AP's own account, the rule the supervision page follows."""
    nqsw, manager, ap, elsewhere = _team_with_ap(client)
    as_ap = client_as(db_session.get(Staff, ap))
    on = {"on": "2026-01-06"}
    denied = as_ap.post(url(nqsw), params=on, json={"day": "2026-01-06", "supervisor_id": manager,
                                                    "kind": "reflective"})
    assert denied.status_code == 403, denied.text
    assert denied.json()["detail"][0]["loc"] == ["body", "kind"], denied.text
    assert "records only joint supervision" in denied.json()["detail"][0]["msg"]
    denied = as_ap.post(url(nqsw), params=on, json={"day": "2026-01-06", "kind": "joint_with_ap",
                                                    "supervisor_id": elsewhere})
    assert denied.status_code == 403, denied.text
    assert denied.json()["detail"][0]["loc"] == ["body", "supervisor_id"]
    assert "led by you or by the NQSW's team manager" in denied.json()["detail"][0]["msg"]
    led = as_ap.post(url(nqsw), params=on, json={"day": "2026-01-05", "kind": "joint_with_ap",
                                                 "supervisor_id": ap})
    assert led.status_code == 201, led.text
    joint = as_ap.post(url(nqsw), params=on, json={"day": "2026-01-06", "kind": "joint_with_ap",
                                                   "supervisor_id": manager})
    assert joint.status_code == 201, joint.text
    # The team manager's own reflective session is not the AP's to cancel ...
    reflective = record(client, nqsw, manager, "2026-01-07", kind="reflective")
    cancel = as_ap.post(url(nqsw, f"/supervision/{reflective['id']}/cancel"), params=on,
                        json={"reason": "AP unavailable"})
    assert cancel.status_code == 403, cancel.text
    assert cancel.json()["detail"][0]["loc"] == ["path", "session_id"]
    # ... but a joint session they are part of is.
    cancel = as_ap.post(url(nqsw, f"/supervision/{joint.json()['id']}/cancel"), params=on,
                        json={"reason": "AP called to court"})
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["cancelled"] is True
    # The team manager, signed in, cancels any kind.
    as_manager = client_as(db_session.get(Staff, manager))
    done = as_manager.post(url(nqsw, f"/supervision/{reflective['id']}/cancel"), params=on,
                           json={"reason": "Manager off sick"})
    assert done.status_code == 200, done.text
