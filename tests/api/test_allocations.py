"""Allocations over HTTP: every way a load can grow runs the policy check."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import Allocation, AuditEvent, Breach
from tests.scenarios import seed

CASELOAD_POLICIES = {"stage-caps", "complexity-gates", "cp-coworking"}
START = date(2026, 9, 1)  # programme start; month 1 runs to 2026-10-01
EARLY = date(2026, 10, 5)  # inside the first 3 months: cap 5, firm


def post(client: TestClient, **body: object) -> object:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in body.items()}
    return client.post("/api/v1/allocations", json=payload)


def caseload(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Only the caseload policies' findings or breaches (diary policies are tested elsewhere)."""
    return [i for i in items if i["policy_id"] in CASELOAD_POLICIES]


def allocations_of(session: Session, worker_id: int) -> list[Allocation]:
    return list(session.exec(select(Allocation).where(col(Allocation.worker_id) == worker_id)))


def test_within_the_cap_is_allocated_with_ok_findings(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, role="holder",
                    start_date=EARLY, allocated_by_id=org.team_manager.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "ok" and caseload(body["breaches"]) == []
    assert body["case_id"] == case.id and body["start_date"] == "2026-10-05"
    cap = next(f for f in body["findings"] if f["rule_id"] == "caseload-cap")
    assert cap["outcome"] == "ok" and cap["measured"] == 5 and cap["limit"] == 5
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "allocation.create",
                                 AuditEvent.entity_id == str(body["id"]))
    ).all()
    assert len(events) == 1 and events[0].nqsw_id == worker.id


def test_over_a_firm_cap_is_409_with_findings_and_nothing_written(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    blocking = [d for d in detail if d["type"] == "policy_block"]
    assert len(blocking) == 1
    finding = blocking[0]["finding"]
    assert finding["rule_id"] == "caseload-cap" and finding["measured"] == 6
    assert finding["limit"] == 5 and finding["caused_by_proposal"] is True
    assert "cap of 5" in blocking[0]["msg"]
    assert len(allocations_of(db_session, worker.id)) == 5
    assert db_session.exec(select(Breach).where(Breach.staff_id == worker.id)).all() == []
    assert db_session.exec(select(AuditEvent).where(AuditEvent.nqsw_id == worker.id)).all() == []


def test_senior_manager_override_opens_an_overridden_breach(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY,
                    override_reason="Duty cover while a colleague is off sick",
                    allocated_by_id=org.senior_manager.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "block"
    assert [b["status"] for b in caseload(body["breaches"])] == ["overridden"]
    breach = db_session.get(Breach, caseload(body["breaches"])[0]["id"])
    assert breach is not None
    assert breach.override_by_id == org.senior_manager.id
    assert breach.override_reason == "Duty cover while a colleague is off sick"
    assert breach.allocation_id == body["id"] and breach.opened_on == EARLY
    assert breach.evidence["measured"] == 6 and breach.policy_version
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.nqsw_id == worker.id).order_by(AuditEvent.id)).all()
    actions = [e.action for e in events
               if e.action.startswith("allocation") or e.entity_id == str(breach.id)]
    assert actions == ["allocation.create", "allocation.override", "breach.open"]


def test_override_by_a_role_the_policy_does_not_allow_is_403(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY,
                    override_reason="Team is short", allocated_by_id=org.team_manager.id)
    assert response.status_code == 403
    assert response.json()["detail"][0]["loc"] == ["body", "allocated_by_id"]
    assert len(allocations_of(db_session, worker.id)) == 5


def test_override_without_an_approver_is_422(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY,
                    override_reason="Urgent")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "allocated_by_id"]


def test_over_a_flexible_cap_warns_and_opens_a_warning_breach(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 15, start=START)
    case = seed.case(db_session, opened_on=START)
    on = date(2027, 4, 1)  # month 7: cap 15 with "some flexibility"
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=on)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "warn"
    assert [(b["rule_id"], b["level"], b["status"]) for b in caseload(body["breaches"])] == [
        ("caseload-cap", "warn", "open")
    ]


def test_a_worker_not_on_a_programme_has_no_rules(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "social_worker", team_id=org.team_id, experienced=True)
    seed.load(db_session, worker, 25, start=START, category="child_protection_plan",
              complexity=4)
    case = seed.case(db_session, opened_on=START, category="care_proceedings", complexity=4)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert response.status_code == 201
    assert response.json()["findings"] == [] and response.json()["outcome"] == "ok"
    assert response.json()["breaches"] == []


def test_an_existing_breach_does_not_refuse_an_unrelated_allocation(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 1, start=START, category="child_protection_plan")
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "ok"
    complexity = next(f for f in body["findings"] if f["rule_id"] == "complexity-gate")
    assert complexity["outcome"] == "block" and complexity["caused_by_proposal"] is False
    # The existing breach is recorded by reconciliation, not by refusing the new case.
    statuses = {b["rule_id"]: b["status"] for b in caseload(body["breaches"])}
    assert statuses == {"complexity-gate": "open", "cp-coworking": "open"}


def test_cp_case_alone_is_refused_but_co_working_with_an_ap_is_allowed(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START, category="child_protection_plan")
    db_session.commit()  # the starting facts survive a refused request
    alone = post(client, case_id=case.id, worker_id=worker.id, role="holder", start_date=EARLY)
    assert alone.status_code == 409
    rules = {d["finding"]["rule_id"] for d in alone.json()["detail"] if d["type"] == "policy_block"}
    assert rules == {"complexity-gate", "cp-coworking"}
    held = post(client, case_id=case.id, worker_id=org.ap.id, role="holder", start_date=EARLY)
    assert held.status_code == 201
    cowork = post(client, case_id=case.id, worker_id=worker.id, role="co_worker",
                  start_date=EARLY)
    assert cowork.status_code == 201, cowork.text
    assert cowork.json()["outcome"] == "ok"


def test_co_worker_becoming_holder_runs_the_check(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START, category="child_protection_plan")
    ap_alloc = seed.allocate(db_session, org.ap, case, start=START)
    nqsw_alloc = seed.allocate(db_session, worker, case, start=START, role="co_worker")
    db_session.commit()  # the starting facts survive a refused request
    ended = client.post(f"/api/v1/allocations/{ap_alloc.id}/end",
                        json={"on": "2026-10-10", "reason": "AP moved team"})
    assert ended.status_code == 200
    # With no AP holding it, the co-worked CP case is already a breach of co-working.
    assert {b["rule_id"] for b in ended.json()["breaches"]} == set()
    breach_rules = {b.rule_id for b in db_session.exec(
        select(Breach).where(Breach.staff_id == worker.id,
                             col(Breach.policy_id).in_(CASELOAD_POLICIES)))}
    assert breach_rules == {"cp-coworking"}
    promoted = client.patch(f"/api/v1/allocations/{nqsw_alloc.id}",
                            json={"role": "holder", "on": "2026-10-12"})
    assert promoted.status_code == 409
    blocked = {d["finding"]["rule_id"] for d in promoted.json()["detail"]
               if d["type"] == "policy_block"}
    assert "complexity-gate" in blocked
    assert db_session.get(Allocation, nqsw_alloc.id).role == "co_worker"  # type: ignore[union-attr]


def test_reassigning_onto_a_full_nqsw_is_refused(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    colleague = seed.person(db_session, "social_worker", team_id=org.team_id)
    case = seed.case(db_session, opened_on=START)
    theirs = seed.allocate(db_session, colleague, case, start=START)
    db_session.commit()  # the starting facts survive a refused request
    response = client.patch(f"/api/v1/allocations/{theirs.id}",
                            json={"worker_id": worker.id, "on": "2026-10-05"})
    assert response.status_code == 409
    assert db_session.get(Allocation, theirs.id).end_date is None  # type: ignore[union-attr]
    allowed = client.patch(
        f"/api/v1/allocations/{theirs.id}",
        json={"worker_id": worker.id, "on": "2026-10-05", "actor_id": org.senior_manager.id,
              "override_reason": "Colleague leaving; agreed for two weeks"},
    )
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert body["worker_id"] == worker.id and body["ended_allocation_id"] == theirs.id
    assert body["start_date"] == "2026-10-05"
    old = db_session.get(Allocation, theirs.id)
    assert old is not None and old.end_date == date(2026, 10, 5)
    assert [b["status"] for b in caseload(body["breaches"])] == ["overridden"]


def test_extending_an_allocation_at_the_cap_is_checked(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    first = seed.case(db_session, opened_on=START)
    short = seed.allocate(db_session, worker, first, start=START)
    short.end_date = date(2026, 10, 1)
    second = seed.case(db_session, opened_on=START)
    seed.allocate(db_session, worker, second, start=date(2026, 10, 1))
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    response = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": None})
    assert response.status_code == 409
    shorter = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": "2026-09-20"})
    assert shorter.status_code == 200 and shorter.json()["end_date"] == "2026-09-20"


def test_ending_an_allocation_resolves_the_breach_with_the_reason(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    written = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY,
                   override_reason="Agreed", allocated_by_id=org.senior_manager.id).json()
    ended = client.post(f"/api/v1/allocations/{written['id']}/end",
                        json={"on": "2026-10-20", "reason": "case transferred"})
    assert ended.status_code == 200 and ended.json()["end_date"] == "2026-10-20"
    breach = db_session.get(Breach, caseload(written["breaches"])[0]["id"])
    assert breach is not None and breach.status == "resolved"
    assert breach.resolved_on == date(2026, 10, 20)
    assert "case transferred" in (breach.resolution or "")
    assert "within the cap of 5" in (breach.resolution or "")
    again = client.post(f"/api/v1/allocations/{written['id']}/end", json={"on": "2026-10-21"})
    assert again.status_code == 409


def test_check_is_a_what_if_that_writes_nothing(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = client.post("/api/v1/allocations/check", json={
        "case_id": case.id, "worker_id": worker.id, "role": "holder", "on": "2026-10-05"})
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "block" and body["enrolled"] is True
    assert {f["rule_id"] for f in caseload(body["findings"])} == {
        "caseload-cap", "complexity-gate", "cp-coworking"}
    later = client.post("/api/v1/allocations/check", json={
        "case_id": case.id, "worker_id": worker.id, "role": "holder", "on": "2026-12-01"})
    assert later.json()["outcome"] == "ok"  # month 3: the cap is 10
    assert len(allocations_of(db_session, worker.id)) == 5
    unknown = client.post("/api/v1/allocations/check", json={
        "case_id": 999999, "worker_id": worker.id, "role": "holder"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
        "body", "case_id"]


def test_validation_names_the_field(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START)
    closed = seed.case(db_session, opened_on=START)
    closed.closed_on = date(2026, 9, 20)
    db_session.flush()

    def loc(**body: object) -> tuple[int, list[str]]:
        db_session.commit()  # the starting facts survive a refused request
        response = post(client, **body)
        return response.status_code, response.json()["detail"][0]["loc"]

    assert loc(case_id=999999, worker_id=worker.id) == (422, ["body", "case_id"])
    assert loc(case_id=case.id, worker_id=999999) == (422, ["body", "worker_id"])
    assert loc(case_id=closed.id, worker_id=worker.id, start_date=EARLY) == (
        422, ["body", "case_id"])
    assert loc(case_id=case.id, worker_id=worker.id, start_date=date(2026, 8, 1)) == (
        422, ["body", "start_date"])
    assert loc(case_id=case.id, worker_id=worker.id, start_date=EARLY,
               end_date=date(2026, 10, 1)) == (422, ["body", "end_date"])
    assert loc(case_id=case.id, worker_id=worker.id, role="boss") == (422, ["body", "role"])
    assert post(client, case_id=case.id, worker_id=worker.id,
                start_date=EARLY).status_code == 201
    assert loc(case_id=case.id, worker_id=worker.id, start_date=EARLY, role="co_worker") == (
        409, ["body", "case_id"])


def test_list_filters_and_get(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    cases = seed.load(db_session, worker, 3, start=START)
    ended = allocations_of(db_session, worker.id)[0]
    ended.end_date = date(2026, 9, 15)
    seed.allocate(db_session, org.ap, cases[1], start=START, role="co_worker")
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    listed = client.get("/api/v1/allocations", params={"worker_id": worker.id}).json()
    assert listed["count"] == 3
    active = client.get("/api/v1/allocations",
                        params={"worker_id": worker.id, "on": "2026-10-01"}).json()
    assert active["count"] == 2
    co = client.get("/api/v1/allocations", params={"case_id": cases[1].id,
                                                   "role": "co_worker"}).json()
    assert co["count"] == 1 and co["data"][0]["worker_id"] == org.ap.id
    paged = client.get("/api/v1/allocations",
                       params={"worker_id": worker.id, "limit": 1, "offset": 1}).json()
    assert paged["count"] == 3 and len(paged["data"]) == 1
    assert client.get(f"/api/v1/allocations/{ended.id}").json()["end_date"] == "2026-09-15"
    assert client.get("/api/v1/allocations/999999").status_code == 404
    assert client.get("/api/v1/allocations", params={"on": "soon"}).status_code == 422
