"""Service areas and teams over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_service_area_round_trip(client: TestClient) -> None:
    created = client.post("/api/v1/service-areas", json={"name": "North"})
    assert created.status_code == 201
    area_id = created.json()["id"]
    assert client.get(f"/api/v1/service-areas/{area_id}").json()["name"] == "North"
    listed = client.get("/api/v1/service-areas").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == area_id


def test_duplicate_service_area_is_409_naming_the_field(client: TestClient) -> None:
    assert client.post("/api/v1/service-areas", json={"name": "North"}).status_code == 201
    response = client.post("/api/v1/service-areas", json={"name": "North"})
    assert response.status_code == 409
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_team_in_unknown_service_area_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/teams", json={"name": "Alpha", "service_area_id": 999})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "service_area_id"]


def test_closed_team_leaves_the_default_list_but_stays_readable(client: TestClient) -> None:
    area = client.post("/api/v1/service-areas", json={"name": "South"}).json()
    team = client.post("/api/v1/teams", json={"name": "Beta", "service_area_id": area["id"]}).json()
    closed = client.post(f"/api/v1/teams/{team['id']}/close", json={"on": "2026-01-31"})
    assert closed.status_code == 200 and closed.json()["closed_on"] == "2026-01-31"
    assert client.get("/api/v1/teams").json()["count"] == 0
    assert client.get("/api/v1/teams", params={"include_closed": True}).json()["count"] == 1
    assert client.get(f"/api/v1/teams/{team['id']}").status_code == 200


def test_unknown_team_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/teams/424242").status_code == 404


def test_blank_name_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/service-areas", json={"name": "   "})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
