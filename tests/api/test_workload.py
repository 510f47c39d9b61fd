"""An NQSW's workload on a date: every measure and every rule's finding."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import Adjustment, Allocation, Pause, SignOff
from app.policy.registry import load_policy_set
from app.services.snapshots import load_snapshot, load_snapshots
from app.settings import PROJECT_ROOT
from tests.api.test_breaches import counting
from tests.scenarios import seed

START = date(2026, 9, 1)


def test_every_measure_on_a_date(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START, fte=0.8)
    seed.load(db_session, worker, 3, start=START)
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    seed.allocate(db_session, org.ap, cp, start=START)
    seed.allocate(db_session, worker, cp, start=START, role="co_worker")
    db_session.commit()
    response = client.get(f"/api/v1/nqsws/{worker.id}/workload", params={"on": "2026-11-15"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["programme"] == "asye" and body["on"] == "2026-11-15"
    assert body["programme_month"] == 2 and body["fte"] == 0.8 and body["status"] == "active"
    assert body["cases"]["held"] == 3 and body["cases"]["co_worked"] == 1
    assert body["cases"]["weighted"] == 3.5
    assert body["band"]["cap"] == 5 and body["band"]["enforcement"] == "block"
    assert body["stage"]["next_review"] == {"month": 3, "date": "2026-12-01"}
    cap = next(f for f in body["findings"] if f["rule_id"] == "caseload-cap")
    assert cap["outcome"] == "ok" and cap["enforcement"] == "block"
    assert cap["limit"] == 4  # 5 pro rata for 0.8 FTE
    assert cap["override_by"] == ["senior_manager"]
    coworking = next(f for f in body["findings"] if f["rule_id"] == "cp-coworking")
    assert coworking["outcome"] == "ok"
    assert body["points"] is not None  # the organisation's points scheme, even if inactive
    assert body["points"]["active"] is False


def test_a_pause_moves_the_stage(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    db_session.add(Pause(enrolment_id=enrolment.id, start_date=date(2026, 10, 1),  # type: ignore[arg-type]
                         end_date=date(2026, 11, 30), reason="health"))
    db_session.commit()
    body = client.get(f"/api/v1/nqsws/{worker.id}/workload",
                      params={"on": "2026-12-15"}).json()
    assert body["programme_month"] == 1 and body["band"]["cap"] == 5


def test_unknown_people_and_people_not_on_a_programme_are_404(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    assert client.get("/api/v1/nqsws/999999/workload").status_code == 404
    assert client.get(f"/api/v1/nqsws/{org.ap.id}/workload").status_code == 404
    before = client.get(f"/api/v1/nqsws/{worker.id}/workload", params={"on": "2026-08-01"})
    assert before.status_code == 404
    bad = client.get(f"/api/v1/nqsws/{worker.id}/workload", params={"on": "tomorrow"})
    assert bad.status_code == 422


def test_snapshots_are_loaded_in_a_constant_number_of_queries(
    db_session: Session, engine: Engine, tmp_path: Path
) -> None:
    """Everything the engine sees, for many NQSWs at once, without a query per case."""
    directory = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    (directory / "active.toml").write_text('asye = ["stage-caps", "working-towards-90"]\n'
                                           'swip = ["stage-caps"]\n')
    policies = load_policy_set(directory)
    org = seed.organisation(db_session)
    on = date(2026, 11, 15)
    for fte, count in ((1.0, 4), (0.5, 2), (1.0, 8)):  # experienced colleagues: 40, 20/0.5, 64
        colleague = seed.person(db_session, "social_worker", team_id=org.team_id, fte=fte,
                                experienced=True)
        seed.load(db_session, colleague, count, start=START)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    closed = seed.load(db_session, worker, 3, start=START)[0]
    closed.closed_on = date(2026, 11, 1)
    ended = seed.load(db_session, worker, 1, start=START)[0]
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    seed.allocate(db_session, worker, cp, start=START, role="co_worker")
    db_session.add_all([
        Pause(enrolment_id=enrolment.id, start_date=date(2026, 10, 1),  # type: ignore[arg-type]
              end_date=date(2026, 10, 7), reason="health"),
        SignOff(enrolment_id=enrolment.id, kind="child_protection",  # type: ignore[arg-type]
                signed_on=date(2026, 11, 1), team_manager_id=org.team_manager.id,  # type: ignore[arg-type]
                senior_manager_id=org.senior_manager.id, revoked_on=date(2026, 11, 10)),  # type: ignore[arg-type]
        Adjustment(enrolment_id=enrolment.id, policy_id="stage-caps",  # type: ignore[arg-type]
                   parameter="caseload-cap.bands.0.cap", value=4, reason="agreed",
                   approved_by_id=org.senior_manager.id, valid_from=date(2026, 9, 1),  # type: ignore[arg-type]
                   valid_to=date(2026, 11, 15)),
    ])
    db_session.flush()
    allocation = db_session.exec(select(Allocation).where(
        Allocation.case_id == ended.id)).one()
    allocation.end_date = on  # ends on the snapshot date: no longer held that day
    db_session.flush()

    snapshot = load_snapshot(db_session, worker.id, on, policies=policies)  # type: ignore[arg-type]
    assert snapshot is not None and snapshot.enrolment_id == enrolment.id
    assert len([i for i in snapshot.caseload if i.role == "holder"]) == 2
    assert closed.id not in {item.case_id for item in snapshot.caseload}
    assert ended.id not in {item.case_id for item in snapshot.caseload}
    coworked = next(item for item in snapshot.caseload if item.case_id == cp.id)
    assert coworked.role == "co_worker" and coworked.holder_is_advanced_practitioner is False
    assert [(p.start, p.end) for p in snapshot.pauses] == [(date(2026, 10, 1), date(2026, 10, 7))]
    assert snapshot.sign_offs == ()  # revoked before the snapshot date
    assert [a.value for a in snapshot.adjustments] == [4]  # valid to the end of its last day
    assert snapshot.benchmark_load is not None
    assert snapshot.benchmark_load == pytest.approx(median_of_colleagues(policies))
    assert date(2026, 12, 25) in snapshot.bank_holidays

    def queries_for(staff_ids: list[int]) -> int:
        with counting(engine) as count:
            load_snapshots(db_session, staff_ids, on, policies=policies)
        return count()

    others = [seed.nqsw(db_session, org, start=START)[0] for _ in range(5)]
    for other in others:
        seed.load(db_session, other, 3, start=START)
    db_session.flush()
    assert queries_for([worker.id]) == queries_for(  # type: ignore[list-item]
        [worker.id, *[o.id for o in others]])  # type: ignore[list-item]


def median_of_colleagues(policies: object) -> float:
    """The benchmark by hand: child-in-need complexity 2 is 4 points; stable 15 pro rata."""
    weights = next(r for r in policies.rules_for("asye")  # type: ignore[attr-defined]
                   if r.kind == "workload_share").params.weights
    per_case = weights.points["child_in_need"][1]
    loads = [(4 * per_case + 15) / 1.0, (2 * per_case + 15 * 0.5) / 0.5,
             (8 * per_case + 15) / 1.0]
    return sorted(loads)[1]


def test_the_openapi_shows_typed_workload_blocks(client: TestClient) -> None:
    """The points, share, band, stage and cases blocks are typed, not free-form objects."""
    document = client.get("/api/v1/openapi.json")
    if document.status_code == 404:
        document = client.get("/openapi.json")
    assert document.status_code == 200
    schemas = document.json()["components"]["schemas"]

    def block(name: str) -> dict[str, object]:
        field = schemas["Workload"]["properties"][name]
        options = field.get("anyOf", [field])
        refs = [o["$ref"] for o in options if "$ref" in o]
        assert refs, (name, field)
        return schemas[refs[0].rsplit("/", 1)[-1]]["properties"]

    assert {"load", "case_points", "stable_points", "allowance", "active"} <= set(block("points"))
    assert {"share", "target_share", "light", "benchmark_source"} <= set(block("share"))
    assert {"cap", "cap_for_fte", "label", "enforcement"} <= set(block("band"))
    assert {"programme_months", "next_review"} <= set(block("stage"))
    assert {"held", "co_worked", "total", "weighted"} <= set(block("cases"))
