"""The protected-time diary over HTTP: booking, refusals, moving, taking, cancelling, rebooking."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, Notification, Staff

_emails = count(1)


# --- helpers shared with the supervision, programme and calendar tests -------------------


def make_staff(client: TestClient, role: str, **extra: Any) -> int:
    body = {"name": f"{role.replace('_', ' ').title()} {next(_emails)}",
            "email": f"{role}{next(_emails)}@example.org", "role": role,
            "start_date": "2020-01-01", **extra}
    response = client.post("/api/v1/staff", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def make_nqsw(client: TestClient, *, start: str = "2026-09-01", programme: str = "asye",
              contracted_hours: float = 37.0, fte: float = 1.0,
              team_id: int | None = None) -> int:
    body = {"name": f"Nadia {next(_emails)}", "email": f"nqsw{next(_emails)}@example.org",
            "programme": programme, "start_date": start,
            "contracted_hours": contracted_hours, "fte": fte,
            **({"team_id": team_id} if team_id is not None else {})}
    # Enrolled as of the start date, so that nothing is evaluated as of the real today.
    response = client.post("/api/v1/nqsws", json=body, params={"on": start})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def managed_team(client: TestClient) -> tuple[int, int]:
    """(team id, its team manager's staff id): a team in a new service area, so that a
    client signed in as that manager reaches the NQSWs placed in it."""
    area = client.post("/api/v1/service-areas", json={"name": f"Area {next(_emails)}"})
    assert area.status_code == 201, area.text
    manager = make_staff(client, "team_manager")
    team = client.post("/api/v1/teams", json={"name": f"Team {next(_emails)}",
                                              "service_area_id": area.json()["id"],
                                              "manager_id": manager})
    assert team.status_code == 201, team.text
    return int(team.json()["id"]), manager


def signed_in_as(client_as: Callable[..., TestClient], db_session: Session,
                 staff_id: int) -> TestClient:
    """A client signed in as the staff member with this id."""
    staff = db_session.get(Staff, staff_id)
    assert staff is not None
    return client_as(staff)


def diary_url(staff_id: int, rest: str = "") -> str:
    return f"/api/v1/nqsws/{staff_id}/diary{rest}"


def book(client: TestClient, staff_id: int, day: str, *, on: str = "2026-11-23",
         expect: int = 201, **body: Any) -> dict[str, Any]:
    payload = {"day": day, "purpose": "study", **body}
    response = client.post(diary_url(staff_id), json=payload, params={"on": on})
    assert response.status_code == expect, response.text
    return response.json()  # type: ignore[no-any-return]


def refused(response: Any, field: str | list[str], words: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    expected = ["body", field] if isinstance(field, str) else field
    assert detail["loc"] == expected, detail
    assert words in detail["msg"], detail["msg"]


# --- booking -------------------------------------------------------------------------------


def test_book_a_full_day_and_see_it_in_the_diary(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    entry = book(client, nqsw, "2026-11-25", purpose="portfolio", note="ASYE portfolio")
    assert entry["hours"] == pytest.approx(7.4)
    assert (entry["status"], entry["length"], entry["purpose"]) == ("booked", "full_day",
                                                                    "portfolio")
    listed = client.get(diary_url(nqsw), params={"on": "2026-11-23"}).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == entry["id"]
    summary = listed["summary"]
    assert summary["booked"] == {"hours": 7.4, "days": 1.0, "count": 1}
    assert summary["entitlement"]["days"] == pytest.approx(22.7, abs=0.05)
    assert summary["taken"]["hours"] == 0
    assert client.get(diary_url(nqsw, f"/{entry['id']}")).json()["id"] == entry["id"]


def test_half_days_and_hours(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    morning = book(client, nqsw, "2026-11-26", length="half_day", half="am")
    assert morning["hours"] == pytest.approx(3.7)
    afternoon = book(client, nqsw, "2026-11-26", length="half_day", half="pm")
    assert afternoon["half"] == "pm"
    timed = book(client, nqsw, "2026-11-27", length="hours", hours=2.5, start_time="09:30:00")
    assert (timed["hours"], timed["start_time"]) == (2.5, "09:30:00")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"day": "2026-11-28"}, "day", "2026-11-28 is a Saturday"),
        ({"day": "2026-11-29"}, "day", "is a Sunday"),
        ({"day": "2026-12-25"}, "day", "2026-12-25 is a bank holiday (Christmas Day)"),
        ({"day": "2026-12-28"}, "day", "bank holiday (Boxing Day (observed))"),
        ({"day": "2026-08-28"}, "day", "before the programme starts on 2026-09-01"),
        ({"day": "2027-09-01"}, "day", "after the programme ends on 2027-08-31"),
        ({"day": "2026-11-30", "length": "hours", "hours": 8}, "hours",
         "8 hours is more than a day's 7.40 contracted hours"),
        ({"day": "2026-11-30", "length": "hours"}, "hours", "give the number of hours"),
        ({"day": "2026-11-30", "hours": 3}, "hours", "leave hours out"),
        ({"day": "2026-11-30", "length": "half_day"}, "half", "morning (am) or the afternoon"),
        ({"day": "2026-11-30", "start_time": "09:00:00"}, "start_time", "only a booking by"),
        ({"day": "2026-11-30", "length": "hours", "hours": 3, "start_time": "22:00:00"},
         "hours", "must end by midnight"),
        ({"day": "2026-11-30", "purpose": "holiday"}, "purpose", "Input should be"),
        ({"day": "2026-11-30", "rebooked_from_id": 999999}, "rebooked_from_id",
         "not in this diary"),
    ],
)
def test_refusals_name_the_field_and_the_reason(
    client: TestClient, body: dict[str, Any], field: str, words: str
) -> None:
    nqsw = make_nqsw(client)
    response = client.post(diary_url(nqsw), json={"purpose": "study", **body},
                           params={"on": "2026-11-23"})
    refused(response, field, words)


def test_no_double_booking_beyond_the_day(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    book(client, nqsw, "2026-12-01")
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-01", "purpose": "study",
                                               "length": "half_day", "half": "pm"}),
            "day", "already has 7.4 hours of protected time booked")
    book(client, nqsw, "2026-12-02", length="half_day", half="am")
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-02", "purpose": "study",
                                               "length": "half_day", "half": "am"}),
            "half", "the morning of 2026-12-02 is already booked")
    book(client, nqsw, "2026-12-03", length="hours", hours=3, start_time="09:00:00")
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-03", "purpose": "study",
                                               "length": "hours", "hours": 2,
                                               "start_time": "11:30:00"}),
            "start_time", "overlaps booking")
    book(client, nqsw, "2026-12-03", length="hours", hours=3, start_time="13:00:00")
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-03", "purpose": "study",
                                               "length": "hours", "hours": 2}),
            "day", "already has 6 hours of protected time booked")


def test_full_day_on_a_day_already_part_booked_is_refused(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    book(client, nqsw, "2026-12-04", length="hours", hours=1)
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-04", "purpose": "training"}),
            "day", "would pass the day's 7.40 contracted hours")


def test_a_bank_holiday_inside_a_booked_week(client: TestClient) -> None:
    """Easter week 2027: Monday is Easter Monday; Tuesday to Friday are bookable."""
    nqsw = make_nqsw(client)
    monday = client.post(diary_url(nqsw), json={"day": "2027-03-29", "purpose": "training"})
    refused(monday, "day", "bank holiday (Easter Monday)")
    for day in ("2027-03-30", "2027-03-31", "2027-04-01", "2027-04-02"):
        book(client, nqsw, day, purpose="training")
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-11-23"}).json()
    assert summary["booked"]["count"] == 4
    assert summary["booked"]["hours"] == pytest.approx(4 * 7.4)


def test_part_time_days_are_full_time_days(client: TestClient) -> None:
    nqsw = make_nqsw(client, contracted_hours=22.2, fte=0.6)
    entry = book(client, nqsw, "2026-11-30")
    assert entry["hours"] == pytest.approx(7.4)
    view = client.get(diary_url(nqsw, "/entitlement"), params={"on": "2026-11-30"}).json()
    assert view["day_hours"] == pytest.approx(7.4)
    assert view["days"] == pytest.approx(22.7 * 0.6, abs=0.05)
    assert view["working"]["hours_per_working_day"] == pytest.approx(4.44)
    assert view["working"]["contracted_hours_per_week"] == 22.2


def test_entitlement_shows_the_working(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    view = client.get(diary_url(nqsw, "/entitlement"), params={"on": "2027-03-01"}).json()
    assert 22 <= view["days"] <= 24
    working = view["working"]
    assert working["working_days"] == 253
    assert working["bank_holidays_excluded"] == 8
    assert working["paused_days_excluded"] == 0
    assert working["percent"] == 0.1
    assert working["hours"] == view["hours"]
    assert 0 < view["accrued_hours"] < view["hours"]
    assert view["accrued_working"]["last_day"] == "2027-03-01"
    assert view["remaining_hours"] == view["hours"]


# --- moving, taking, cancelling, rebooking -------------------------------------------------


def test_move_a_booking(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client)
    entry = book(client, nqsw, "2026-12-07")
    moved = client.post(diary_url(nqsw, f"/{entry['id']}/move"), json={"day": "2026-12-09"},
                        params={"on": "2026-11-23"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["day"] == "2026-12-09"
    refused(client.post(diary_url(nqsw, f"/{entry['id']}/move"), json={"day": "2026-12-12"}),
            "day", "is a Saturday")
    half = client.post(diary_url(nqsw, f"/{entry['id']}/move"),
                       json={"day": "2026-12-10", "length": "half_day", "half": "pm"})
    assert half.json()["hours"] == pytest.approx(3.7)
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "protected_time.move",
                                 AuditEvent.entity_id == str(entry["id"]))
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    assert [e.before["day"] for e in events] == ["2026-12-07", "2026-12-09"]


def test_mark_taken_on_or_after_the_day(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    entry = book(client, nqsw, "2026-11-25")
    early = client.post(diary_url(nqsw, f"/{entry['id']}/taken"), params={"on": "2026-11-24"})
    refused(early, "taken_on", "can be marked taken on or after that day")
    taken = client.post(diary_url(nqsw, f"/{entry['id']}/taken"), params={"on": "2026-11-25"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"
    again = client.post(diary_url(nqsw, f"/{entry['id']}/taken"), params={"on": "2026-11-26"})
    refused(again, "taken_on", "is taken")
    refused(client.post(diary_url(nqsw, f"/{entry['id']}/move"), json={"day": "2026-12-01"}),
            "day", "only booked time can be moved")
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-11-30"}).json()
    assert summary["taken"] == {"hours": 7.4, "days": 1.0, "count": 1}
    assert summary["remaining"]["hours"] == pytest.approx(summary["entitlement"]["hours"] - 7.4)


def test_cancel_and_rebook(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, team_id=team)
    colleague = make_staff(client, "social_worker", team_id=team)
    entry = book(client, nqsw, "2026-12-02", purpose="action_learning")
    url = diary_url(nqsw, f"/{entry['id']}/cancel")
    # Only the team manager, signed in as themselves, cancels: not the NQSW, not a
    # colleague, not an account that is no person, and never in the manager's name.
    for caller in (signed_in_as(client_as, db_session, nqsw),
                   signed_in_as(client_as, db_session, colleague), client):
        assert caller.post(url, json={"reason": "busy week"}).status_code == 403
    by_manager = signed_in_as(client_as, db_session, manager)
    forged = by_manager.post(url, json={"cancelled_by_id": make_staff(client, "team_manager"),
                                        "reason": "busy week"})
    assert forged.status_code in (403, 422)
    assert forged.json()["detail"][0]["loc"] == ["body", "cancelled_by_id"]
    refused(by_manager.post(url, json={"reason": ""}), "reason", "")
    cancelled = by_manager.post(url, json={"reason": "Court hearing moved to that day"},
                                params={"on": "2026-11-27"})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancelled_by_id"], body["cancelled_on"]) == (
        "cancelled", manager, "2026-11-27")
    audit = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "protected_time.cancel", AuditEvent.nqsw_id == nqsw)).all()
    assert [e.actor_id for e in audit] == [manager]
    assert body["cancel_reason"] == "Court hearing moved to that day"
    told = db_session.exec(
        select(Notification).where(Notification.recipient_id == nqsw,
                                   Notification.kind == "protected_time.cancelled")
    ).all()
    assert len(told) == 1
    assert "please rebook" in told[0].subject
    assert "Court hearing moved to that day" in told[0].body_text
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-11-27"}).json()
    lost = summary["cancelled"][0]
    assert (lost["id"], lost["reason"], lost["rebooked_by_id"]) == (
        entry["id"], "Court hearing moved to that day", None)
    assert lost["cancelled_by_name"].startswith("Team Manager")

    again = book(client, nqsw, "2026-12-09", purpose="action_learning",
                 rebooked_from_id=entry["id"])
    assert again["rebooked_from_id"] == entry["id"]
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-11-27"}).json()
    assert summary["cancelled"][0]["rebooked_by_id"] == again["id"]
    assert summary["cancelled"][0]["rebooked_on"] == "2026-12-09"
    original = client.get(diary_url(nqsw, f"/{entry['id']}")).json()
    assert original["rebooked_by_id"] == again["id"]
    twice = client.post(diary_url(nqsw), json={"day": "2026-12-10", "purpose": "study",
                                               "rebooked_from_id": entry["id"]})
    assert twice.status_code == 409
    assert twice.json()["detail"][0]["loc"] == ["body", "rebooked_from_id"]
    not_lost = client.post(diary_url(nqsw), json={"day": "2026-12-11", "purpose": "study",
                                                  "rebooked_from_id": again["id"]})
    refused(not_lost, "rebooked_from_id", "only cancelled or displaced time is rebooked")
    refused(by_manager.post(url, json={"reason": "again"}),
            ["path", "entry_id"], "only booked time can be cancelled")
    actions = set(db_session.exec(
        select(AuditEvent.action).where(AuditEvent.nqsw_id == nqsw,
                                        col(AuditEvent.action).like("protected_time.%"))
    ).all())
    assert {"protected_time.book", "protected_time.cancel"} <= actions


def test_a_cancelled_day_left_unbooked_is_reported_by_the_rule(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, team_id=team)
    entry = book(client, nqsw, "2026-12-02")
    cancelled = signed_in_as(client_as, db_session, manager).post(
        diary_url(nqsw, f"/{entry['id']}/cancel"),
        json={"reason": "duty cover", "cancelled_on": "2026-11-27"})
    assert cancelled.status_code == 200, cancelled.text
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-12-15"}).json()
    rebook = next(c for c in summary["checks"] if c["check"] == "rebooking")
    assert rebook["ok"] is False
    assert summary["on_track"] is False
    assert "not rebooked within 10 working days" in summary["on_track_reason"]


def test_displaced_days_are_kept_for_rebooking(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    before = book(client, nqsw, "2026-12-01")
    inside = [book(client, nqsw, day)["id"] for day in ("2026-12-08", "2027-01-12")]
    paused = client.post(f"/api/v1/nqsws/{nqsw}/pause",
                         json={"start_date": "2026-12-07", "reason": "health"},
                         params={"on": "2026-12-04"})
    assert paused.status_code == 200, paused.text
    assert sorted(paused.json()["displaced_protected_time"]) == sorted(inside)
    diary = client.get(diary_url(nqsw), params={"on": "2026-12-04"}).json()
    statuses = {e["id"]: e["status"] for e in diary["data"]}
    assert statuses == {before["id"]: "booked", inside[0]: "displaced", inside[1]: "displaced"}
    assert [d["id"] for d in diary["summary"]["displaced"]] == inside
    assert all(d["displaced_by_pause_id"] for d in diary["summary"]["displaced"])
    # No booking inside the pause; after the return, the displaced days are rebooked.
    refused(client.post(diary_url(nqsw), json={"day": "2027-01-13", "purpose": "study"}),
            "day", "inside the programme's pause (health) from 2026-12-07 until further notice")
    resumed = client.post(f"/api/v1/nqsws/{nqsw}/resume", json={"resumed_on": "2027-01-04"},
                          params={"on": "2027-01-04"})
    # Back on 4 January: the booking after the return stands again; the one inside the
    # pause stays displaced, waiting to be rebooked.
    assert resumed.json()["restored_protected_time"] == [inside[1]]
    assert client.get(diary_url(nqsw, f"/{inside[1]}")).json()["status"] == "booked"
    refused(client.post(diary_url(nqsw), json={"day": "2026-12-09", "purpose": "study"}),
            "day", "from 2026-12-07 to 2027-01-03")
    again = book(client, nqsw, "2027-01-13", on="2027-01-04", rebooked_from_id=inside[0])
    assert again["rebooked_from_id"] == inside[0]
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2027-01-04"}).json()
    assert [(d["id"], d["rebooked_by_id"]) for d in summary["displaced"]] == [
        (inside[0], again["id"])]
    # 1 December is past and was never marked taken: it has lapsed, not "booked ahead".
    assert summary["booked"]["count"] == 2
    assert summary["lapsed"] == {"hours": 7.4, "days": 1.0, "count": 1}
    assert [b["id"] for b in summary["lapsed_bookings"]] == [before["id"]]


def test_unknown_nqsw_and_entry_are_404(client: TestClient) -> None:
    assert client.get(diary_url(987654)).status_code == 404
    nqsw = make_nqsw(client)
    assert client.get(diary_url(nqsw, "/987654")).status_code == 404
    other = make_nqsw(client)
    entry = book(client, other, "2026-12-01")
    assert client.get(diary_url(nqsw, f"/{entry['id']}")).status_code == 404


def test_filters_and_pages(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    for day in ("2026-12-01", "2026-12-08", "2026-12-15"):
        book(client, nqsw, day)
    page = client.get(diary_url(nqsw), params={"from": "2026-12-05", "limit": 1}).json()
    assert page["count"] == 2 and [e["day"] for e in page["data"]] == ["2026-12-08"]
    assert client.get(diary_url(nqsw), params={"status": "taken"}).json()["count"] == 0
    assert client.get(diary_url(nqsw), params={"status": "lost"}).status_code == 422


def test_summary_before_the_start(client: TestClient) -> None:
    nqsw = make_nqsw(client, start=date(2027, 1, 4).isoformat())
    summary = client.get(diary_url(nqsw, "/summary"), params={"on": "2026-11-23"}).json()
    assert summary["on_track"] is True
    assert summary["accrued"]["hours"] == 0


def test_diary_facts_are_loaded_in_a_constant_number_of_queries(
    client: TestClient, db_session: Session
) -> None:
    from sqlalchemy import event

    from app.services.diary_facts import load_diary_facts

    enrolments = []
    for _ in range(4):
        nqsw = make_nqsw(client)
        book(client, nqsw, "2026-12-01")
        book(client, nqsw, "2026-12-08")
        enrolments.append(client.get(f"/api/v1/nqsws/{nqsw}").json()["enrolment"]["id"])
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        statements.append(str(args[2]))

    bind = db_session.connection()
    event.listen(bind, "before_cursor_execute", count_statement)
    try:
        one = load_diary_facts(db_session, enrolments[:1], date(2026, 12, 2))
        few = len(statements)
        every = load_diary_facts(db_session, enrolments, date(2026, 12, 2))
    finally:
        event.remove(bind, "before_cursor_execute", count_statement)
    assert few == 1 and len(statements) == 2
    assert set(every) == set(enrolments)
    facts = every[enrolments[0]]
    assert [e.day for e in facts.protected_time] == [date(2026, 12, 1), date(2026, 12, 8)]
    assert one[enrolments[0]] == facts


# --- the audit's gaps: overlaps, past moves, taking in advance, weekly limits ------------


def test_a_half_day_holds_its_morning_or_afternoon(client: TestClient) -> None:
    """A half day holds 09:00-13:00 (morning) or 13:00-17:00 (afternoon) on a 7.4-hour
    day, so a timed booking cannot overlap it unnoticed, whichever is booked first."""
    nqsw = make_nqsw(client)
    morning = book(client, nqsw, "2026-12-07", length="half_day", half="am")
    assert (morning["from_time"], morning["until_time"]) == ("09:00:00", "13:00:00")
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "purpose": "study", "length": "hours",
                              "hours": 2, "start_time": "09:30:00"}),
            "start_time", f"overlaps booking {morning['id']}, the morning of 2026-12-07 "
                          "(09:00 to 13:00)")
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "purpose": "study", "length": "hours",
                              "hours": 1, "start_time": "12:30:00"}),
            "start_time", "overlaps booking")
    # After the morning ends, and before the day starts, is free.
    after = book(client, nqsw, "2026-12-07", length="hours", hours=2, start_time="13:00:00")
    assert (after["from_time"], after["until_time"]) == ("13:00:00", "15:00:00")
    book(client, nqsw, "2026-12-07", length="hours", hours=1, start_time="08:00:00")
    # The afternoon now overlaps the 13:00 booking: refused on the half the form asks.
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "purpose": "study", "length": "half_day",
                              "half": "pm"}),
            "half", f"the afternoon of 2026-12-07 (13:00 to 17:00) overlaps booking "
                    f"{after['id']}, 2026-12-07 from 13:00 to 15:00")
    # Timed first, then the half day over it.
    timed = book(client, nqsw, "2026-12-08", length="hours", hours=1, start_time="11:00:00")
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-08", "purpose": "study", "length": "half_day",
                              "half": "am"}),
            "half", f"overlaps booking {timed['id']}")
    assert book(client, nqsw, "2026-12-08", length="half_day", half="pm")["status"] == "booked"
    # Moving a timed booking into a booked morning is refused the same way.
    other = book(client, nqsw, "2026-12-09", length="hours", hours=1, start_time="15:00:00")
    refused(client.post(diary_url(nqsw, f"/{other['id']}/move"), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "start_time": "10:00:00"}),
            "start_time", f"overlaps booking {morning['id']}")


def test_a_booking_that_has_happened_is_not_moved(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    past = book(client, nqsw, "2026-11-25")
    refused(client.post(diary_url(nqsw, f"/{past['id']}/move"), params={"on": "2026-11-26"},
                        json={"day": "2026-12-02"}),
            ["path", "entry_id"], "was for 2026-11-25, before 2026-11-26")
    ahead = book(client, nqsw, "2026-12-07")
    refused(client.post(diary_url(nqsw, f"/{ahead['id']}/move"), params={"on": "2026-11-26"},
                        json={"day": "2026-11-24"}),
            "day", "2026-11-24 is in the past (before 2026-11-26)")
    # A booking for today can still be moved, to today or later.
    today = book(client, nqsw, "2026-11-26")
    moved = client.post(diary_url(nqsw, f"/{today['id']}/move"), params={"on": "2026-11-26"},
                        json={"day": "2026-11-27"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["day"] == "2026-11-27"


def test_time_is_marked_taken_once_it_has_happened(
    client: TestClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.models import Breach

    monkeypatch.setattr("app.schemas.common.today", lambda: date(2026, 12, 1))
    nqsw = make_nqsw(client)
    later = book(client, nqsw, "2027-03-03")
    taken_url = diary_url(nqsw, f"/{later['id']}/taken")
    # Confirming a day months ahead, on 1 December 2026 (no `on`: today), is refused.
    refused(client.post(taken_url, json={"taken_on": "2027-03-03"}),
            "taken_on", "2027-03-03 is after 2026-12-01, the date of this request")
    refused(client.post(taken_url, json={"taken_on": "2027-03-02"},
                        params={"on": "2027-03-10"}),
            "taken_on", "can be marked taken on or after that day")
    done = client.post(taken_url, json={"taken_on": "2027-03-04"}, params={"on": "2027-03-10"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["taken_on"]) == ("taken", "2027-03-04")
    assert body["taken_at"] is not None
    assert client.get(diary_url(nqsw, f"/{later['id']}")).json()["taken_on"] == "2027-03-04"
    event = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "protected_time.take",
                                 AuditEvent.entity_id == str(later["id"]))
    ).one()
    assert event.effective_on == date(2027, 3, 4)
    # The re-evaluation ran as of the request's date, never later.
    opened = db_session.exec(select(Breach.opened_on).where(Breach.staff_id == nqsw)).all()
    assert opened and max(opened) <= date(2027, 3, 10)
    # Without a body, the confirmation is dated the request's `on`.
    other = book(client, nqsw, "2026-11-25")
    plain = client.post(diary_url(nqsw, f"/{other['id']}/taken"), params={"on": "2026-11-27"})
    assert plain.json()["taken_on"] == "2026-11-27"


def test_a_week_holds_no_more_protected_time_than_the_contracted_hours(
    client: TestClient,
) -> None:
    """A 0.6 FTE NQSW (22.2 hours a week) books at most 22.2 hours in one week."""
    nqsw = make_nqsw(client, contracted_hours=22.2, fte=0.6)
    for day in ("2026-11-30", "2026-12-01", "2026-12-02"):
        book(client, nqsw, day)
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-03", "purpose": "study"}),
            "day", "the week beginning 2026-11-30 already has 22.2 hours of protected time "
                   "booked; with 7.4 more it would pass the 22.2 hours contracted for a week")
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-04", "purpose": "study", "length": "hours",
                              "hours": 0.25}),
            "day", "22.2 hours contracted for a week")
    # The next week is empty; and a move inside the week does not count itself twice.
    nxt = book(client, nqsw, "2026-12-07")
    moved = client.post(diary_url(nqsw, f"/{nxt['id']}/move"), params={"on": "2026-11-23"},
                        json={"day": "2026-12-09"})
    assert moved.status_code == 200, moved.text
    first = client.get(diary_url(nqsw), params={"on": "2026-11-23", "to": "2026-12-01"})
    entry = first.json()["data"][0]
    refused(client.post(diary_url(nqsw, f"/{nxt['id']}/move"), params={"on": "2026-11-23"},
                        json={"day": "2026-12-04"}), "day", "the week beginning 2026-11-30")
    assert entry["day"] == "2026-11-30"
    # Full time, 37 hours: five full days fit.
    full = make_nqsw(client)
    for day in ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"):
        book(client, full, day)


@pytest.mark.parametrize("value", ["09:00:00+05:00", "09:00Z", "09:00:00-01:00"])
def test_times_with_a_utc_offset_are_refused(client: TestClient, value: str) -> None:
    nqsw = make_nqsw(client)
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "purpose": "study", "length": "hours",
                              "hours": 2, "start_time": value}),
            "start_time", "without a UTC offset")
    entry = book(client, nqsw, "2026-12-08", length="hours", hours=2, start_time="09:00")
    assert entry["start_time"] == "09:00:00"
    refused(client.post(diary_url(nqsw, f"/{entry['id']}/move"), params={"on": "2026-11-23"},
                        json={"day": "2026-12-09", "start_time": value}),
            "start_time", "without a UTC offset")
    refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                        json={"day": "2026-12-07", "purpose": "study", "length": "hours",
                              "hours": 2, "start_time": "25:00"}),
            "start_time", "HH:MM")


def test_the_schema_describes_local_times_as_they_are_returned(client: TestClient) -> None:
    """JSON Schema's `format: time` needs an offset; these times never have one."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ProtectedTimePublic", "ProtectedTimeCreate", "ProtectedTimeMove",
                 "SupervisionPublic", "SupervisionCreate"):
        field = schemas[name]["properties"]["start_time"]
        text = next(option for option in field["anyOf"] if option.get("type") == "string")
        assert "format" not in text, name
        pattern = re.compile(text["pattern"])
        assert pattern.match("10:00:00") and pattern.match("09:30")
        assert not pattern.match("10:00:00+05:00")


def test_a_booking_by_the_hour_is_at_least_a_quarter_of_an_hour(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    for hours in (0.001, 0.2, 0):
        refused(client.post(diary_url(nqsw), params={"on": "2026-11-23"},
                            json={"day": "2026-12-07", "purpose": "study", "length": "hours",
                                  "hours": hours}),
                "hours", "book at least 0.25 hours (a quarter of an hour)")
    assert book(client, nqsw, "2026-12-07", length="hours", hours=0.25)["hours"] == 0.25
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    hours = schema["ProtectedTimeCreate"]["properties"]["hours"]["anyOf"][0]
    assert hours["minimum"] == 0.25


def test_past_bookings_never_marked_taken_have_lapsed(client: TestClient) -> None:
    """By week 6 half the year's time should be in the diary: days gone by without being
    marked taken do not count, days still ahead and days taken do."""
    lapsing = make_nqsw(client)
    days = [date(2026, 9, d) for d in (2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17)]
    for day in days:
        book(client, lapsing, day.isoformat(), on="2026-09-01")
    summary = client.get(diary_url(lapsing, "/summary"), params={"on": "2026-10-12"}).json()
    ahead = next(c for c in summary["checks"] if c["check"] == "diarised_ahead")
    assert ahead["ok"] is False and ahead["measured"] == 0
    assert summary["lapsed"]["count"] == 12
    assert summary["lapsed"]["hours"] == pytest.approx(12 * 7.4)
    assert summary["booked"]["count"] == 0
    assert [b["day"] for b in summary["lapsed_bookings"]] == [d.isoformat() for d in days]
    assert summary["unbooked"]["hours"] == summary["entitlement"]["hours"]
    # Marked taken, the same days count.
    listed = client.get(diary_url(lapsing), params={"on": "2026-10-12"}).json()["data"]
    for entry in listed:
        client.post(diary_url(lapsing, f"/{entry['id']}/taken"), params={"on": "2026-10-12"})
    summary = client.get(diary_url(lapsing, "/summary"), params={"on": "2026-10-12"}).json()
    ahead = next(c for c in summary["checks"] if c["check"] == "diarised_ahead")
    assert ahead["ok"] is True and ahead["measured"] == pytest.approx(12 * 7.4)
    assert summary["lapsed"]["count"] == 0
    # Booked ahead (not yet past) counts too.
    planner = make_nqsw(client)
    for day in days:
        book(client, planner, (day + timedelta(weeks=9)).isoformat(), on="2026-09-01")
    summary = client.get(diary_url(planner, "/summary"), params={"on": "2026-10-12"}).json()
    ahead = next(c for c in summary["checks"] if c["check"] == "diarised_ahead")
    assert ahead["ok"] is True and summary["booked"]["count"] == 12


def test_the_worked_example_in_the_docs(client: TestClient) -> None:
    """docs/diary.md: Amira (full-time) and Ben (0.6 FTE), both from 1 September 2026."""
    amira = make_nqsw(client)
    view = client.get(diary_url(amira, "/entitlement"), params={"on": "2026-11-23"}).json()
    working = view["working"]
    assert (working["weekdays"], working["bank_holidays_excluded"],
            working["working_days"]) == (261, 8, 253)
    assert view["programme_last_day"] == "2027-08-31"
    assert view["hours"] == pytest.approx(167.97, abs=0.005)
    assert view["days"] == pytest.approx(22.7, abs=0.005)
    assert view["accrued_hours"] == pytest.approx(39.84, abs=0.005)
    assert view["accrued_days"] == pytest.approx(5.38, abs=0.005)
    ben = make_nqsw(client, contracted_hours=22.2, fte=0.6)
    view = client.get(diary_url(ben, "/entitlement"), params={"on": "2026-11-23"}).json()
    assert view["hours"] == pytest.approx(100.78, abs=0.005)
    assert view["days"] == pytest.approx(13.62, abs=0.005)
    # Diarised ahead: half the year's 167.97 hours by 12 October.
    summary = client.get(diary_url(amira, "/summary"), params={"on": "2026-10-12"}).json()
    ahead = next(c for c in summary["checks"] if c["check"] == "diarised_ahead")
    assert ahead["limit"] == pytest.approx(83.98, abs=0.011)
    # On track on 23 November: 80% of 39.84 hours earned.
    summary = client.get(diary_url(amira, "/summary"), params={"on": "2026-11-23"}).json()
    track = next(c for c in summary["checks"] if c["check"] == "on_track")
    assert track["limit"] == pytest.approx(31.87, abs=0.005)
