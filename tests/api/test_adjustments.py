"""Individual adjustments over HTTP: approved, dated, checked by the engine, never deleted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.errors import DomainError
from app.models import AuditEvent, Staff
from app.policy.registry import load_policy_set
from app.services.adjustments import check_against_policy
from app.settings import PROJECT_ROOT

CAP = "caseload-cap.bands.0.cap"


def make_staff(client: TestClient, email: str, role: str) -> int:
    response = client.post("/api/v1/staff", json={
        "name": email, "email": email, "role": role, "start_date": "2020-01-01"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def make_nqsw(client: TestClient, email: str = "nina@example.org") -> int:
    response = client.post("/api/v1/nqsws", json={
        "name": "Nina", "email": email, "programme": "asye", "start_date": "2026-01-05"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def agreement(**fields: Any) -> dict[str, Any]:
    """An adjustment's body: who approves it is whoever sends it, never a field."""
    body: dict[str, Any] = {
        "policy_id": "stage-caps",
        "parameter": CAP,
        "value": 4,
        "reason": "Agreed at the 4-week review: a cap of 4 while she settles in.",
        "valid_from": "2026-02-01",
        "valid_to": "2026-03-31",
    }
    body.update(fields)
    return body


def signed_in(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session, role: str
) -> tuple[int, TestClient]:
    """A new staff member of this role (made through the API) and a client signed in as them."""
    staff_id = make_staff(client, f"{role}@example.org", role)
    staff = db_session.get(Staff, staff_id)
    assert staff is not None
    return staff_id, client_as(staff)


def test_record_list_and_end_an_adjustment(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    coordinator, approver = signed_in(client, client_as, db_session, "asye_coordinator")
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw}/adjustments"
    created = approver.post(url, json=agreement(), params={"on": "2026-02-01"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["staff_id"] == nqsw and body["value"] == 4 and body["in_force"] is True
    assert body["valid_to"] == "2026-03-31" and body["approved_by_id"] == coordinator

    listed = client.get(url, params={"on": "2026-02-15"}).json()["data"]
    assert [a["id"] for a in listed] == [body["id"]]
    assert client.get(url, params={"on": "2026-04-01", "in_force": True}).json()["data"] == []
    assert client.get(url, params={"on": "2026-03-31", "in_force": True}).json()["count"] == 1
    assert client.get(url, params={"on": "2026-04-01", "in_force": False}).json()["count"] == 1

    early = approver.post(f"{url}/{body['id']}/end", json={"on": "2026-01-31"})
    assert early.status_code == 422 and early.json()["detail"][0]["loc"] == ["body", "on"]
    ended = approver.post(f"{url}/{body['id']}/end", json={"on": "2026-02-28"})
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-02-28"
    assert client.post(f"{url}/{body['id']}/end", json={"on": "2026-03-15"}).status_code == 409
    assert client.get(f"{url}/{body['id']}").json()["valid_to"] == "2026-02-28"

    trail = client.get("/api/v1/audit", params={"nqsw_id": nqsw, "entity": "adjustment"}).json()
    assert [e["action"] for e in trail["data"]] == ["adjustment.end", "adjustment.create"]
    assert trail["data"][0]["before"] == {"valid_to": "2026-03-31"}
    # Both changes are in the name of the coordinator who was signed in.
    assert [e["actor_id"] for e in trail["data"]] == [coordinator, coordinator]


def test_open_ended_adjustment_by_the_coordinator(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    _, coordinator = signed_in(client, client_as, db_session, "asye_coordinator")
    nqsw = make_nqsw(client)
    response = coordinator.post(f"/api/v1/nqsws/{nqsw}/adjustments",
                                json=agreement(valid_to=None))
    assert response.status_code == 201, response.text
    assert response.json()["valid_to"] is None


@pytest.mark.parametrize("role", ["team_manager", "nqsw", "advanced_practitioner", "admin"])
def test_only_a_senior_manager_or_coordinator_approves(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session, role: str
) -> None:
    _, caller = signed_in(client, client_as, db_session, role)
    nqsw = make_nqsw(client)
    response = caller.post(f"/api/v1/nqsws/{nqsw}/adjustments", json=agreement())
    assert response.status_code == 403
    assert client.get(f"/api/v1/nqsws/{nqsw}/adjustments").json() == {"data": [], "count": 0}


def test_an_account_that_is_not_a_person_approves_nothing(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    response = client.post(f"/api/v1/nqsws/{nqsw}/adjustments", json=agreement())
    assert response.status_code == 403
    assert response.json()["detail"][0]["type"] == "forbidden"
    assert client.get(f"/api/v1/nqsws/{nqsw}/adjustments").json() == {"data": [], "count": 0}


def test_refused_adjustments(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    coordinator_id, coordinator = signed_in(client, client_as, db_session, "asye_coordinator")
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw}/adjustments"
    cases = [
        # Not even naming oneself: who approved is never an input.
        (agreement(approved_by_id=coordinator_id), 422, ["body", "approved_by_id"]),
        (agreement(valid_to="2026-01-31"), 422, ["body", "valid_to"]),
        (agreement(valid_from="not-a-date"), 422, ["body", "valid_from"]),
        (agreement(value=None), 422, ["body", "value"]),
        (agreement(reason="  "), 422, ["body", "reason"]),
        (agreement(policy_id="no-such-policy"), 422, ["body", "policy_id"]),
        (agreement(parameter="caseload-cap.bandz"), 422, ["body", "parameter"]),
        (agreement(value=-1), 422, ["body", "parameter"]),
    ]
    for body, code, loc in cases:
        response = coordinator.post(url, json=body)
        assert response.status_code == code, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, body
    assert client.get(url).json() == {"data": [], "count": 0}


def test_the_engine_explains_a_bad_parameter(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    _, coordinator = signed_in(client, client_as, db_session, "asye_coordinator")
    nqsw = make_nqsw(client)
    response = coordinator.post(f"/api/v1/nqsws/{nqsw}/adjustments",
                                json=agreement(value=-1))
    assert "must not be negative" in response.json()["detail"][0]["msg"]


def test_check_against_the_shipped_policies() -> None:
    policies = load_policy_set(PROJECT_ROOT / "policies")
    check_against_policy(policies, policy_id="stage-caps", parameter=CAP, value=3)
    with pytest.raises(DomainError) as refused:
        check_against_policy(policies, policy_id="stage-caps", parameter="caseload-cap.nope",
                             value=3)
    assert refused.value.loc == ["body", "parameter"] and "nope" in refused.value.message


def test_unknown_people_and_records_are_404(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    _, coordinator = signed_in(client, client_as, db_session, "asye_coordinator")
    nqsw = make_nqsw(client)
    other = make_nqsw(client, "olive@example.org")
    worker = make_staff(client, "sw@example.org", "social_worker")
    created = coordinator.post(f"/api/v1/nqsws/{nqsw}/adjustments", json=agreement()).json()
    assert coordinator.post("/api/v1/nqsws/424242/adjustments",
                            json=agreement()).status_code == 404
    assert coordinator.post(f"/api/v1/nqsws/{worker}/adjustments",
                            json=agreement()).status_code == 404
    assert client.get("/api/v1/nqsws/424242/adjustments").status_code == 404
    assert client.get(f"/api/v1/nqsws/{nqsw}/adjustments/424242").status_code == 404
    assert client.get(f"/api/v1/nqsws/{other}/adjustments/{created['id']}").status_code == 404
    assert client.post(f"/api/v1/nqsws/{other}/adjustments/{created['id']}/end",
                       json={"on": "2026-03-01"}).status_code == 404


def test_the_approver_is_the_caller_and_nobody_else(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    from tests.scenarios import seed

    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=date(2026, 9, 1))
    db_session.commit()
    senior = client_as(org.senior_manager)
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    body = {"policy_id": "stage-caps", "parameter": "caseload-cap.bands.0.cap", "value": 4,
            "reason": "Agreed at the learning agreement meeting", "valid_from": "2026-09-01"}
    # Recording it "approved by" the coordinator, in the coordinator's absence, is refused.
    forged = senior.post(url, params={"on": "2026-09-01"},
                         json={**body, "approved_by_id": org.coordinator.id})
    assert forged.status_code in (403, 422), forged.text
    assert forged.json()["detail"][0]["loc"] == ["body", "approved_by_id"]
    made = senior.post(url, params={"on": "2026-09-01"}, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["approved_by_id"] == org.senior_manager.id
    events = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "adjustment.create", AuditEvent.nqsw_id == worker.id)).all()
    assert [e.actor_id for e in events] == [org.senior_manager.id]
