"""Service areas and teams over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.testing import make_staff


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


def test_team_in_unknown_service_area_is_404_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/teams", json={"name": "Alpha", "service_area_id": 999})
    assert response.status_code == 404
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


def test_lists_are_as_of_on_and_a_future_closure_hides_nothing_yet(client: TestClient) -> None:
    area = client.post("/api/v1/service-areas", json={"name": "East"}).json()
    team = client.post("/api/v1/teams", json={"name": "Gamma", "service_area_id": area["id"]})
    assert team.status_code == 201, team.text
    for path in (f"/api/v1/teams/{team.json()['id']}/close",
                 f"/api/v1/service-areas/{area['id']}/close"):
        assert client.post(path, json={"on": "2027-03-01"}).status_code == 200

    def names(path: str, **params: object) -> list[str]:
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        return [row["name"] for row in response.json()["data"]]

    for path, name in (("/api/v1/teams", "Gamma"), ("/api/v1/service-areas", "East")):
        assert names(path, on="2027-02-28") == [name]  # open until its closing day
        assert names(path, on="2027-03-01") == []  # closed_on is the first day closed
        assert names(path, on="2027-03-01", include_closed=True) == [name]
    assert names("/api/v1/teams") == ["Gamma"]  # today is before the closure
    assert client.get("/api/v1/teams", params={"on": "2027-02-30"}).status_code == 422


def test_changes_are_audited_with_the_actor_and_the_day_they_take_effect(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    admin = make_staff(db_session, "admin")
    senior = make_staff(db_session, "senior_manager")
    manager = make_staff(db_session, "team_manager")
    as_admin = client_as(admin)  # commits the people above
    area = as_admin.post("/api/v1/service-areas", json={"name": "West"}).json()
    team = as_admin.post("/api/v1/teams", json={"name": "Delta", "service_area_id": area["id"]})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    changed = as_admin.patch(f"/api/v1/service-areas/{area['id']}",
                             json={"senior_manager_id": senior.id}, params={"on": "2026-04-01"})
    assert changed.status_code == 200, changed.text
    assert as_admin.patch(f"/api/v1/teams/{team_id}",
                          json={"manager_id": manager.id, "on": "2026-04-02"}).status_code == 200
    assert as_admin.post(f"/api/v1/teams/{team_id}/close",
                         json={"on": "2026-05-01"}).status_code == 200

    def events(entity: str, entity_id: int) -> dict[str, dict[str, object]]:
        rows = client.get("/api/v1/audit", params={"entity": entity,
                                                   "entity_id": entity_id}).json()["data"]
        return {row["action"]: row for row in rows}

    area_events = events("service_area", area["id"])
    team_events = events("team", team_id)
    for event in (*area_events.values(), *team_events.values()):
        assert event["actor_id"] == admin.id, event
    assert area_events["service_area.update"]["effective_on"] == "2026-04-01"
    assert area_events["service_area.update"]["after"] == {"senior_manager_id": senior.id}
    assert team_events["team.update"]["effective_on"] == "2026-04-02"
    assert team_events["team.close"]["effective_on"] == "2026-05-01"
    assert team_events["team.close"]["after"] == {"closed_on": "2026-05-01"}


def test_the_people_named_must_hold_the_right_role(
    client: TestClient, db_session: Session
) -> None:
    worker = make_staff(db_session, "social_worker")
    senior = make_staff(db_session, "senior_manager")
    db_session.commit()  # a refused request rolls back to here, not past these people
    refused = client.post("/api/v1/service-areas",
                          json={"name": "North", "senior_manager_id": worker.id})
    assert refused.status_code == 422
    detail = refused.json()["detail"][0]
    assert detail["loc"] == ["body", "senior_manager_id"]
    assert "social worker, not a senior manager" in detail["msg"]
    area = client.post("/api/v1/service-areas", json={"name": "North",
                                                      "senior_manager_id": senior.id})
    assert area.status_code == 201, area.text
    team = client.post("/api/v1/teams", json={"name": "Alpha", "service_area_id": area.json()["id"],
                                              "manager_id": senior.id})
    assert team.status_code == 422
    assert team.json()["detail"][0]["loc"] == ["body", "manager_id"]


def test_no_team_in_a_closed_service_area(client: TestClient) -> None:
    old = client.post("/api/v1/service-areas", json={"name": "Old"}).json()
    new = client.post("/api/v1/service-areas", json={"name": "New"}).json()
    team = client.post("/api/v1/teams", json={"name": "Eta", "service_area_id": new["id"]}).json()
    assert client.post(f"/api/v1/service-areas/{old['id']}/close",
                       json={"on": "2026-01-01"}).status_code == 200
    for response in (
        client.post("/api/v1/teams", json={"name": "Zeta", "service_area_id": old["id"]}),
        client.patch(f"/api/v1/teams/{team['id']}", json={"service_area_id": old["id"]}),
    ):
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "service_area_id"]
        assert "closed on 2026-01-01" in detail["msg"]


def test_names_are_unique_ignoring_case(client: TestClient) -> None:
    area = client.post("/api/v1/service-areas", json={"name": "North"}).json()
    client.post("/api/v1/teams", json={"name": "Alpha", "service_area_id": area["id"]})
    beta = client.post("/api/v1/teams", json={"name": "Beta", "service_area_id": area["id"]})
    for response in (
        client.post("/api/v1/teams", json={"name": "ALPHA", "service_area_id": area["id"]}),
        client.patch(f"/api/v1/teams/{beta.json()['id']}", json={"name": "alpha"}),
    ):
        assert response.status_code == 409, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "name"] and "already exists" in detail["msg"]
    # Renaming a team to its own name in another case is a correction, not a clash.
    same = client.patch(f"/api/v1/teams/{beta.json()['id']}", json={"name": "BETA"})
    assert same.status_code == 200 and same.json()["name"] == "BETA"
