"""The audit trail over HTTP: filtered, newest first, and read only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import AuditEvent


def make_staff(client: TestClient, email: str, role: str = "social_worker") -> int:
    response = client.post("/api/v1/staff", json={
        "name": email, "email": email, "role": role, "start_date": "2020-01-01"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ids_now(client: TestClient) -> set[int]:
    response = client.get("/api/v1/audit", params={"limit": 500})
    return {e["id"] for e in response.json()["data"]}


def events(client: TestClient, before: set[int], **params: Any) -> list[dict[str, Any]]:
    """Events written by this test (any written by the fixtures' own set-up are left out)."""
    response = client.get("/api/v1/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["data"] if e["id"] not in before]


@pytest.fixture
def before(client: TestClient) -> set[int]:
    return ids_now(client)


def test_newest_first_with_filters(client: TestClient, before: set[int]) -> None:
    worker = make_staff(client, "w@example.org")
    nqsw = client.post("/api/v1/nqsws", json={
        "name": "Nina", "email": "nina@example.org", "programme": "asye",
        "start_date": "2026-01-05"}).json()["id"]
    case = client.post("/api/v1/cases", json={
        "reference": "C-1", "category": "early_help", "complexity": 1,
        "opened_on": "2026-01-01"}).json()["id"]
    client.patch(f"/api/v1/cases/{case}", json={"complexity": 2})

    everything = events(client, before)
    assert [e["action"] for e in everything] == [
        "case.update", "case.create", "enrolment.create", "staff.create", "staff.create",
    ]
    stamps = [e["at"] for e in everything]
    assert stamps == sorted(stamps, reverse=True)
    def found(key: str, **params: Any) -> list[Any]:
        return [e[key] for e in events(client, before, **params)]

    assert found("action", action="case.") == ["case.update", "case.create"]
    assert found("action", action="case.create") == ["case.create"]
    assert found("entity", entity="staff") == ["staff", "staff"]
    assert found("entity_id", entity="staff", entity_id=str(worker)) == [str(worker)]
    assert set(found("action", nqsw_id=nqsw)) == {"staff.create", "enrolment.create"}
    assert events(client, before, action="%") == []
    page = client.get("/api/v1/audit", params={"limit": 2, "offset": 1}).json()
    assert page["count"] == 5 + len(before) and [e["action"] for e in page["data"]] == [
        "case.create", "enrolment.create"]
    one = client.get(f"/api/v1/audit/{everything[0]['id']}")
    assert one.status_code == 200 and one.json() == everything[0]
    assert client.get("/api/v1/audit/424242").status_code == 404


def test_by_actor_and_local_date_range(
    client: TestClient, db_session: Session, before: set[int]
) -> None:
    actor = make_staff(client, "tm@example.org", "team_manager")
    stamps = {
        # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST).
        "may": datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
        "june": datetime(2026, 6, 15, 12, 0, tzinfo=UTC),
        "july": datetime(2026, 7, 1, 9, 0, tzinfo=UTC),
    }
    for name, at in stamps.items():
        db_session.add(AuditEvent(at=at, actor_id=actor, action=f"test.{name}", entity="test"))
    db_session.flush()

    def actions(**params: Any) -> list[str]:
        return [e["action"] for e in events(client, before, entity="test", **params)]

    assert actions(actor_id=actor) == ["test.july", "test.june", "test.may"]
    assert actions(recorded_from="2026-06-01", recorded_to="2026-06-30") == [
        "test.june", "test.may"]
    assert actions(recorded_from="2026-06-02") == ["test.july", "test.june"]
    assert actions(recorded_to="2026-05-31") == []
    assert actions(recorded_from="2026-07-01", recorded_to="2026-07-01") == ["test.july"]
    assert actions(actor_id=actor + 1000) == []


def test_from_and_to_select_by_the_date_a_change_takes_effect(
    client: TestClient, db_session: Session, before: set[int]
) -> None:
    """A back-dated change recorded today belongs to the day it takes effect."""
    recorded = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    for name, day in {"march": date(2026, 3, 2), "april": date(2026, 4, 1)}.items():
        db_session.add(AuditEvent(at=recorded, action=f"test.{name}", entity="test",
                                  effective_on=day))
    db_session.flush()

    def actions(**params: Any) -> list[str]:
        return [e["action"] for e in events(client, before, entity="test", **params)]

    assert actions(**{"from": "2026-03-01", "to": "2026-03-31"}) == ["test.march"]
    assert actions(**{"from": "2026-04-01"}) == ["test.april"]
    assert actions(recorded_from="2026-11-30") == ["test.april", "test.march"]


def test_bad_filters_are_422(client: TestClient) -> None:
    backwards = client.get("/api/v1/audit", params={"from": "2026-06-02", "to": "2026-06-01"})
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "to"]
    malformed = client.get("/api/v1/audit", params={"from": "June"})
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["query", "from"]
    wrong = client.get("/api/v1/audit", params={"actor_id": "someone"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["query", "actor_id"]


def test_the_trail_cannot_be_changed_over_the_api(client: TestClient, before: set[int]) -> None:
    make_staff(client, "w@example.org")
    event_id = events(client, before)[0]["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, f"/api/v1/audit/{event_id}", json={})
        assert response.status_code == 405, method
    assert client.delete("/api/v1/audit").status_code == 405
    assert client.post("/api/v1/audit", json={"action": "forged"}).status_code == 405
    assert len(events(client, before)) == 1
