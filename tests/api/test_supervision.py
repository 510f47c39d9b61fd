"""The supervision log and programme reviews over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Breach

from .test_diary import make_nqsw, make_staff, refused

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
    refused(client.post(url(nqsw), json={"day": "2026-01-06", "supervisor_id": 999999}),
            "supervisor_id", "does not exist")
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


def test_cancel_a_planned_session(client: TestClient) -> None:
    nqsw = make_nqsw(client, start=START)
    manager = make_staff(client, "team_manager")
    planned = record(client, nqsw, manager, "2026-01-14", start_time="14:00:00")
    cancel = url(nqsw, f"/supervision/{planned['id']}/cancel")
    done = client.post(cancel, json={"reason": "Manager called to court", "on": "2026-01-13",
                                     "cancelled_by_id": manager})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["cancelled"], body["cancel_reason"], body["cancelled_on"]) == (
        True, "Manager called to court", "2026-01-13")
    refused(client.post(cancel, json={"reason": "again"}), ["path", "session_id"],
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
    assert [(r["month"], r["due"]) for r in view["reviews"]] == [
        (3, "2026-04-15"), (6, "2026-07-15"), (9, "2026-10-15"), (12, "2027-01-15")]
    assert view["reviews"][0]["overdue"] is True
    assert view["grace_working_days"] == 10
    held = client.post(url(nqsw, "/reviews"), json={"month": 3, "held_on": "2026-04-22",
                                                    "note": "Good progress"},
                       params={"on": "2026-05-01"})
    assert held.status_code == 201, held.text
    assert held.json() == {"month": 3, "due": "2026-04-15", "held_on": "2026-04-22",
                           "working_days_late": 0, "overdue": False, "note": "Good progress",
                           "id": held.json()["id"]}
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
    assert [r["month"] for r in view["reviews"]] == [3, 6, 9, 12, 18, 24]
    assert view["reviews"][-1]["due"] == "2028-01-15"


def test_review_points_shifted_by_a_pause(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-06-01",
                                                    "reason": "maternity"},
                         params={"on": "2026-06-01"})
    assert paused.status_code == 200, paused.text
    waiting = client.get(url(nqsw, "/reviews"), params={"on": "2026-08-01"}).json()
    assert [r["due"] for r in waiting["reviews"]] == ["2026-04-15", None, None, None]
    client.post(url(nqsw, "/resume"), json={"on": "2026-10-01"}, params={"on": "2026-10-01"})
    view = client.get(url(nqsw, "/reviews"), params={"on": "2026-10-01"}).json()
    # 122 paused days (1 June to 30 September) move every later review.
    assert [r["due"] for r in view["reviews"]] == [
        "2026-04-15", "2026-11-14", "2027-02-14", "2027-05-17"]
