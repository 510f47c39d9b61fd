"""Dated changes keep the past: an FTE change or a case's escalation applies from its date.

A time-travel question (`on=`) about a date before the change must see the terms and
facts of that date, so that a back-dated evaluation and the evidence of an old breach
stay true to what applied then.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import CaseTerm, StaffTerm
from tests.scenarios import seed

START = date(2026, 9, 1)


def _workload(client: TestClient, staff_id: int, on: str) -> dict:
    response = client.get(f"/api/v1/nqsws/{staff_id}/workload", params={"on": on})
    assert response.status_code == 200, response.text
    return response.json()


def _cap(body: dict) -> float:
    return next(f for f in body["findings"] if f["rule_id"] == "caseload-cap")["limit"]


def test_an_fte_change_applies_from_its_date(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    changed = client.patch(f"/api/v1/staff/{worker.id}", params={"on": "2026-11-02"},
                           json={"fte": 0.6, "contracted_hours": 22.2})
    assert changed.status_code == 200, changed.text
    assert changed.json()["fte"] == 0.6

    before, after = _workload(client, worker.id, "2026-10-15"), _workload(client, worker.id,
                                                                          "2026-11-15")
    assert before["fte"] == 1.0 and _cap(before) == 5
    assert after["fte"] == 0.6 and _cap(after) == 3  # 5 pro rata for 0.6 FTE
    kept = db_session.exec(select(StaffTerm).where(StaffTerm.staff_id == worker.id)).all()
    assert [(t.valid_from, t.valid_to, t.fte) for t in kept] == [
        (START, date(2026, 11, 2), 1.0)
    ]


def test_a_back_dated_change_lands_in_the_period_it_names(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    url = f"/api/v1/staff/{worker.id}"
    assert client.patch(url, params={"on": "2027-01-04"}, json={"fte": 0.5,
                                                                "contracted_hours": 18.5}
                        ).status_code == 200
    # A correction back-dated into the first period applies until the next change only.
    assert client.patch(url, params={"on": "2026-10-01"}, json={"fte": 0.8,
                                                                "contracted_hours": 29.6}
                        ).status_code == 200
    assert _workload(client, worker.id, "2026-09-15")["fte"] == 1.0
    assert _workload(client, worker.id, "2026-11-15")["fte"] == 0.8
    assert _workload(client, worker.id, "2027-02-01")["fte"] == 0.5
    # Correcting from the first day rewrites the first period, not the later ones.
    assert client.patch(url, params={"on": START.isoformat()}, json={"fte": 0.9,
                                                                     "contracted_hours": 33.3}
                        ).status_code == 200
    assert _workload(client, worker.id, "2026-09-15")["fte"] == 0.9
    assert _workload(client, worker.id, "2026-11-15")["fte"] == 0.8
    # The staff record itself answers as of a date too.
    assert client.get(url, params={"on": "2026-11-15"}).json()["fte"] == 0.8
    assert client.get(url, params={"on": "2027-02-01"}).json()["fte"] == 0.5


def test_a_case_escalation_is_seen_from_its_date_only(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START, category="child_in_need", complexity=2)
    seed.allocate(db_session, worker, case, start=START)
    db_session.commit()
    escalated = client.patch(f"/api/v1/cases/{case.id}", params={"on": "2026-12-07"},
                             json={"category": "child_protection_plan", "complexity": 3})
    assert escalated.status_code == 200, escalated.text

    def gate(on: str) -> str:
        body = _workload(client, worker.id, on)
        return next(f for f in body["findings"] if f["rule_id"] == "cp-coworking")["outcome"]

    assert gate("2026-12-01") == "ok"
    assert gate("2026-12-08") == "block"
    kept = db_session.exec(select(CaseTerm).where(CaseTerm.case_id == case.id)).all()
    assert [(t.valid_from, t.valid_to, t.category, t.complexity) for t in kept] == [
        (START, date(2026, 12, 7), "child_in_need", 2)
    ]


def test_the_case_change_is_on_the_nqsws_audit_trail(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START)
    seed.allocate(db_session, worker, case, start=START)
    db_session.commit()
    assert client.patch(f"/api/v1/cases/{case.id}", params={"on": "2026-10-05"},
                        json={"complexity": 3}).status_code == 200
    assert client.post(f"/api/v1/cases/{case.id}/close",
                       json={"on": "2026-11-02"}).status_code == 200
    events = client.get("/api/v1/audit", params={"nqsw_id": worker.id, "entity": "case"}).json()
    assert {(e["action"], e["effective_on"]) for e in events["data"]} == {
        ("case.update", "2026-10-05"), ("case.close", "2026-11-02"),
    }
    dated = client.get("/api/v1/audit", params={"nqsw_id": worker.id, "entity": "case",
                                                 "from": "2026-10-01", "to": "2026-10-31"}
                       ).json()
    assert [e["action"] for e in dated["data"]] == ["case.update"]


def test_entitlement_follows_a_change_of_working_pattern(
    client: TestClient, db_session: Session
) -> None:
    """Back from maternity leave at 0.6 FTE: the months before still earn full-time hours."""
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()

    def whole(on: str) -> dict:
        response = client.get(f"/api/v1/nqsws/{worker.id}/diary/entitlement",
                              params={"on": on})
        assert response.status_code == 200, response.text
        return response.json()

    full_time = whole("2026-12-01")
    changed = client.patch(f"/api/v1/nqsws/{worker.id}", params={"on": "2027-03-01"},
                           json={"fte": 0.6})
    assert changed.status_code == 200, changed.text
    after = whole("2027-04-01")
    assert 0.6 * full_time["hours"] < after["hours"] < full_time["hours"]
    periods = after["working"]["periods"]
    assert [p["contracted_hours_per_week"] for p in periods] == [37.0, 22.2]
    assert after["hours"] == pytest.approx(sum(p["hours"] for p in periods), abs=0.02)
    # Accrued by December: unchanged by the later change of pattern.
    assert whole("2026-12-01")["accrued_hours"] == full_time["accrued_hours"]
