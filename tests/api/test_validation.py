"""Bad input to every foundation endpoint: a 422/404/409 naming the field, never a 500.

Each row is one malformed or impossible request and the answer a client must get: the
status and the `loc` of the first error, so that a form can point at the field to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Staff

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
def coordinator(client: TestClient, client_as: Callable[..., TestClient],
                db_session: Session) -> tuple[int, TestClient]:
    """The ASYE coordinator and a client signed in as them: an adjustment is approved by
    whoever sends it, so the adjustment rows are sent by someone who may approve one."""
    made = client.post("/api/v1/staff", json=with_(
        STAFF, email="co@example.org", role="asye_coordinator")).json()
    staff = db_session.get(Staff, made["id"])
    assert staff is not None
    return made["id"], client_as(staff)


@pytest.fixture
def world(client: TestClient, coordinator: tuple[int, TestClient]) -> dict[str, int]:
    """One of everything, so that rows can refer to records that exist."""
    area = client.post("/api/v1/service-areas", json={"name": "V area"}).json()["id"]
    team = client.post("/api/v1/teams", json={"name": "V team", "service_area_id": area}).json()
    senior = client.post("/api/v1/staff", json=with_(
        STAFF, email="sm@example.org", role="senior_manager")).json()
    staff = client.post("/api/v1/staff", json=with_(STAFF, email="taken@example.org")).json()
    nqsw = client.post("/api/v1/nqsws", json=with_(NQSW, email="n1@example.org")).json()
    case = client.post("/api/v1/cases", json=with_(CASE, reference="V-1")).json()
    coordinator_id, approver = coordinator
    adjustment = approver.post(f"/api/v1/nqsws/{nqsw['id']}/adjustments", json=ADJUSTMENT)
    assert adjustment.status_code == 201, adjustment.text
    return {"area": area, "team": team["id"], "senior": senior["id"], "staff": staff["id"],
            "nqsw": nqsw["id"], "case": case["id"], "adjustment": adjustment.json()["id"],
            "coordinator": coordinator_id}


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
    ("POST", "/staff", with_(STAFF, team_id=987654), None, 404, ["body", "team_id"]),
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
    ("GET", "/staff/987654", None, None, 404, ["path", "staff_id"]),
    ("PATCH", "/staff/{staff}", {"fte": 0}, None, 422, ["body", "fte"]),
    ("PATCH", "/staff/{staff}", {"email": "TAKEN@example.org"}, None, 200, []),
    ("PATCH", "/staff/{nqsw}", {"email": "taken@example.org"}, None, 409, ["body", "email"]),
    ("PATCH", "/staff/{staff}", {"leave_date": "2025-12-31"}, None, 422, ["body", "leave_date"]),
    ("POST", "/staff/{staff}/leave", {"on": "2025-12-31"}, None, 422, ["body", "on"]),
    ("POST", "/staff/{staff}/leave", {"on": "31-12-2026"}, None, 422, ["body", "on"]),
    ("POST", "/staff/987654/leave", {"on": "2026-12-31"}, None, 404, ["path", "staff_id"]),
    # NQSWs and enrolments
    ("POST", "/nqsws", with_(NQSW, programme="diploma"), None, 422, ["body", "programme"]),
    ("POST", "/nqsws", with_(NQSW, start_date="2026-02-30"), None, 422, ["body", "start_date"]),
    ("POST", "/nqsws", with_(NQSW, fte=0), None, 422, ["body", "fte"]),
    ("POST", "/nqsws", with_(NQSW, fte=-1), None, 422, ["body", "fte"]),
    ("POST", "/nqsws", with_(NQSW, email="taken@example.org"), None, 409, ["body", "email"]),
    ("POST", "/nqsws", with_(NQSW, team_id=987654), None, 404, ["body", "team_id"]),
    ("POST", "/nqsws", with_(NQSW, assessor_id=987654), None, 404, ["body", "assessor_id"]),
    ("POST", "/nqsws", with_(NQSW, assessor_id="{nqsw}"), None, 422, ["body", "assessor_id"]),
    ("POST", "/nqsws", with_(NQSW, advanced_practitioner_id="{senior}"), None, 422,
     ["body", "advanced_practitioner_id"]),
    ("POST", "/nqsws", with_(NQSW, employment_start_date="2026-02-01"), None, 422,
     ["body", "employment_start_date"]),
    ("GET", "/nqsws", None, {"status": "asleep"}, 422, ["query", "status"]),
    ("GET", "/nqsws", None, {"on": "2026-1-5x"}, 422, ["query", "on"]),
    ("GET", "/nqsws/987654", None, None, 404, ["path", "staff_id"]),
    ("GET", "/nqsws/{staff}", None, None, 404, ["path", "staff_id"]),
    ("PATCH", "/nqsws/{nqsw}", {"fte": 0}, None, 422, ["body", "fte"]),
    ("PATCH", "/nqsws/{nqsw}", {"assessor_id": 987654}, None, 404, ["body", "assessor_id"]),
    ("POST", "/enrolments", {"staff_id": "{nqsw}", "programme": "asye",
                             "start_date": "2026-09-01"}, None, 409, ["body", "staff_id"]),
    ("POST", "/enrolments", {"staff_id": 987654, "programme": "asye",
                             "start_date": "2026-09-01"}, None, 404, ["body", "staff_id"]),
    ("POST", "/enrolments", {"staff_id": "{staff}", "programme": "asye"}, None, 422,
     ["body", "start_date"]),
    ("GET", "/enrolments/987654", None, None, 404, ["path", "enrolment_id"]),
    # cases
    ("POST", "/cases", with_(CASE, category="wizardry"), None, 422, ["body", "category"]),
    ("POST", "/cases", with_(CASE, reference="V-1"), None, 409, ["body", "reference"]),
    ("POST", "/cases", with_(CASE, complexity=0), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity=5), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity="hard"), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, complexity=2.5), None, 422, ["body", "complexity"]),
    ("POST", "/cases", with_(CASE, opened_on="soon"), None, 422, ["body", "opened_on"]),
    ("POST", "/cases", with_(CASE, team_id=987654), None, 404, ["body", "team_id"]),
    ("POST", "/cases", with_(CASE, reference=" "), None, 422, ["body", "reference"]),
    ("POST", "/cases", with_(CASE, reference="x" * 65), None, 422, ["body", "reference"]),
    ("GET", "/cases", None, {"complexity": 9}, 422, ["query", "complexity"]),
    ("GET", "/cases", None, {"open": "perhaps"}, 422, ["query", "open"]),
    ("GET", "/cases", None, {"worker_id": "me"}, 422, ["query", "worker_id"]),
    ("GET", "/cases/987654", None, None, 404, ["path", "case_id"]),
    ("PATCH", "/cases/{case}", {"category": "wizardry"}, None, 422, ["body", "category"]),
    ("PATCH", "/cases/{case}", {"complexity": -1}, None, 422, ["body", "complexity"]),
    ("PATCH", "/cases/{case}", {"complexity": None}, None, 422, ["body", "complexity"]),
    ("PATCH", "/cases/{case}", {"complexity": 3}, {"on": "2026-02-31"}, 422, ["query", "on"]),
    ("POST", "/cases/{case}/close", {"on": "2025-12-31"}, None, 422, ["body", "on"]),
    ("POST", "/cases/{case}/close", {"on": 5}, None, 422, ["body", "on"]),
    ("POST", "/cases/987654/close", {"on": "2026-12-31"}, None, 404, ["path", "case_id"]),
    # adjustments (sent by the coordinator: see the `coordinator` fixture); who approved is
    # never an input: naming someone else is refused, naming oneself is not a field
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{senior}"), None,
     403, ["body", "approved_by_id"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, approved_by_id="{coordinator}"),
     None, 422, ["body", "approved_by_id"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, valid_to="2026-01-31"), None,
     422, ["body", "valid_to"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, parameter="caseload-cap.nope"),
     None, 422, ["body", "parameter"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, value="lots"), None,
     422, ["body", "parameter"]),
    ("POST", "/nqsws/{nqsw}/adjustments", with_(ADJUSTMENT, policy_id="nope"), None,
     422, ["body", "policy_id"]),
    ("POST", "/nqsws/987654/adjustments", ADJUSTMENT, None, 404, ["path", "staff_id"]),
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
    # dates outside 1900-01-01..2199-12-31: refused naming the field, never a 500 from
    # date arithmetic (a SWIP's 24 months after 9999-06-01)
    ("POST", "/nqsws", with_(NQSW, programme="swip", start_date="9999-06-01"), None, 422,
     ["body", "start_date"]),
    ("POST", "/nqsws", with_(NQSW, start_date="1899-12-31"), None, 422, ["body", "start_date"]),
    ("POST", "/enrolments", {"staff_id": "{staff}", "programme": "asye",
                             "start_date": "9999-12-01"}, None, 422, ["body", "start_date"]),
    ("POST", "/staff", with_(STAFF, start_date="2200-01-01"), None, 422, ["body", "start_date"]),
    ("POST", "/cases", with_(CASE, opened_on="9999-12-31"), None, 422, ["body", "opened_on"]),
    ("PATCH", "/nqsws/{nqsw}", {"start_date": "9999-12-31"}, None, 422, ["body", "start_date"]),
    ("PATCH", "/nqsws/{nqsw}", {"fte": 0.5, "on": "9999-12-31"}, None, 422, ["body", "on"]),
    ("POST", "/teams/{team}/close", {"on": "9999-12-31"}, None, 422, ["body", "on"]),
    ("GET", "/nqsws", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    ("GET", "/nqsws/{nqsw}", None, {"on": "0001-01-01"}, 422, ["query", "on"]),
    ("GET", "/enrolments", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    ("GET", "/teams", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    ("PATCH", "/nqsws/{nqsw}", {"fte": 0.5}, {"on": "9999-12-31"}, 422, ["query", "on"]),
    # ... and where a route's own date type is not bounded, the overflow names the parameter
    ("GET", "/nqsws/{nqsw}/workload", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    ("GET", "/nqsws/{nqsw}/diary/summary", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    ("GET", "/nqsws/{nqsw}/reviews", None, {"on": "9999-12-31"}, 422, ["query", "on"]),
    # working patterns: an FTE and hours that cannot both be true
    ("POST", "/staff", with_(STAFF, fte=0.6, contracted_hours=37), None, 422,
     ["body", "contracted_hours"]),
    ("POST", "/nqsws", with_(NQSW, contracted_hours=15), None, 422, ["body", "contracted_hours"]),
    ("PATCH", "/staff/{staff}", {"fte": 0.5, "contracted_hours": 37}, None, 422,
     ["body", "contracted_hours"]),
    # organisation: the people named must hold the role the escalation ladder expects
    ("POST", "/service-areas", {"name": "X", "senior_manager_id": "{staff}"}, None, 422,
     ["body", "senior_manager_id"]),
    ("POST", "/teams", {"name": "X", "service_area_id": "{area}", "manager_id": "{senior}"},
     None, 422, ["body", "manager_id"]),
    ("PATCH", "/teams/{team}", {"manager_id": "{staff}"}, None, 422, ["body", "manager_id"]),
    ("PATCH", "/teams/{team}", {"name": "x"}, {"on": "2026-13-01"}, 422, ["query", "on"]),
    ("POST", "/service-areas", {"name": "v AREA"}, None, 409, ["body", "name"]),
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
    coordinator: tuple[int, TestClient],
    world: dict[str, int],
    method: str,
    path: str,
    body: Any,
    query: dict[str, Any] | None,
    status: int,
    loc: list[str],
) -> None:
    url = "/api/v1" + path.format(**world)
    caller = coordinator[1] if "/adjustments" in path else client
    response = caller.request(method, url, json=_fill(body, world), params=query)
    assert response.status_code == status, response.text
    if loc:
        detail = response.json()["detail"]
        assert detail[0]["loc"][: len(loc)] == loc, detail
        assert detail[0]["msg"]


# Bodies that are JSON to Python's parser but carry NaN or an infinity (which strict JSON has
# no words for): the 422 echoes the input back as text instead of failing to encode it.
RAW: list[tuple[str, str, list[str], str]] = [
    ("/staff", '{"name": "Val", "email": "v2@example.org", "role": "social_worker", '
               '"start_date": "2026-01-05", "fte": NaN}', ["body", "fte"], "NaN"),
    ("/staff", '{"name": "Val", "email": "v2@example.org", "role": "social_worker", '
               '"start_date": "2026-01-05", "contracted_hours": -Infinity}',
     ["body", "contracted_hours"], "-Infinity"),
    ("/nqsws", '{"name": "Nia", "email": "n2@example.org", "programme": "asye", '
               '"start_date": "2026-01-05", "fte": NaN}', ["body", "fte"], "NaN"),
    ("/nqsws", '{"name": "Nia", "email": "n2@example.org", "programme": "asye", '
               '"start_date": "2026-01-05", "fte": Infinity}', ["body", "fte"], "Infinity"),
    ("/cases", '{"reference": "V-9", "category": "child_in_need", "complexity": Infinity, '
               '"opened_on": "2026-01-05"}', ["body", "complexity"], "Infinity"),
    ("/service-areas", '{"name": "Z area", "senior_manager_id": NaN}',
     ["body", "senior_manager_id"], "NaN"),
    ("/teams", '{"name": "Z team", "service_area_id": NaN}', ["body", "service_area_id"], "NaN"),
]


@pytest.mark.parametrize(("path", "raw", "loc", "echoed"), RAW,
                         ids=[f"{p} {'.'.join(loc)} {e}" for p, _, loc, e in RAW])
def test_nan_and_infinity_are_422_with_the_input_as_text(
    client: TestClient, path: str, raw: str, loc: list[str], echoed: str
) -> None:
    response = client.post("/api/v1" + path, content=raw,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc and detail[0]["msg"] and detail[0]["type"]
    assert detail[0]["input"] == echoed


def test_a_duplicate_names_the_field_and_the_value(client: TestClient) -> None:
    assert client.post("/api/v1/service-areas", json={"name": "Dup Area"}).status_code == 201
    response = client.post("/api/v1/service-areas", json={"name": "DUP AREA"})
    assert response.status_code == 409
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "name"] and "'DUP AREA'" in detail["msg"]
    case = {"reference": "AUD-1", "category": "child_in_need", "complexity": 2,
            "opened_on": "2026-01-05"}
    assert client.post("/api/v1/cases", json=case).status_code == 201
    again = client.post("/api/v1/cases", json=case)
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"] == ["body", "reference"]
    assert "AUD-1" in again.json()["detail"][0]["msg"]


def test_every_unknown_id_is_404(client: TestClient) -> None:
    for path in ("/staff/987654", "/nqsws/987654", "/enrolments/987654", "/cases/987654",
                 "/nqsws/987654/adjustments", "/nqsws/987654/enrolments", "/audit/987654"):
        assert client.get("/api/v1" + path).status_code == 404, path


def test_a_body_that_is_not_an_object_is_bad_input_for_every_role(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    """An array where an object belongs is a 422, not a question of reach."""
    from tests.scenarios import seed

    org = seed.organisation(db_session)
    db_session.commit()
    response = client_as(org.team_manager).post("/api/v1/cases", json=[1, 2])
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]
