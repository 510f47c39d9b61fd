"""NQSWs over HTTP: staff and enrolment created together, and progress in programme time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Enrolment, Pause
from app.policy.registry import load_policy_set
from app.settings import PROJECT_ROOT


def make_area(client: TestClient, name: str) -> int:
    response = client.post("/api/v1/service-areas", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_team(client: TestClient, name: str, area_id: int) -> int:
    response = client.post("/api/v1/teams", json={"name": name, "service_area_id": area_id})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_staff(client: TestClient, email: str, role: str, **fields: Any) -> int:
    body = {"name": email.split("@")[0].title(), "email": email, "role": role,
            "start_date": "2020-01-01", **fields}
    response = client.post("/api/v1/staff", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_nqsw(client: TestClient, email: str = "nina@example.org", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": email.split("@")[0].title(),
        "email": email,
        "programme": "asye",
        "start_date": "2026-01-05",
    }
    body.update(fields)
    response = client.post("/api/v1/nqsws", json=body, params={"on": "2026-01-05"})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_makes_staff_and_enrolment_together(client: TestClient) -> None:
    team = make_team(client, "Alpha", make_area(client, "North"))
    manager = make_staff(client, "tm@example.org", "team_manager", team_id=team)
    ap = make_staff(client, "ap@example.org", "advanced_practitioner", team_id=team)
    nqsw = make_nqsw(client, team_id=team, fte=0.8, contracted_hours=29.6,
                     assessor_id=manager, advanced_practitioner_id=ap,
                     employment_start_date="2026-01-02")
    assert nqsw["role"] == "nqsw" and nqsw["fte"] == 0.8 and nqsw["start_date"] == "2026-01-02"
    enrolment = nqsw["enrolment"]
    assert enrolment["programme"] == "asye" and enrolment["status"] == "active"
    assert enrolment["staff_id"] == nqsw["id"] and enrolment["start_date"] == "2026-01-05"
    assert enrolment["assessor_id"] == manager and enrolment["advanced_practitioner_id"] == ap
    assert nqsw["progress"]["end_date"] == "2027-01-05"
    assert client.get(f"/api/v1/staff/{nqsw['id']}").json()["role"] == "nqsw"
    trail = client.get("/api/v1/audit", params={"nqsw_id": nqsw["id"]}).json()["data"]
    assert [e["action"] for e in trail] == ["enrolment.create", "staff.create"]


def test_a_refused_enrolment_creates_no_staff(client: TestClient) -> None:
    team = make_team(client, "Alpha", make_area(client, "North"))
    worker = make_staff(client, "sw@example.org", "social_worker", team_id=team)
    response = client.post("/api/v1/nqsws", json={
        "name": "Nina", "email": "nina@example.org", "programme": "asye",
        "start_date": "2026-01-05", "advanced_practitioner_id": worker,
    })
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "advanced_practitioner_id"]
    assert client.get("/api/v1/staff", params={"q": "nina"}).json()["count"] == 0
    assert client.get("/api/v1/nqsws").json()["count"] == 0


def test_programme_time_stages_and_end_dates(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw['id']}"

    def progress(on: str) -> dict[str, Any]:
        response = client.get(url, params={"on": on})
        assert response.status_code == 200, response.text
        return response.json()["progress"]

    before = progress("2026-01-04")
    assert before["stage"] == "not_started" and before["month"] is None
    first = progress("2026-01-05")
    assert first["month"] == 1 and first["programme_days"] == 0 and first["stage"] == "months_0_3"
    assert progress("2026-04-04")["months_completed"] == 2
    at_three = progress("2026-04-05")
    assert at_three["months_completed"] == 3 and at_three["stage"] == "months_3_6"
    assert progress("2026-07-05")["stage"] == "months_6_12"
    done = progress("2027-01-05")
    assert done["stage"] == "programme_time_complete" and done["month"] == 12
    # Review points are the supervision policy's: 3, 6, 9 and 12 months on the ASYE, due
    # on the next working day when the month boundary is not one (5 April 2026 is Easter
    # Sunday and the 6th Easter Monday; 5 July 2026 is a Sunday).
    assert [r["due_on"] for r in first["reviews"]] == [
        "2026-04-07", "2026-07-06", "2026-10-05", "2027-01-05",
    ]

    swip = make_nqsw(client, "sid@example.org", programme="swip", start_date="2026-09-01")
    assert swip["progress"]["end_date"] == "2028-09-01"
    year_two = client.get(f"/api/v1/nqsws/{swip['id']}", params={"on": "2027-10-01"}).json()
    assert year_two["progress"]["stage"] == "months_12_24"


@pytest.fixture
def own_review_points(app_on_test_session: FastAPI, tmp_path: Path) -> Iterator[None]:
    """The app runs, for one test, on the shipped policies with ASYE reviews at 4, 8, 12."""
    directory = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    path = directory / "supervision.toml"
    path.write_text(path.read_text().replace("asye = [3, 6, 9, 12]", "asye = [4, 8, 12]"))
    shipped = app_on_test_session.state.policies
    app_on_test_session.state.policies = load_policy_set(directory)
    try:
        yield
    finally:
        app_on_test_session.state.policies = shipped


@pytest.mark.usefixtures("own_review_points")
def test_review_points_are_the_supervision_policys(client: TestClient) -> None:
    """The progress view, the workload view and the review log share one set of points."""
    nqsw = make_nqsw(client)
    on = {"on": "2026-06-01"}
    assert [r["month"] for r in nqsw["progress"]["reviews"]] == [4, 8, 12]
    detail = client.get(f"/api/v1/enrolments/{nqsw['enrolment']['id']}", params=on).json()
    # Month 8 falls on Saturday 5 September 2026: the review is due on the Monday.
    assert [(r["month"], r["due_on"]) for r in detail["progress"]["reviews"]] == [
        (4, "2026-05-05"), (8, "2026-09-07"), (12, "2027-01-05"),
    ]
    workload = client.get(f"/api/v1/nqsws/{nqsw['id']}/workload", params=on).json()
    assert workload["stage"]["next_review"] == {"month": 8, "date": "2026-09-07"}
    log = client.get(f"/api/v1/nqsws/{nqsw['id']}/reviews", params=on).json()
    assert [(r["month"], r["due"]) for r in log["data"]] == [
        (4, "2026-05-05"), (8, "2026-09-07"), (12, "2027-01-05")]


def test_a_pause_moves_every_later_boundary(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client)
    db_session.add(Pause(enrolment_id=nqsw["enrolment"]["id"], start_date=date(2026, 2, 1),
                         end_date=date(2026, 2, 10), reason="health"))
    db_session.flush()
    during = client.get(f"/api/v1/nqsws/{nqsw['id']}", params={"on": "2026-02-05"}).json()
    assert during["progress"]["paused"] is True
    after = client.get(f"/api/v1/nqsws/{nqsw['id']}", params={"on": "2026-04-14"}).json()
    progress = after["progress"]
    assert progress["paused"] is False and progress["paused_days"] == 10
    assert progress["months_completed"] == 2
    assert progress["end_date"] == "2027-01-15"
    assert progress["reviews"][0] == {"month": 3, "due_on": "2026-04-15"}

    open_pause = make_nqsw(client, "olive@example.org")
    db_session.add(Pause(enrolment_id=open_pause["enrolment"]["id"],
                         start_date=date(2026, 3, 1), end_date=None, reason="maternity"))
    db_session.flush()
    paused = client.get(f"/api/v1/nqsws/{open_pause['id']}", params={"on": "2026-08-01"}).json()
    assert paused["progress"]["end_date"] is None and paused["progress"]["months_completed"] == 1


def test_list_filters(client: TestClient, db_session: Session) -> None:
    north, south = make_area(client, "North"), make_area(client, "South")
    alpha, beta = make_team(client, "Alpha", north), make_team(client, "Beta", south)
    ann = make_nqsw(client, "ann@example.org", team_id=alpha)
    bea = make_nqsw(client, "bea@example.org", team_id=beta, programme="swip")
    cal = make_nqsw(client, "cal@example.org", team_id=beta)
    make_staff(client, "sw@example.org", "social_worker", team_id=alpha)
    enrolment = db_session.get(Enrolment, cal["enrolment"]["id"])
    assert enrolment is not None
    enrolment.status = "withdrawn"
    db_session.flush()
    client.post(f"/api/v1/staff/{cal['id']}/leave", json={"on": "2026-06-01"})

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/nqsws", params={"on": "2026-05-01", **params})
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [ann["id"], bea["id"], cal["id"]]
    assert ids(team_id=alpha) == [ann["id"]]
    assert ids(service_area_id=south) == [bea["id"], cal["id"]]
    assert ids(programme="swip") == [bea["id"]]
    assert ids(status="withdrawn") == [cal["id"]]
    assert ids(on="2026-06-01") == [ann["id"], bea["id"]]
    assert ids(on="2026-06-01", include_left=True) == [ann["id"], bea["id"], cal["id"]]
    page = client.get("/api/v1/nqsws", params={"limit": 1, "offset": 1, "on": "2026-05-01"}).json()
    assert page["count"] == 3 and page["data"][0]["id"] == bea["id"]
    assert page["data"][0]["progress"]["stage"]
    assert client.get("/api/v1/nqsws", params={"programme": "diploma"}).status_code == 422


def test_patch_changes_the_people_and_the_pattern(client: TestClient) -> None:
    team = make_team(client, "Alpha", make_area(client, "North"))
    ap = make_staff(client, "ap@example.org", "advanced_practitioner", team_id=team)
    manager = make_staff(client, "tm@example.org", "team_manager", team_id=team)
    nqsw = make_nqsw(client, team_id=team)
    url = f"/api/v1/nqsws/{nqsw['id']}"
    response = client.patch(url, json={"advanced_practitioner_id": ap, "assessor_id": manager,
                                       "fte": 0.5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fte"] == 0.5 and body["enrolment"]["advanced_practitioner_id"] == ap
    assert body["contracted_hours"] == 18.5  # an FTE alone brings its hours with it
    assert body["enrolment"]["assessor_id"] == manager
    actions = {e["action"] for e in client.get(
        "/api/v1/audit", params={"nqsw_id": nqsw["id"]}).json()["data"]}
    assert {"staff.update", "enrolment.update"} <= actions
    refused = [
        ({"advanced_practitioner_id": manager}, ["body", "advanced_practitioner_id"]),
        ({"assessor_id": nqsw["id"]}, ["body", "assessor_id"]),
        ({"fte": 0}, ["body", "fte"]),
        ({"fte": -0.5}, ["body", "fte"]),
        ({"fte": None}, ["body", "fte"]),
        ({"programme": "diploma"}, ["body", "programme"]),
        ({"contracted_hours": 10}, ["body", "contracted_hours"]),  # 10 h at FTE 0.5
        ({"fte": 0.5, "contracted_hours": 37}, ["body", "contracted_hours"]),
        ({"start_date": "2019-12-31"}, ["body", "start_date"]),  # before they joined
    ]
    for body_, loc in refused:
        answer = client.patch(url, json=body_)
        assert answer.status_code == 422, (body_, answer.text)
        assert answer.json()["detail"][0]["loc"] == loc
    missing = client.patch(url, json={"assessor_id": 987654})  # a record that is not there
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"][0]["loc"] == ["body", "assessor_id"]
    assert client.patch("/api/v1/nqsws/424242", json={"fte": 0.5}).status_code == 404


def test_one_open_enrolment_at_a_time(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client)
    again = client.post("/api/v1/enrolments", json={
        "staff_id": nqsw["id"], "programme": "asye", "start_date": "2026-06-01"})
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"] == ["body", "staff_id"]
    enrolment = db_session.get(Enrolment, nqsw["enrolment"]["id"])
    assert enrolment is not None
    enrolment.status, enrolment.ended_on = "withdrawn", date(2026, 3, 1)
    db_session.flush()
    ended = client.get(f"/api/v1/nqsws/{nqsw['id']}", params={"on": "2026-12-01"}).json()
    assert ended["progress"]["months_completed"] == 1  # the clock stopped when it ended
    assert client.patch(f"/api/v1/nqsws/{nqsw['id']}", json={"fte": 0.5}).status_code == 409
    second = client.post("/api/v1/enrolments", json={
        "staff_id": nqsw["id"], "programme": "swip", "start_date": "2026-09-01"})
    assert second.status_code == 201, second.text
    assert second.json()["programme"] == "swip"
    view = client.get(f"/api/v1/nqsws/{nqsw['id']}").json()
    assert view["enrolment"]["id"] == second.json()["id"]
    history = client.get(f"/api/v1/nqsws/{nqsw['id']}/enrolments").json()
    assert history["count"] == 2
    assert [e["status"] for e in history["data"]] == ["withdrawn", "active"]
    # Each as of the date asked about: before the end date the first was still running.
    earlier = client.get(f"/api/v1/nqsws/{nqsw['id']}/enrolments",
                         params={"on": "2026-02-01"}).json()["data"]
    assert [e["status"] for e in earlier] == ["active", "not_started"]


def test_enrolling_a_social_worker_makes_them_an_nqsw(client: TestClient) -> None:
    worker = make_staff(client, "sw@example.org", "social_worker")
    response = client.post("/api/v1/enrolments", json={
        "staff_id": worker, "programme": "asye", "start_date": "2026-02-02"})
    assert response.status_code == 201, response.text
    assert client.get(f"/api/v1/staff/{worker}").json()["role"] == "nqsw"
    unknown = client.post("/api/v1/enrolments", json={
        "staff_id": 987654, "programme": "asye", "start_date": "2026-02-02"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"][0]["loc"] == ["body", "staff_id"]


def test_enrolment_detail(client: TestClient, db_session: Session) -> None:
    nqsw = make_nqsw(client)
    enrolment_id = nqsw["enrolment"]["id"]
    db_session.add(Pause(enrolment_id=enrolment_id, start_date=date(2026, 2, 1),
                         end_date=date(2026, 2, 3), reason="other"))
    db_session.flush()
    detail = client.get(f"/api/v1/enrolments/{enrolment_id}", params={"on": "2026-03-01"})
    assert detail.status_code == 200
    body = detail.json()
    assert body["staff_id"] == nqsw["id"] and body["progress"]["paused_days"] == 3
    assert [p["reason"] for p in body["pauses"]] == ["other"] and body["sign_offs"] == []
    assert client.get("/api/v1/enrolments/424242").status_code == 404
    assert client.get("/api/v1/nqsws/424242").status_code == 404
    worker = make_staff(client, "sw@example.org", "social_worker")
    assert client.get(f"/api/v1/nqsws/{worker}").status_code == 404


# --- status as of `on` ------------------------------------------------------------------


def status_on(client: TestClient, staff_id: int, on: str) -> str:
    response = client.get(f"/api/v1/nqsws/{staff_id}", params={"on": on})
    assert response.status_code == 200, response.text
    return response.json()["enrolment"]["status"]


def test_status_is_worked_out_for_the_date_asked_about(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw['id']}"
    paused = client.post(f"{url}/pause", params={"on": "2026-03-01"},
                         json={"start_date": "2026-03-10", "reason": "health"})
    assert paused.status_code == 200, paused.text
    resumed = client.post(f"{url}/resume", params={"on": "2026-03-01"},
                          json={"resumed_on": "2026-04-01"})
    assert resumed.status_code == 200, resumed.text
    withdrawn = client.post(f"{url}/withdraw", params={"on": "2026-05-01"},
                            json={"ended_on": "2026-06-01", "reason": "other"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert status_on(client, nqsw["id"], "2026-01-04") == "not_started"
    assert status_on(client, nqsw["id"], "2026-03-09") == "active"
    assert status_on(client, nqsw["id"], "2026-03-10") == "paused"
    assert status_on(client, nqsw["id"], "2026-03-31") == "paused"
    assert status_on(client, nqsw["id"], "2026-04-01") == "active"
    assert status_on(client, nqsw["id"], "2026-05-31") == "active"  # before the end date
    assert status_on(client, nqsw["id"], "2026-06-01") == "withdrawn"


def test_a_pause_recorded_for_later_changes_nothing_today(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw['id']}"
    response = client.post(f"{url}/pause", params={"on": "2026-02-01"},
                           json={"start_date": "2026-03-01", "reason": "maternity"})
    assert response.status_code == 200, response.text
    today_ = client.get(url, params={"on": "2026-02-01"}).json()
    assert today_["enrolment"]["status"] == "active" and today_["progress"]["paused"] is False
    assert status_on(client, nqsw["id"], "2026-03-01") == "paused"

    def listed(status: str, on: str) -> list[int]:
        body = client.get("/api/v1/nqsws", params={"status": status, "on": on}).json()
        return [row["id"] for row in body["data"]]

    assert listed("active", "2026-02-01") == [nqsw["id"]]
    assert listed("paused", "2026-02-01") == []
    assert listed("paused", "2026-03-02") == [nqsw["id"]]
    assert listed("active", "2026-03-02") == []


def test_lists_as_of_a_date_leave_out_later_starters(client: TestClient) -> None:
    early = make_nqsw(client, "early@example.org", start_date="2026-01-05")
    late = make_nqsw(client, "late@example.org", start_date="2026-09-01")

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/nqsws", params=params)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    assert ids(on="2026-03-01") == [early["id"]]
    assert ids(on="2026-03-01", status="not_started") == [late["id"]]
    assert ids(on="2026-09-01") == [early["id"], late["id"]]
    assert ids(on="2025-12-31") == []
    assert client.get("/api/v1/nqsws", params={"status": "asleep"}).status_code == 422
    # The enrolments list follows the same rule.
    listed = client.get("/api/v1/enrolments", params={"on": "2026-03-01"}).json()
    assert [e["staff_id"] for e in listed["data"]] == [early["id"]] and listed["count"] == 1
    upcoming = client.get("/api/v1/enrolments",
                          params={"on": "2026-03-01", "status": "not_started"}).json()
    assert [(e["staff_id"], e["status"]) for e in upcoming["data"]] == [
        (late["id"], "not_started")]


def test_a_list_of_many_costs_the_same_queries_as_a_list_of_one(
    client: TestClient, db_session: Session
) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    make_nqsw(client, "one@example.org")
    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/api/v1/nqsws", params={"on": "2026-03-01"})
        one = len(statements)
        assert one > 0
        for n in range(4):
            make_nqsw(client, f"more{n}@example.org")
        statements.clear()
        body = client.get("/api/v1/nqsws", params={"on": "2026-03-01"}).json()
        assert body["count"] == 5
        assert len(statements) == one
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- enrolling and correcting re-evaluate ---------------------------------------------------


def _worker_with_cases(client: TestClient, db_session: Session, cases: int) -> int:
    from app.models import Allocation, Case

    worker = make_staff(client, "sw@example.org", "social_worker")
    for n in range(cases):
        case = Case(reference=f"R-{n}", category="child_in_need", complexity=2,
                    opened_on=date(2026, 1, 2))
        db_session.add(case)
        db_session.flush()
        db_session.add(Allocation(case_id=case.id, worker_id=worker, role="holder",  # type: ignore[arg-type]
                                  start_date=date(2026, 1, 2)))
    db_session.commit()  # a refused request rolls back to here, keeping the cases
    return worker


def open_breaches(client: TestClient, staff_id: int) -> set[str]:
    body = client.get("/api/v1/breaches", params={"staff_id": staff_id, "on": "2026-02-01"})
    assert body.status_code == 200, body.text
    return {b["rule_id"] for b in body.json()["data"] if b["status"] != "resolved"}


def test_enrolling_a_worker_who_holds_cases_opens_the_breach(
    client: TestClient, db_session: Session
) -> None:
    worker = _worker_with_cases(client, db_session, cases=7)
    assert open_breaches(client, worker) == set()
    response = client.post("/api/v1/enrolments", params={"on": "2026-02-01"}, json={
        "staff_id": worker, "programme": "asye", "start_date": "2026-01-05"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert "caseload-cap" in open_breaches(client, worker)


def test_patching_an_enrolment_corrects_it_and_re_evaluates(
    client: TestClient, db_session: Session
) -> None:
    worker = _worker_with_cases(client, db_session, cases=7)
    # Enrolled from a later start: not yet an NQSW on 2026-02-01, so no cap yet.
    created = client.post("/api/v1/enrolments", params={"on": "2026-02-01"}, json={
        "staff_id": worker, "programme": "asye", "start_date": "2026-06-01"})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "not_started"
    assert open_breaches(client, worker) == set()
    enrolment_id = created.json()["id"]
    url = f"/api/v1/enrolments/{enrolment_id}"
    corrected = client.patch(url, params={"on": "2026-02-01"},
                             json={"start_date": "2026-01-05", "programme": "swip"})
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert body["start_date"] == "2026-01-05" and body["programme"] == "swip"
    assert body["status"] == "active" and body["progress"]["end_date"] == "2028-01-05"
    assert "caseload-cap" in open_breaches(client, worker)
    events = client.get("/api/v1/audit", params={"entity": "enrolment",
                                                 "entity_id": enrolment_id}).json()["data"]
    update = next(e for e in events if e["action"] == "enrolment.update")
    assert update["after"] == {"start_date": "2026-01-05", "programme": "swip"}
    assert update["effective_on"] == "2026-02-01"
    # `on` may come in the body instead, but not twice with different dates.
    in_body = client.patch(url, json={"programme": "asye", "on": "2026-02-02"})
    assert in_body.status_code == 200, in_body.text
    clash = client.patch(url, params={"on": "2026-02-01"},
                         json={"programme": "swip", "on": "2026-02-02"})
    assert clash.status_code == 422 and clash.json()["detail"][0]["loc"] == ["body", "on"]


def test_patching_an_enrolment_refuses_bad_corrections(
    client: TestClient, db_session: Session
) -> None:
    team = make_team(client, "Alpha", make_area(client, "North"))
    worker = make_staff(client, "sw2@example.org", "social_worker", team_id=team)
    nqsw = make_nqsw(client)
    url = f"/api/v1/enrolments/{nqsw['enrolment']['id']}"
    db_session.add(Pause(enrolment_id=nqsw["enrolment"]["id"], start_date=date(2026, 3, 1),
                         end_date=date(2026, 3, 5), reason="health"))
    db_session.commit()  # each refused request rolls back to here, keeping the pause
    refused = [
        ({"start_date": "2026-03-02"}, "start_date", "a pause starts on 2026-03-01"),
        ({"start_date": "2025-12-01"}, "start_date", "before staff member"),
        ({"start_date": None}, "start_date", "cannot be empty"),
        ({"start_date": "9999-01-01"}, "start_date", "out of range"),
        ({"programme": "diploma"}, "programme", ""),
        ({"programme": None}, "programme", "cannot be empty"),
        ({"advanced_practitioner_id": worker}, "advanced_practitioner_id", "not an advanced"),
        ({"assessor_id": nqsw["id"]}, "assessor_id", "cannot be an assessor"),
        ({"assessor_id": 987654}, "assessor_id", "not found"),
        ({"status": "completed"}, "status", ""),
    ]
    for body, field, words in refused:
        answer = client.patch(url, json=body)
        missing = words == "not found"  # a missing record named in a body is 404
        assert answer.status_code == (404 if missing else 422), (body, answer.text)
        detail = answer.json()["detail"][0]
        assert detail["loc"] == ["body", field], (body, detail)
        assert words in detail["msg"], (body, detail)
    assert client.patch("/api/v1/enrolments/424242", json={"programme": "swip"}).status_code == 404


def test_enrolments_list_filters_and_pages(client: TestClient) -> None:
    ann = make_nqsw(client, "ann@example.org")
    bea = make_nqsw(client, "bea@example.org", programme="swip", start_date="2026-02-02")

    def listed(**params: Any) -> list[int]:
        response = client.get("/api/v1/enrolments", params={"on": "2026-06-01", **params})
        assert response.status_code == 200, response.text
        return [e["staff_id"] for e in response.json()["data"]]

    assert listed() == [ann["id"], bea["id"]]
    assert listed(staff_id=bea["id"]) == [bea["id"]]
    assert listed(programme="asye") == [ann["id"]]
    assert listed(status="active") == [ann["id"], bea["id"]]
    assert listed(status="withdrawn") == []
    page = client.get("/api/v1/enrolments", params={"on": "2026-06-01", "limit": 1,
                                                    "offset": 1}).json()
    assert page["count"] == 2 and [e["staff_id"] for e in page["data"]] == [bea["id"]]
    assert client.get("/api/v1/enrolments", params={"staff_id": "x"}).status_code == 422


# --- working pattern ------------------------------------------------------------------------


def test_an_fte_without_hours_is_pro_rata(client: TestClient) -> None:
    part_time = make_nqsw(client, "pt@example.org", fte=0.6)
    assert part_time["fte"] == 0.6 and part_time["contracted_hours"] == 22.2
    full_time = make_nqsw(client, "ft@example.org")
    assert full_time["fte"] == 1.0 and full_time["contracted_hours"] == 37.0
    both = make_nqsw(client, "both@example.org", fte=0.8, contracted_hours=30)
    assert both["contracted_hours"] == 30
    for fields in ({"fte": 0.6, "contracted_hours": 37}, {"contracted_hours": 18.5},
                   {"fte": 1, "contracted_hours": 50}):
        response = client.post("/api/v1/nqsws", json={
            "name": "Odd", "email": "odd@example.org", "programme": "asye",
            "start_date": "2026-01-05", **fields})
        assert response.status_code == 422, (fields, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "contracted_hours"], detail
        assert "full-time week" in detail["msg"]


def test_a_closed_team_takes_no_new_nqsw(client: TestClient) -> None:
    team = make_team(client, "Gone", make_area(client, "North"))
    assert client.post(f"/api/v1/teams/{team}/close", json={"on": "2026-01-01"}).status_code == 200
    response = client.post("/api/v1/nqsws", json={
        "name": "Late", "email": "late@example.org", "programme": "asye",
        "start_date": "2026-01-05", "team_id": team})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "team_id"] and "closed on 2026-01-01" in detail["msg"]
