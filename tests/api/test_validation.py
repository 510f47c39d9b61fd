"""Bad input to every foundation endpoint: a 422/404/409 naming the field, never a 500.

Each row is one malformed or impossible request and the answer a client must get: the
status and the `loc` of the first error, so that a form can point at the field to fix.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

STAFF = {"name": "Val", "email": "val@example.org", "role": "social_worker",
         "start_date": "2026-01-05"}
NQSW = {"name": "Nia", "email": "nia@example.org", "programme": "asye",
        "start_date": "2026-01-05"}
CASE = {"reference": "V-2", "category": "child_in_need", "complexity": 2,
        "opened_on": "2026-01-05"}
ADJUSTMENT = {"policy_id": "stage-caps", "parameter": "caseload-cap.bands.0.cap", "value": 4,
              "reason": "agreed", "valid_from": "2026-02-01"}
BIG = 2**40


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {**base, **changes}
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def world(client: TestClient) -> dict[str, int]:
    """One of everything, so that rows can refer to records that exist."""
    area = client.post("/api/v1/service-areas", json={"name": "V area"}).json()["id"]
    team = client.post("/api/v1/teams", json={"name": "V team", "service_area_id": area}).json()
    senior = client.post("/api/v1/staff", json=with_(
        STAFF, email="sm@example.org", role="senior_manager")).json()
    staff = client.post("/api/v1/staff", json=with_(STAFF, email="taken@example.org")).json()
    nqsw = client.post("/api/v1/nqsws", json=with_(NQSW, email="n1@example.org")).json()
    case = client.post("/api/v1/cases", json=with_(CASE, reference="V-1")).json()
    adjustment = client.post(f"/api/v1/nqsws/{nqsw['id']}/adjustments",
                             json={**ADJUSTMENT, "approved_by_id": senior["id"]}).json()
    return {"team": team["id"], "senior": senior["id"], "staff": staff["id"],
            "nqsw": nqsw["id"], "case": case["id"], "adjustment": adjustment["id"]}


# (method, path, json body, query, status, loc of the first error)
ROWS: list[tuple[str, str, Any, dict[str, Any] | None, int, list[str]]] = [
    # staff
    ("POST", "/staff", with_(STAFF, start_date="2026-13-01"), None, 422, ["body", "start_date"]),
    ("POST", "/staff", with_(STAFF, start_date="05/01/2026"), None, 422, ["body", "start_date"]),
    ("POST", "/staff", with_(STAFF, start_date=20260105), None, 422, ["body", "start_date"]),
    ("POST", "/staff", with_(STAFF, fte=-0.5), None, 422, ["body", "fte"]),
    ("POST", "/staff", with_(STAFF, fte=0), None, 422, ["body", "fte"]),
    ("POST", "/staff", with_(STAFF, fte=1.2), None, 422, ["body", "fte"]),
    ("POST", "/staff", with_(STAFF, fte="full"), None, 422, ["body", "fte"]),
    ("POST", "/staff", with_(STAFF, contracted_hours=0), None, 422, ["body", "contracted_hours"]),
    ("POST", "/staff", with_(STAFF, contracted_hours=61), None, 422, ["body", "contracted_hours"]),
    ("POST", "/staff", with_(STAFF, email="not-an-email"), None, 422, ["body", "email"]),
    ("POST", "/staff", with_(STAFF, email="taken@example.org"), None, 409, ["body", "email"]),
    ("POST", "/staff", with_(STAFF, role="wizard"), None, 422, ["body", "role"]),
    ("POST", "/staff", with_(STAFF, team_id=987654), None, 422, ["body", "team_id"]),
    ("POST", "/staff", with_(STAFF, team_id="Alpha"), None, 422, ["body", "team_id"]),
    ("POST", "/staff", with_(STAFF, leave_date="2026-01-04"), None, 422, ["body", "leave_date"]),
    ("POST", "/staff", with_(STAFF, name=...), None, 422, ["body", "name"]),
    ("POST", "/staff", with_(STAFF, name=""), None, 422, ["body", "name"]),
    ("POST", "/staff", with_(STAFF, experienced="maybe"), None, 422, ["body", "experienced"]),
    ("POST", "/staff", with_(STAFF, surprise=1), None, 422, ["body", "surprise"]),
    ("POST", "/staff", ["not", "an", "object"], None, 422, ["body"]),
    ("GET", "/staff", None, {"on": "yesterday"}, 422, ["query", "on"]),
    ("GET", "/staff", None, {"role": "wizard"}, 422, ["query", "role"]),
    ("GET", "/staff", None, {"limit": 0}, 422, ["query", "limit"]),
    ("GET", "/staff", None, {"offset": -1}, 422, ["query", "offset"]),
    ("GET", "/staff/abc", None, None, 422, ["path", "staff_id"]),
    ("GET", "/staff/987654", None, None, 404, ["path", "id"]),
    ("PATCH", "/staff/{staff}", {"fte": 0}, None, 422, ["body", "fte"]),
    ("PATCH", "/staff/{staff}", {"email": "TAKEN@example.org"}, None, 200, []),
    ("PATCH", "/staff/{nqsw}", {"email": "taken@example.org"}, None, 409, ["body", "email"]),
    ("PATCH", "/staff/{staff}", {"leave_date": "2025-12-31"}, None, 422, ["body", "leave_date"]),
    ("POST", "/staff/{staff}/leave", {"on": "2025-12-31"}, None, 422, ["body", "on"]),
    ("POST", "/staff/{staff}/leave", {"on": "31-12-2026"}, None, 422, ["body", "on"]),
    ("POST", "/staff/987654/leave", {"on": "2026-12-31"}, None, 404, ["path", "id"]),
    # NQSWs and enrolments
    ("POST", "/nqsws", with_(NQSW, programme="diploma"), None, 422, ["body", "programme"]),
    ("POST", "/nqsws", with_(NQSW, start_date="2026-02-30"), None, 422, ["body", "start_date"]),
    ("POST", "/nqsws", with_(NQSW, fte=0), None, 422, ["body", "fte"]),
    ("POST", "/nqsws", with_(NQSW, fte=-1), None, 422, ["body", "fte"]),
    ("POST", "/nqsws", with_(NQSW, email="taken@example.org"), None, 409, ["body", "email"]),
    ("POST", "/nqsws", with_(NQSW, team_id=987654), None, 422, ["body", "team_id"]),
    ("POST", "/nqsws", with_(NQSW, assessor_id=987654), None, 422, ["body", "assessor_id"]),
    ("POST", "/nqsws", with_(NQSW, assessor_id="{nqsw}"), None, 422, ["body", "assessor_id"]),
    ("POST", "/nqsws", with_(NQSW, advanced_practitioner_id="{senior}"), None, 422,
     ["body", "advanced_practitioner_id"]),
    ("POST", "/nqsws", with_(NQSW, employment_start_date="2026-02-01"), None, 422,
     ["body", "employment_start_date"]),
    ("GET", "/nqsws", None, {"status": "asleep"}, 422, ["query", "status"]),
    ("GET", "/nqsws", None, {"on": "2026-1-5x"}, 422, ["query", "on"]),
    ("GET", "/nqsws/987654", None, None, 404, ["path", "id"]),
    ("GET", "/nqsws/{staff}", None, None, 404, ["path", "id"]),
    ("PATCH", "/nqsws/{nqsw}", {"fte": 0}, None, 422, ["body", "fte"]),
    ("PATCH", "/nqsws/{nqsw}", {"assessor_id": 987654}, None, 422, ["body", "assessor_id"]),
    ("POST", "/enrolments", {"staff_id": "{nqsw}", "programme": "asye",
                             "start_date": "2026-09-01"}, None, 409, ["body", "staff_id"]),
    ("POST", "/enrolments", {"staff_id": 987654, "programme": "asye",
                             "start_date": "2026-09-01"}, None, 422, ["body", "staff_id"]),
    ("POST", "/enrolments", {"staff_id": "{staff}", "programme": "asye"}, None, 422,
     ["body", "start_date"]),
    ("GET", "/enrolments/987654", None, None, 404, ["path", "id"]),
    # cases
    ("POST", "/cases", with_(CASE, category="wizardry"), None, 422, ["body", "category"]),
    ("POST", "/cases", with_(CASE, reference="V-1"), None, 409, ["body", "reference"]),
    ("POST", "/cases", with_(CASE, complexity=0), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity=5), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity="hard"), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity=2.5), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, opened_on="soon"), None, 422, ["body", "opened_on"]),
    ("POST", "/cases", with_(CASE, team_id=987654), None, 422, ["body", "team_id"]),
    ("POST", "/cases", with_(CASE, reference=" "), None, 422, ["body", "reference"]),
    ("POST", "/cases", with_(CASE, reference="x" * 65), None, 422, ["body", "reference"]),
    ("GET", "/cases", None, {"complexity": 9}, 422, ["query", "complexity"]),
    ("GET", "/cases", None, {"open": "perhaps"}, 422, ["query", "open"]),
    ("GET", "/cases", None, {"worker_id": "me"}, 422, ["query", "worker_id"]),
    ("GET", "/cases/987654", None, None, 404, ["path", "id"]),
    ("PATCH", "/cases/{case}", {"category": "wizardry"}, None, 422, ["body", "category"]),
    ("PATCH", "/cases/{case}", {"complexity": -1}, None, 422, ["body", "complexity"]),
    ("PATCH", "/cases/{case}", {"complexity": None}, None, 422, ["body", "complexity"]),
    ("PATCH", "/cases/{case}", {"complexity": 3}, {"on": "2026-02-31"}, 422, ["query", "on"]),
    ("POST", "/cases/{case}/close", {"on": "2025-12-31"}, None, 422, ["body", "on"]),
    ("POST", "/cases/{case}/close", {"on": 5}, None, 422, ["body", "on"]),
    ("POST", "/cases/987654/close", {"on": "2026-12-31"}, None, 404, ["path", "id"]),
    # adjustments
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{staff}"), None,
     422, ["body", "approved_by_id"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id=987654), None,
     422, ["body", "approved_by_id"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}",
                                                valid_to="2026-01-31"), None,
     422, ["body", "valid_to"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}",
                                                parameter="caseload-cap.nope"), None,
     422, ["body", "parameter"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}",
                                                value="lots"), None,
     422, ["body", "parameter"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}",
                                                policy_id="nope"), None,
     422, ["body", "policy_id"]),
    ("POST", "/nqsws/987654/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}"), None,
     404, ["path", "staff_id"]),
    ("POST", "/nqsws/{nqsw}/adjustments/{adjustment}/end", {"on": "2026-01-31"}, None,
     422, ["body", "on"]),
    ("POST", "/nqsws/{nqsw}/adjustments/987654/end", {"on": "2026-03-31"}, None,
     404, ["path", "adjustment_id"]),
    # ids larger than the database can hold, and NUL characters it cannot store
    ("GET", f"/staff/{BIG}", None, None, 422, ["path", "staff_id"]),
    ("GET", f"/cases/{BIG}", None, None, 422, ["path", "case_id"]),
    ("GET", "/staff", None, {"team_id": BIG}, 422, ["query", "team_id"]),
    ("GET", "/nqsws", None, {"service_area_id": BIG}, 422, ["query", "service_area_id"]),
    ("GET", "/cases", None, {"worker_id": BIG}, 422, ["query", "worker_id"]),
    ("GET", "/audit", None, {"actor_id": BIG}, 422, ["query", "actor_id"]),
    ("POST", "/staff", with_(STAFF, team_id=BIG), None, 422, ["body", "team_id"]),
    ("POST", "/enrolments", {"staff_id": BIG, "programme": "asye",
                             "start_date": "2026-09-01"}, None, 422, ["body", "staff_id"]),
    ("POST", "/cases", with_(CASE, team_id=BIG), None, 422, ["body", "team_id"]),
    ("POST", "/staff", with_(STAFF, name="Val\x00"), None, 422, ["body", "name"]),
    ("POST", "/cases", with_(CASE, reference="V\x00"), None, 422, ["body", "reference"]),
    ("GET", "/staff", None, {"q": "v\x00"}, 422, ["query", "q"]),
    ("GET", "/audit", None, {"action": "case\x00"}, 422, ["query", "action"]),
    # audit
    ("GET", "/audit", None, {"from": "2026-06-02", "to": "2026-06-01"}, 422, ["query", "to"]),
    ("GET", "/audit", None, {"from": "last week"}, 422, ["query", "from"]),
    ("GET", "/audit", None, {"nqsw_id": "nina"}, 422, ["query", "nqsw_id"]),
    ("GET", "/audit/abc", None, None, 422, ["path", "event_id"]),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """Put the world's real ids in place of "{name}" placeholders."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "status", "loc"),
    ROWS,
    ids=[f"{m} {p} {status} {'.'.join(loc)}" for m, p, _, _, status, loc in ROWS],
)
def test_bad_input_is_refused_with_the_field(
    client: TestClient,
    world: dict[str, int],
    method: str,
    path: str,
    body: Any,
    query: dict[str, Any] | None,
    status: int,
    loc: list[str],
) -> None:
    url = "/api/v1" + path.format(**world)
    response = client.request(method, url, json=_fill(body, world), params=query)
    assert response.status_code == status, response.text
    if loc:
        detail = response.json()["detail"]
        assert detail[0]["loc"][: len(loc)] == loc, detail
        assert detail[0]["msg"]


def test_every_unknown_id_is_404(client: TestClient) -> None:
    for path in ("/staff/987654", "/nqsws/987654", "/enrolments/987654", "/cases/987654",
                 "/nqsws/987654/adjustments", "/nqsws/987654/enrolments", "/audit/987654"):
        assert client.get("/api/v1" + path).status_code == 404, path
