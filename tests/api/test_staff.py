"""Staff over HTTP: joining, finding, correcting and leaving (never deleting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.testing import make_staff as make_test_staff
from app.models import Staff


def make_team(client: TestClient, name: str = "Alpha", area: str = "North") -> int:
    areas = client.get("/api/v1/service-areas").json()["data"]
    found = [a["id"] for a in areas if a["name"] == area]
    area_id = found[0] if found else client.post(
        "/api/v1/service-areas", json={"name": area}
    ).json()["id"]
    response = client.post("/api/v1/teams", json={"name": name, "service_area_id": area_id})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_staff(client: TestClient, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Sam Worker",
        "email": "sam@example.org",
        "role": "social_worker",
        "start_date": "2025-01-06",
    }
    body.update(fields)
    response = client.post("/api/v1/staff", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_staff_round_trip(client: TestClient) -> None:
    team_id = make_team(client)
    created = make_staff(client, email=" Sam@Example.ORG ", team_id=team_id, fte=0.6,
                         contracted_hours=22.2, experienced=True)
    assert created["email"] == "sam@example.org"
    assert created["fte"] == 0.6 and created["team_id"] == team_id and created["experienced"]
    fetched = client.get(f"/api/v1/staff/{created['id']}")
    assert fetched.status_code == 200 and fetched.json() == created


def test_duplicate_email_is_409_naming_it(client: TestClient) -> None:
    make_staff(client)
    response = client.post("/api/v1/staff", json={
        "name": "Other", "email": "SAM@example.org", "role": "nqsw", "start_date": "2025-01-01",
    })
    assert response.status_code == 409
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "email"] and "sam@example.org" in detail["msg"]


def test_list_filters_and_pagination(client: TestClient) -> None:
    before = {row["id"] for row in client.get("/api/v1/staff").json()["data"]}
    alpha, beta = make_team(client, "Alpha"), make_team(client, "Beta")
    make_staff(client, name="Ann Able", email="ann@x.org", role="nqsw", team_id=alpha)
    make_staff(client, name="Bob Baker", email="bob@x.org", role="team_manager", team_id=alpha)
    make_staff(client, name="Cat Cole", email="cat@x.org", role="nqsw", team_id=beta,
               start_date="2026-03-01")
    make_staff(client, name="Dan Dale", email="dan@y.org", role="nqsw", team_id=beta,
               leave_date="2025-06-30")

    def names(**params: Any) -> list[str]:
        response = client.get("/api/v1/staff", params=params)
        assert response.status_code == 200, response.text
        return [row["name"] for row in response.json()["data"] if row["id"] not in before]

    assert names() == ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale"]
    assert names(role="nqsw") == ["Ann Able", "Cat Cole", "Dan Dale"]
    assert names(team_id=alpha) == ["Ann Able", "Bob Baker"]
    assert names(active=True, on="2025-06-29") == ["Ann Able", "Bob Baker", "Dan Dale"]
    assert names(active=True, on="2025-06-30") == ["Ann Able", "Bob Baker"]
    assert names(active=True, on="2026-03-01") == ["Ann Able", "Bob Baker", "Cat Cole"]
    assert names(active=False, on="2026-03-01") == ["Dan Dale"]
    assert names(q="BAK") == ["Bob Baker"]
    assert names(q="@y.org") == ["Dan Dale"]
    assert names(q="%") == []
    page = client.get("/api/v1/staff", params={"limit": 2, "offset": 1, "q": "x.org"}).json()
    assert page["count"] == 3 and [r["name"] for r in page["data"]] == ["Bob Baker", "Cat Cole"]


def test_patch_corrects_and_is_audited(client: TestClient) -> None:
    staff = make_staff(client)
    response = client.patch(f"/api/v1/staff/{staff['id']}", json={"fte": 0.8, "name": "Sam W"})
    assert response.status_code == 200
    assert response.json()["fte"] == 0.8 and response.json()["name"] == "Sam W"
    events = client.get("/api/v1/audit", params={"action": "staff.update"}).json()["data"]
    assert events[0]["entity_id"] == str(staff["id"])
    # An FTE alone brings its hours with it: 0.8 of the 37-hour week.
    assert events[0]["before"] == {"fte": 1.0, "contracted_hours": 37.0, "name": "Sam Worker"}
    assert events[0]["after"] == {"fte": 0.8, "contracted_hours": 29.6, "name": "Sam W"}


def test_patch_refuses_bad_corrections(client: TestClient) -> None:
    staff = make_staff(client)
    make_staff(client, email="taken@example.org")
    url = f"/api/v1/staff/{staff['id']}"
    cases = [
        ({"email": "TAKEN@example.org"}, 409, ["body", "email"]),
        ({"leave_date": "2024-12-31"}, 422, ["body", "leave_date"]),
        ({"start_date": "2030-01-01", "leave_date": "2029-01-01"}, 422, ["body", "leave_date"]),
        ({"name": None}, 422, ["body", "name"]),
        ({"fte": 0}, 422, ["body", "fte"]),
        ({"role": "wizard"}, 422, ["body", "role"]),
        ({"team_id": 987654}, 404, ["body", "team_id"]),
        ({"id": 5}, 422, ["body", "id"]),
    ]
    for body, code, loc in cases:
        response = client.patch(url, json=body)
        assert response.status_code == code, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, body
    assert client.get(url).json()["email"] == "sam@example.org"


def test_leaving_keeps_the_record(client: TestClient) -> None:
    staff = make_staff(client)
    url = f"/api/v1/staff/{staff['id']}"
    early = client.post(f"{url}/leave", json={"on": "2024-01-01"})
    assert early.status_code == 422 and early.json()["detail"][0]["loc"] == ["body", "on"]
    left = client.post(f"{url}/leave", json={"on": "2026-02-28"})
    assert left.status_code == 200 and left.json()["leave_date"] == "2026-02-28"
    again = client.post(f"{url}/leave", json={"on": "2026-03-01"})
    assert again.status_code == 422
    assert client.get(url).status_code == 200
    active = client.get("/api/v1/staff", params={"active": True, "on": "2026-02-28",
                                                  "q": "sam@"}).json()
    assert active["count"] == 0
    assert client.get("/api/v1/audit", params={"action": "staff.leave"}).json()["count"] == 1


def test_leave_defaults_to_today(client: TestClient) -> None:
    staff = make_staff(client)
    response = client.post(f"/api/v1/staff/{staff['id']}/leave")
    assert response.status_code == 200 and response.json()["leave_date"] is not None


def test_unknown_staff_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/staff/424242").status_code == 404
    assert client.patch("/api/v1/staff/424242", json={"fte": 0.5}).status_code == 404
    assert client.post("/api/v1/staff/424242/leave", json={"on": "2026-01-01"}).status_code == 404


def test_lists_keep_to_what_the_caller_may_see(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    alpha, beta = make_team(client, "Alpha"), make_team(client, "Beta")
    manager = make_test_staff(db_session, "team_manager", team_id=alpha, name="Tess Manager")
    client.patch(f"/api/v1/teams/{alpha}", json={"manager_id": manager.id})
    ann = make_staff(client, name="Ann Able", email="ann@x.org", role="nqsw", team_id=alpha)
    make_staff(client, name="Bea Best", email="bea@x.org", role="nqsw", team_id=beta)
    nqsw = client.post("/api/v1/nqsws", json={
        "name": "Nia New", "email": "nia@x.org", "programme": "asye",
        "start_date": "2026-01-05", "team_id": alpha}).json()
    client.post("/api/v1/nqsws", json={
        "name": "Ola Other", "email": "ola@x.org", "programme": "asye",
        "start_date": "2026-01-05", "team_id": beta})
    own = client.post("/api/v1/cases", json={
        "reference": "A-1", "category": "early_help", "complexity": 1,
        "opened_on": "2026-01-05", "team_id": alpha}).json()
    client.post("/api/v1/cases", json={
        "reference": "B-1", "category": "early_help", "complexity": 1,
        "opened_on": "2026-01-05", "team_id": beta})

    as_manager = client_as(manager)
    staff = as_manager.get("/api/v1/staff").json()["data"]
    assert [s["name"] for s in staff] == ["Ann Able", "Nia New", "Tess Manager"]
    nqsws = as_manager.get("/api/v1/nqsws", params={"on": "2026-02-01"}).json()["data"]
    assert [n["name"] for n in nqsws] == ["Nia New"]
    cases = as_manager.get("/api/v1/cases").json()["data"]
    assert [c["id"] for c in cases] == [own["id"]]

    as_ann = client_as(db_session.get(Staff, ann["id"]))
    assert [s["name"] for s in as_ann.get("/api/v1/staff").json()["data"]] == ["Ann Able"]
    assert as_ann.get("/api/v1/cases").json()["count"] == 0
    assert nqsw["id"] not in [n["id"] for n in as_ann.get("/api/v1/nqsws").json()["data"]]


def test_hours_follow_the_fte_when_left_out(client: TestClient) -> None:
    part_time = make_staff(client, email="pt@example.org", fte=0.6)
    assert part_time["fte"] == 0.6 and part_time["contracted_hours"] == 22.2
    hours_only = make_staff(client, email="ho@example.org", contracted_hours=36)
    assert hours_only["fte"] == 1.0 and hours_only["contracted_hours"] == 36
    default = make_staff(client, email="df@example.org")
    assert default["fte"] == 1.0 and default["contracted_hours"] == 37.0
    refused = client.post("/api/v1/staff", json={
        "name": "Odd", "email": "odd@example.org", "role": "social_worker",
        "start_date": "2025-01-06", "fte": 0.6, "contracted_hours": 37})
    assert refused.status_code == 422
    detail = refused.json()["detail"][0]
    assert detail["loc"] == ["body", "contracted_hours"]
    assert "full-time week of 61.7 hours" in detail["msg"]
