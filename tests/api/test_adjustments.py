"""Individual adjustments over HTTP: approved, dated, checked by the engine, never deleted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.errors import DomainError
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


def agreement(approver: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy_id": "stage-caps",
        "parameter": CAP,
        "value": 4,
        "reason": "Agreed at the 4-week review: a cap of 4 while she settles in.",
        "approved_by_id": approver,
        "valid_from": "2026-02-01",
        "valid_to": "2026-03-31",
    }
    body.update(fields)
    return body


def test_record_list_and_end_an_adjustment(client: TestClient) -> None:
    senior = make_staff(client, "sm@example.org", "senior_manager")
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw}/adjustments"
    created = client.post(url, json=agreement(senior), params={"on": "2026-02-01"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["staff_id"] == nqsw and body["value"] == 4 and body["in_force"] is True
    assert body["valid_to"] == "2026-03-31"

    listed = client.get(url, params={"on": "2026-02-15"}).json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert client.get(url, params={"on": "2026-04-01", "in_force": True}).json() == []
    assert len(client.get(url, params={"on": "2026-03-31", "in_force": True}).json()) == 1
    assert len(client.get(url, params={"on": "2026-04-01", "in_force": False}).json()) == 1

    early = client.post(f"{url}/{body['id']}/end", json={"on": "2026-01-31"})
    assert early.status_code == 422 and early.json()["detail"][0]["loc"] == ["body", "on"]
    ended = client.post(f"{url}/{body['id']}/end", json={"on": "2026-02-28"})
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-02-28"
    assert client.post(f"{url}/{body['id']}/end", json={"on": "2026-03-15"}).status_code == 409
    assert client.get(f"{url}/{body['id']}").json()["valid_to"] == "2026-02-28"

    trail = client.get("/api/v1/audit", params={"nqsw_id": nqsw, "entity": "adjustment"}).json()
    assert [e["action"] for e in trail["data"]] == ["adjustment.end", "adjustment.create"]
    assert trail["data"][0]["before"] == {"valid_to": "2026-03-31"}


def test_open_ended_adjustment_by_the_coordinator(client: TestClient) -> None:
    coordinator = make_staff(client, "co@example.org", "asye_coordinator")
    nqsw = make_nqsw(client)
    response = client.post(f"/api/v1/nqsws/{nqsw}/adjustments",
                           json=agreement(coordinator, valid_to=None))
    assert response.status_code == 201, response.text
    assert response.json()["valid_to"] is None


@pytest.mark.parametrize("role", ["team_manager", "nqsw", "advanced_practitioner", "admin"])
def test_only_a_senior_manager_or_coordinator_approves(client: TestClient, role: str) -> None:
    approver = make_staff(client, "x@example.org", role)
    nqsw = make_nqsw(client)
    response = client.post(f"/api/v1/nqsws/{nqsw}/adjustments", json=agreement(approver))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "approved_by_id"]


def test_refused_adjustments(client: TestClient) -> None:
    senior = make_staff(client, "sm@example.org", "senior_manager")
    nqsw = make_nqsw(client)
    url = f"/api/v1/nqsws/{nqsw}/adjustments"
    cases = [
        (agreement(987654), 422, ["body", "approved_by_id"]),
        (agreement(senior, valid_to="2026-01-31"), 422, ["body", "valid_to"]),
        (agreement(senior, valid_from="not-a-date"), 422, ["body", "valid_from"]),
        (agreement(senior, value=None), 422, ["body", "value"]),
        (agreement(senior, reason="  "), 422, ["body", "reason"]),
        (agreement(senior, policy_id="no-such-policy"), 422, ["body", "policy_id"]),
        (agreement(senior, parameter="caseload-cap.bandz"), 422, ["body", "parameter"]),
        (agreement(senior, value=-1), 422, ["body", "parameter"]),
    ]
    for body, code, loc in cases:
        response = client.post(url, json=body)
        assert response.status_code == code, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, body
    assert client.get(url).json() == []


def test_the_engine_explains_a_bad_parameter(client: TestClient) -> None:
    senior = make_staff(client, "sm@example.org", "senior_manager")
    nqsw = make_nqsw(client)
    response = client.post(f"/api/v1/nqsws/{nqsw}/adjustments",
                           json=agreement(senior, value=-1))
    assert "must not be negative" in response.json()["detail"][0]["msg"]


def test_check_against_the_shipped_policies() -> None:
    policies = load_policy_set(PROJECT_ROOT / "policies")
    check_against_policy(policies, policy_id="stage-caps", parameter=CAP, value=3)
    with pytest.raises(DomainError) as refused:
        check_against_policy(policies, policy_id="stage-caps", parameter="caseload-cap.nope",
                             value=3)
    assert refused.value.loc == ["body", "parameter"] and "nope" in refused.value.message


def test_unknown_people_and_records_are_404(client: TestClient) -> None:
    senior = make_staff(client, "sm@example.org", "senior_manager")
    nqsw = make_nqsw(client)
    other = make_nqsw(client, "olive@example.org")
    worker = make_staff(client, "sw@example.org", "social_worker")
    created = client.post(f"/api/v1/nqsws/{nqsw}/adjustments", json=agreement(senior)).json()
    assert client.post("/api/v1/nqsws/424242/adjustments",
                       json=agreement(senior)).status_code == 404
    assert client.post(f"/api/v1/nqsws/{worker}/adjustments",
                       json=agreement(senior)).status_code == 404
    assert client.get("/api/v1/nqsws/424242/adjustments").status_code == 404
    assert client.get(f"/api/v1/nqsws/{nqsw}/adjustments/424242").status_code == 404
    assert client.get(f"/api/v1/nqsws/{other}/adjustments/{created['id']}").status_code == 404
    assert client.post(f"/api/v1/nqsws/{other}/adjustments/{created['id']}/end",
                       json={"on": "2026-03-01"}).status_code == 404


def test_the_approver_defaults_to_the_caller(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    from tests.scenarios import seed

    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=date(2026, 9, 1))
    db_session.commit()
    made = client_as(org.senior_manager).post(
        f"/api/v1/nqsws/{worker.id}/adjustments", params={"on": "2026-09-01"},
        json={"policy_id": "stage-caps", "parameter": "caseload-cap.bands.0.cap", "value": 4,
              "reason": "Agreed at the learning agreement meeting", "valid_from": "2026-09-01"})
    assert made.status_code == 201, made.text
    assert made.json()["approved_by_id"] == org.senior_manager.id
