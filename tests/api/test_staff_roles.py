"""A staff record's role is an account's role: the same rule whichever endpoint changes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.scenarios import seed


def test_an_admin_cannot_change_their_own_role_through_the_staff_record(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    admin = seed.person(db_session, "admin")
    as_admin = client_as(admin)
    refused = as_admin.patch(f"/api/v1/staff/{admin.id}", json={"role": "asye_coordinator"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "role"
    assert as_admin.get(f"/api/v1/staff/{admin.id}").json()["role"] == "admin"


def test_a_role_change_is_audited_as_one(
    client_as: Callable[..., TestClient], client: TestClient, db_session: Session
) -> None:
    admin = seed.person(db_session, "admin")
    worker = seed.person(db_session, "social_worker", start=date(2024, 1, 1))
    changed = client_as(admin).patch(f"/api/v1/staff/{worker.id}",
                                     json={"role": "advanced_practitioner"})
    assert changed.status_code == 200, changed.text
    trail = client.get("/api/v1/audit", params={"action": "account.role_change",
                                                "entity_id": str(worker.id)}).json()
    assert [(e["before"], e["after"]) for e in trail["data"]] == [
        ({"role": "social_worker"}, {"role": "advanced_practitioner"})
    ]


def test_an_admin_reads_account_events_not_casework(
    client_as: Callable[..., TestClient], client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=date(2026, 9, 1))
    case = seed.case(db_session, opened_on=date(2026, 9, 1))
    seed.allocate(db_session, worker, case, start=date(2026, 9, 1))
    db_session.commit()
    assert client.post(f"/api/v1/cases/{case.id}/close",
                       json={"on": "2026-10-01"}).status_code == 200
    admin = seed.person(db_session, "admin")
    as_admin = client_as(admin)
    assert as_admin.post("/api/v1/staff", json={
        "name": "New Starter", "email": "new.starter@example.org", "role": "social_worker",
        "team_id": org.team_id, "start_date": "2026-10-01"}).status_code == 201
    seen = {e["action"] for e in as_admin.get("/api/v1/audit",
                                              params={"limit": 500}).json()["data"]}
    assert "staff.create" in seen and "case.close" not in seen
    case_event = client.get("/api/v1/audit", params={"action": "case.close",
                                                     "nqsw_id": worker.id}).json()["data"][0]
    assert as_admin.get(f"/api/v1/audit/{case_event['id']}").status_code == 404
    assert client_as(org.coordinator).get(
        f"/api/v1/audit/{case_event['id']}").status_code == 200
