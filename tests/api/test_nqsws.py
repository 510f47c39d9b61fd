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
    # Review points are the supervision policy's: 3, 6, 9 and 12 months on the ASYE.
    assert [r["due_on"] for r in first["reviews"]] == [
        "2026-04-05", "2026-07-05", "2026-10-05", "2027-01-05",
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
    assert [(r["month"], r["due_on"]) for r in detail["progress"]["reviews"]] == [
        (4, "2026-05-05"), (8, "2026-09-05"), (12, "2027-01-05"),
    ]
    workload = client.get(f"/api/v1/nqsws/{nqsw['id']}/workload", params=on).json()
    assert workload["stage"]["next_review"] == {"month": 8, "date": "2026-09-05"}
    log = client.get(f"/api/v1/nqsws/{nqsw['id']}/reviews", params=on).json()
    assert [r["month"] for r in log["reviews"]] == [4, 8, 12]


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
    assert body["enrolment"]["assessor_id"] == manager
    actions = {e["action"] for e in client.get(
        "/api/v1/audit", params={"nqsw_id": nqsw["id"]}).json()["data"]}
    assert {"staff.update", "enrolment.update"} <= actions
    refused = [
        ({"advanced_practitioner_id": manager}, ["body", "advanced_practitioner_id"]),
        ({"assessor_id": nqsw["id"]}, ["body", "assessor_id"]),
        ({"assessor_id": 987654}, ["body", "assessor_id"]),
        ({"fte": 0}, ["body", "fte"]),
        ({"fte": -0.5}, ["body", "fte"]),
        ({"fte": None}, ["body", "fte"]),
        ({"programme": "swip"}, ["body", "programme"]),
    ]
    for body_, loc in refused:
        answer = client.patch(url, json=body_)
        assert answer.status_code == 422, (body_, answer.text)
        assert answer.json()["detail"][0]["loc"] == loc
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
    assert [e["status"] for e in history] == ["withdrawn", "active"]


def test_enrolling_a_social_worker_makes_them_an_nqsw(client: TestClient) -> None:
    worker = make_staff(client, "sw@example.org", "social_worker")
    response = client.post("/api/v1/enrolments", json={
        "staff_id": worker, "programme": "asye", "start_date": "2026-02-02"})
    assert response.status_code == 201, response.text
    assert client.get(f"/api/v1/staff/{worker}").json()["role"] == "nqsw"
    unknown = client.post("/api/v1/enrolments", json={
        "staff_id": 987654, "programme": "asye", "start_date": "2026-02-02"})
    assert unknown.status_code == 422
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
