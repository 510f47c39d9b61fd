"""Allocations over HTTP: every way a load can grow runs the policy check.

The programme here runs in 2030-31, after today: a write is reconciled up to today as
well as on its own dates, so these dates keep today out of every period. Back-dating
against today has its own test, with dates counted back from today.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import sessions
from app.clock import today
from app.models import Account, Allocation, AuditEvent, Breach, BreachEvent
from tests.scenarios import seed

CASELOAD_POLICIES = {"stage-caps", "complexity-gates", "cp-coworking"}
START = date(2030, 9, 1)  # programme start; month 1 runs to 2030-10-01
EARLY = date(2030, 10, 5)  # inside the first 3 months: cap 5, firm


def post(client: TestClient, **body: object) -> object:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in body.items()}
    return client.post("/api/v1/allocations", json=payload)


def caseload(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Only the caseload policies' findings or breaches (diary policies are tested elsewhere)."""
    return [i for i in items if i["policy_id"] in CASELOAD_POLICIES]


def allocations_of(session: Session, worker_id: int) -> list[Allocation]:
    return list(session.exec(select(Allocation).where(col(Allocation.worker_id) == worker_id)))


def audit_actors(session: Session, worker_id: int, *actions: str) -> list[tuple[str, int | None]]:
    """(action, actor) of the audit events about this NQSW with these actions, in order."""
    events = session.exec(select(AuditEvent).where(
        AuditEvent.nqsw_id == worker_id, col(AuditEvent.action).in_(actions),
    ).order_by(col(AuditEvent.id))).all()
    return [(e.action, e.actor_id) for e in events]


def test_within_the_cap_is_allocated_with_ok_findings(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client_as(org.team_manager), case_id=case.id, worker_id=worker.id,
                    role="holder", start_date=EARLY)
    assert response.status_code == 201, response.text
    body = response.json()
    # Recorded in the name of the person signed in.
    assert body["allocated_by_id"] == org.team_manager.id
    assert body["outcome"] == "ok" and caseload(body["breaches"]) == []
    assert body["case_id"] == case.id and body["start_date"] == "2030-10-05"
    cap = next(f for f in body["findings"] if f["rule_id"] == "caseload-cap")
    assert cap["outcome"] == "ok" and cap["measured"] == 5 and cap["limit"] == 5
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "allocation.create",
                                 AuditEvent.entity_id == str(body["id"]))
    ).all()
    assert len(events) == 1 and events[0].nqsw_id == worker.id
    assert events[0].actor_id == org.team_manager.id


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
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client_as(org.senior_manager), case_id=case.id, worker_id=worker.id,
                    start_date=EARLY, override_reason="Duty cover while a colleague is off sick")
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
    # The senior manager signed in is the one on record for the allocation and override.
    assert audit_actors(db_session, worker.id, "allocation.create", "allocation.override") == [
        ("allocation.create", org.senior_manager.id),
        ("allocation.override", org.senior_manager.id)]


def test_override_by_a_role_the_policy_does_not_allow_is_403(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client_as(org.team_manager), case_id=case.id, worker_id=worker.id,
                    start_date=EARLY, override_reason="Team is short")
    assert response.status_code == 403
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "override_reason"]
    assert "team manager" in detail["msg"] and "senior manager" in detail["msg"]
    assert len(allocations_of(db_session, worker.id)) == 5


def test_override_by_an_account_that_is_not_a_person_is_403(
    client: TestClient, db_session: Session
) -> None:
    # The test suite's all-access account has no staff record: nobody to record.
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY,
                    override_reason="Urgent")
    assert response.status_code == 403
    assert response.json()["detail"][0]["loc"] == ["body", "override_reason"]
    assert len(allocations_of(db_session, worker.id)) == 5


def test_over_a_flexible_cap_warns_and_opens_a_warning_breach(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 15, start=START)
    case = seed.case(db_session, opened_on=START)
    on = date(2031, 4, 1)  # month 7: cap 15 with "some flexibility"
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
                        json={"on": "2030-10-10", "reason": "AP moved team"})
    assert ended.status_code == 200
    # With no AP holding it, the co-worked CP case is already a breach of co-working.
    assert {b["rule_id"] for b in ended.json()["breaches"]} == set()
    breach_rules = {b.rule_id for b in db_session.exec(
        select(Breach).where(Breach.staff_id == worker.id,
                             col(Breach.policy_id).in_(CASELOAD_POLICIES)))}
    assert breach_rules == {"cp-coworking"}
    promoted = client.patch(f"/api/v1/allocations/{nqsw_alloc.id}",
                            json={"role": "holder", "on": "2030-10-12"})
    assert promoted.status_code == 409
    blocked = {d["finding"]["rule_id"] for d in promoted.json()["detail"]
               if d["type"] == "policy_block"}
    assert "complexity-gate" in blocked
    # The co-working breach was already open before the change: not what refused it.
    assert "cp-coworking" in pre_existing_rules(promoted)
    assert db_session.get(Allocation, nqsw_alloc.id).role == "co_worker"  # type: ignore[union-attr]


def test_reassigning_onto_a_full_nqsw_is_refused(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    colleague = seed.person(db_session, "social_worker", team_id=org.team_id)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    theirs = seed.allocate(db_session, colleague, case, start=START)
    db_session.commit()  # the starting facts survive a refused request
    response = client.patch(f"/api/v1/allocations/{theirs.id}",
                            json={"worker_id": worker.id, "on": "2030-10-05"})
    assert response.status_code == 409
    assert db_session.get(Allocation, theirs.id).end_date is None  # type: ignore[union-attr]
    allowed = client_as(org.senior_manager).patch(
        f"/api/v1/allocations/{theirs.id}",
        json={"worker_id": worker.id, "on": "2030-10-05",
              "override_reason": "Colleague leaving; agreed for two weeks"},
    )
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert body["allocated_by_id"] == org.senior_manager.id
    assert body["worker_id"] == worker.id and body["ended_allocation_id"] == theirs.id
    assert body["start_date"] == "2030-10-05"
    old = db_session.get(Allocation, theirs.id)
    assert old is not None and old.end_date == date(2030, 10, 5)
    assert [b["status"] for b in caseload(body["breaches"])] == ["overridden"]


def test_extending_an_allocation_at_the_cap_is_checked(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    first = seed.case(db_session, opened_on=START)
    short = seed.allocate(db_session, worker, first, start=START)
    short.end_date = date(2030, 10, 1)
    second = seed.case(db_session, opened_on=START)
    seed.allocate(db_session, worker, second, start=date(2030, 10, 1))
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    response = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": None})
    assert response.status_code == 409
    shorter = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": "2030-09-20"})
    assert shorter.status_code == 200 and shorter.json()["end_date"] == "2030-09-20"


def test_ending_an_allocation_resolves_the_breach_with_the_reason(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()  # the starting facts survive a refused request
    written = post(client_as(org.senior_manager), case_id=case.id, worker_id=worker.id,
                   start_date=EARLY, override_reason="Agreed at the service meeting").json()
    ended = client.post(f"/api/v1/allocations/{written['id']}/end",
                        json={"on": "2030-10-20", "reason": "case transferred"})
    assert ended.status_code == 200 and ended.json()["end_date"] == "2030-10-20"
    breach = db_session.get(Breach, caseload(written["breaches"])[0]["id"])
    assert breach is not None and breach.status == "resolved"
    assert breach.resolved_on == date(2030, 10, 20)
    assert "case transferred" in (breach.resolution or "")
    assert "within the cap of 5" in (breach.resolution or "")
    again = client.post(f"/api/v1/allocations/{written['id']}/end", json={"on": "2030-10-21"})
    assert again.status_code == 409


def test_check_is_a_what_if_that_writes_nothing(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    response = client.post("/api/v1/allocations/check", json={
        "case_id": case.id, "worker_id": worker.id, "role": "holder", "on": "2030-10-05"})
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "block" and body["enrolled"] is True
    assert {f["rule_id"] for f in caseload(body["findings"])} == {
        "caseload-cap", "complexity-gate", "cp-coworking"}
    later = client.post("/api/v1/allocations/check", json={
        "case_id": case.id, "worker_id": worker.id, "role": "holder", "on": "2030-12-01"})
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
    closed.closed_on = date(2030, 9, 20)
    db_session.flush()

    def loc(**body: object) -> tuple[int, list[str]]:
        db_session.commit()  # the starting facts survive a refused request
        response = post(client, **body)
        return response.status_code, response.json()["detail"][0]["loc"]

    assert loc(case_id=999999, worker_id=worker.id) == (422, ["body", "case_id"])
    assert loc(case_id=case.id, worker_id=999999) == (422, ["body", "worker_id"])
    assert loc(case_id=closed.id, worker_id=worker.id, start_date=EARLY) == (
        422, ["body", "case_id"])
    assert loc(case_id=case.id, worker_id=worker.id, start_date=date(2030, 8, 1)) == (
        422, ["body", "start_date"])
    assert loc(case_id=case.id, worker_id=worker.id, start_date=EARLY,
               end_date=date(2030, 10, 1)) == (422, ["body", "end_date"])
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
    ended.end_date = date(2030, 9, 15)
    seed.allocate(db_session, org.ap, cases[1], start=START, role="co_worker")
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    listed = client.get("/api/v1/allocations", params={"worker_id": worker.id}).json()
    assert listed["count"] == 3
    active = client.get("/api/v1/allocations",
                        params={"worker_id": worker.id, "on": "2030-10-01"}).json()
    assert active["count"] == 2
    co = client.get("/api/v1/allocations", params={"case_id": cases[1].id,
                                                   "role": "co_worker"}).json()
    assert co["count"] == 1 and co["data"][0]["worker_id"] == org.ap.id
    paged = client.get("/api/v1/allocations",
                       params={"worker_id": worker.id, "limit": 1, "offset": 1}).json()
    assert paged["count"] == 3 and len(paged["data"]) == 1
    assert client.get(f"/api/v1/allocations/{ended.id}").json()["end_date"] == "2030-09-15"
    assert client.get("/api/v1/allocations/999999").status_code == 404
    assert client.get("/api/v1/allocations", params={"on": "soon"}).status_code == 422


# --- the period an allocation covers ------------------------------------------------------


def blocking(response: object) -> list[dict[str, object]]:
    return [d for d in response.json()["detail"]  # type: ignore[attr-defined]
            if d["type"] == "policy_block"]


def test_allocations_made_in_advance_count_from_the_day_they_start(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    later = date(2030, 10, 15)
    seed.load(db_session, worker, 3, start=later)  # allocated ahead, from the 15th
    cases = [seed.case(db_session, opened_on=START) for _ in range(3)]
    db_session.commit()  # the starting facts survive a refused request
    for case in cases[:2]:
        written = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
        assert written.status_code == 201, written.text
    # On the 5th the third would be one of 3 cases, but on the 15th one of 6.
    refused = post(client, case_id=cases[2].id, worker_id=worker.id, start_date=EARLY)
    assert refused.status_code == 409, refused.text
    (block,) = blocking(refused)
    assert block["finding"]["rule_id"] == "caseload-cap"
    assert block["finding"]["on"] == "2030-10-15" and block["finding"]["measured"] == 6
    assert str(block["msg"]).startswith("On 2030-10-15: ")
    assert len(allocations_of(db_session, worker.id)) == 5
    # The what-if says the same, for the same period.
    check = client.post("/api/v1/allocations/check", json={
        "case_id": cases[2].id, "worker_id": worker.id, "role": "holder",
        "on": EARLY.isoformat()}).json()
    cap = next(f for f in check["findings"] if f["rule_id"] == "caseload-cap")
    assert check["outcome"] == "block" and cap["on"] == "2030-10-15"
    # Ending before the others start fits: the period decides.
    short = post(client, case_id=cases[2].id, worker_id=worker.id, start_date=EARLY,
                 end_date=later)
    assert short.status_code == 201, short.text
    assert short.json()["outcome"] == "ok"


def test_a_back_dated_allocation_meets_the_allocations_made_since(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=date(2030, 11, 2))
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()  # the starting facts survive a refused request
    refused = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert refused.status_code == 409
    assert blocking(refused)[0]["finding"]["on"] == "2030-11-02"
    # A senior manager may still allow it: the breach opens on the day it happens.
    allowed = post(client_as(org.senior_manager), case_id=case.id, worker_id=worker.id,
                   start_date=EARLY, override_reason="Agreed cover for the month")
    assert allowed.status_code == 201, allowed.text
    (breach,) = caseload(allowed.json()["breaches"])
    row = db_session.get(Breach, breach["id"])
    assert row is not None
    assert (row.status, row.opened_on, row.override_by_id) == (
        "overridden", date(2030, 11, 2), org.senior_manager.id)


def test_back_dated_before_today_records_what_happened_up_to_today(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    now = today()
    programme = now - timedelta(days=40)
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=programme)
    seed.load(db_session, worker, 5, start=programme)
    case, short_case = (seed.case(db_session, opened_on=programme, team_id=org.team_id)
                        for _ in range(2))
    db_session.commit()  # the starting facts survive a refused request
    senior = client_as(org.senior_manager)
    began = now - timedelta(days=20)
    written = post(senior, case_id=case.id, worker_id=worker.id, start_date=began,
                   override_reason="Cover agreed at the time")
    assert written.status_code == 201, written.text
    row = db_session.get(Breach, caseload(written.json()["breaches"])[0]["id"])
    assert row is not None
    assert (row.status, row.opened_on, row.last_seen_on) == ("overridden", began, now)
    # A period wholly in the past opens and resolves on its own dates.
    db_session.expire_all()
    ended = now - timedelta(days=30)
    # (the other breach is still unresolved: end it first, as it really happened)
    assert client.post(f"/api/v1/allocations/{written.json()['id']}/end",
                       json={"on": began.isoformat()}).status_code == 200
    past = post(senior, case_id=short_case.id, worker_id=worker.id,
                start_date=now - timedelta(days=35), end_date=ended,
                override_reason="Two days of cover, agreed")
    assert past.status_code == 201, past.text
    episodes = db_session.exec(select(Breach).where(
        Breach.staff_id == worker.id, Breach.rule_id == "caseload-cap",
        Breach.opened_on == now - timedelta(days=35))).all()
    assert len(episodes) == 1
    assert (episodes[0].resolved_on, episodes[0].resolution_cause) == (
        ended, "allocation_ended")


def test_extending_is_checked_over_the_whole_new_period(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    first = seed.case(db_session, opened_on=START)
    short = seed.allocate(db_session, worker, first, start=START)
    short.end_date = date(2030, 10, 1)
    seed.load(db_session, worker, 1, start=date(2030, 10, 20))
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    refused = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": None})
    assert refused.status_code == 409, refused.text
    assert blocking(refused)[0]["finding"]["on"] == "2030-10-20"
    assert db_session.get(Allocation, short.id).end_date == date(2030, 10, 1)  # type: ignore[union-attr]
    fits = client.patch(f"/api/v1/allocations/{short.id}", json={"end_date": "2030-10-20"})
    assert fits.status_code == 200, fits.text


def test_reassigning_with_a_longer_period_is_checked_over_it(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 4, start=START)
    seed.load(db_session, worker, 1, start=date(2030, 10, 20))
    colleague = seed.person(db_session, "social_worker", team_id=org.team_id)
    case = seed.case(db_session, opened_on=START)
    theirs = seed.allocate(db_session, colleague, case, start=START)
    theirs.end_date = date(2030, 10, 10)
    db_session.flush()
    db_session.commit()  # the starting facts survive a refused request
    refused = client.patch(f"/api/v1/allocations/{theirs.id}", json={
        "worker_id": worker.id, "on": EARLY.isoformat(), "end_date": None})
    assert refused.status_code == 409, refused.text
    assert blocking(refused)[0]["finding"]["on"] == "2030-10-20"
    assert db_session.get(Allocation, theirs.id).worker_id == colleague.id  # type: ignore[union-attr]
    fits = client.patch(f"/api/v1/allocations/{theirs.id}", json={
        "worker_id": worker.id, "on": EARLY.isoformat(), "end_date": "2030-10-20"})
    assert fits.status_code == 200, fits.text


def test_an_agreement_lowering_the_cap_later_is_checked(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 3, start=START)
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    agreed = client_as(org.senior_manager).post(f"/api/v1/nqsws/{worker.id}/adjustments", json={
        "policy_id": "stage-caps", "parameter": "caseload-cap.bands.0.cap", "value": 3,
        "reason": "A cap of 3 while she settles in",
        "valid_from": "2030-10-20", "valid_to": "2030-10-31"}, params={"on": "2030-10-01"})
    assert agreed.status_code == 201, agreed.text
    assert agreed.json()["approved_by_id"] == org.senior_manager.id
    refused = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert refused.status_code == 409, refused.text
    (block,) = blocking(refused)
    assert block["finding"]["on"] == "2030-10-20" and block["finding"]["limit"] == 3
    # From the day after the agreement ends the cap is 5 again.
    assert post(client, case_id=case.id, worker_id=worker.id,
                start_date=date(2030, 11, 1)).status_code == 201


def test_a_co_worker_becomes_holder_in_one_request(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    cin = seed.case(db_session, opened_on=START)
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    ap_cin = seed.allocate(db_session, org.ap, cin, start=START)
    ap_cp = seed.allocate(db_session, org.ap, cp, start=START)
    co_cin = seed.allocate(db_session, worker, cin, start=START, role="co_worker")
    co_cp = seed.allocate(db_session, worker, cp, start=START, role="co_worker")
    db_session.commit()  # the starting facts survive a refused request
    on = EARLY.isoformat()
    # Without saying so, the current holder is in the way.
    assert client.patch(f"/api/v1/allocations/{co_cin.id}",
                        json={"role": "holder", "on": on}).status_code == 409
    # A child protection case alone, early on: refused, and nothing changes at all.
    refused = client.patch(f"/api/v1/allocations/{co_cp.id}",
                           json={"role": "holder", "on": on, "end_current_holder": True})
    assert refused.status_code == 409
    assert {b["finding"]["rule_id"] for b in blocking(refused)} == {
        "complexity-gate", "cp-coworking"}
    db_session.expire_all()
    assert db_session.get(Allocation, ap_cp.id).end_date is None  # type: ignore[union-attr]
    assert db_session.get(Allocation, co_cp.id).role == "co_worker"  # type: ignore[union-attr]
    # A child in need case: the AP hands over, in the same request.
    handed = client.patch(f"/api/v1/allocations/{co_cin.id}",
                          json={"role": "holder", "on": on, "end_current_holder": True})
    assert handed.status_code == 200, handed.text
    body = handed.json()
    assert body["role"] == "holder" and body["worker_id"] == worker.id
    assert body["ended_holder_allocation_id"] == ap_cin.id
    assert body["ended_allocation_id"] == co_cin.id  # the co-working part is kept as it was
    db_session.expire_all()
    assert db_session.get(Allocation, ap_cin.id).end_date == EARLY  # type: ignore[union-attr]
    wrong = client.patch(f"/api/v1/allocations/{co_cp.id}",
                         json={"role": "co_worker", "end_current_holder": True, "on": on})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "end_current_holder"]


def test_a_warning_with_a_reason_is_recorded_on_its_breach(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    first, _ = seed.nqsw(db_session, org, start=START)
    second, _ = seed.nqsw(db_session, org, start=START)
    for worker in (first, second):
        seed.load(db_session, worker, 15, start=START)
    cases = [seed.case(db_session, opened_on=START, team_id=org.team_id) for _ in range(2)]
    db_session.commit()  # the starting facts survive a refused request
    on = date(2031, 4, 1)  # month 7: cap 15 with "some flexibility"
    by_manager = post(client_as(org.team_manager), case_id=cases[0].id, worker_id=first.id,
                      start_date=on, override_reason="Sibling group kept together")
    assert by_manager.status_code == 201, by_manager.text
    assert by_manager.json()["outcome"] == "warn"
    breach = db_session.get(Breach, caseload(by_manager.json()["breaches"])[0]["id"])
    assert breach is not None
    # Recorded, but a team manager's reason does not stop it reaching a senior manager.
    assert (breach.status, breach.override_reason, breach.override_by_id) == (
        "open", "Sibling group kept together", org.team_manager.id)
    actions = [e.action for e in db_session.exec(
        select(BreachEvent).where(BreachEvent.breach_id == breach.id))]
    assert actions == ["opened", "reason_given"]
    by_senior = post(client_as(org.senior_manager), case_id=cases[1].id, worker_id=second.id,
                     start_date=on, override_reason="Agreed at the service meeting")
    breach = db_session.get(Breach, caseload(by_senior.json()["breaches"])[0]["id"])
    assert breach is not None
    assert (breach.status, breach.override_by_id) == ("overridden", org.senior_manager.id)


# --- what a refusal is for, and what was already so ----------------------------------------

PRE_EXISTING = "Already the case before this allocation: "


def pre_existing_rules(response: object) -> set[str]:
    return {d["finding"]["rule_id"] for d in response.json()["detail"]  # type: ignore[attr-defined]
            if d["type"] == "policy_pre_existing"}


def assert_caused_first(detail: list[dict[str, object]]) -> None:
    """Every finding the proposal causes comes before every pre-existing one, and only
    the pre-existing ones are labelled so."""
    kinds = [d["pre_existing"] for d in detail if d["type"] != "policy_refused"]
    assert kinds == sorted(kinds), kinds  # False (caused) before True (pre-existing)
    for item in detail:
        if item["type"] == "policy_refused":
            continue
        labelled = str(item["msg"]).startswith(PRE_EXISTING)
        assert labelled is item["pre_existing"], item
        assert item["finding"]["caused_by_proposal"] is not item["pre_existing"]  # type: ignore[index]
        assert (item["type"] == "policy_pre_existing") is item["pre_existing"]


def check(client: TestClient, **body: object) -> dict[str, object]:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in body.items()}
    response = client.post("/api/v1/allocations/check", json=payload)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def grouped(body: dict[str, object]) -> tuple[list[str], set[str]]:
    """The check's caused rules (in order) and its pre-existing ones."""
    caused = [f["rule_id"] for f in body["caused"]]  # type: ignore[attr-defined]
    return caused, {f["rule_id"] for f in body["pre_existing"]}  # type: ignore[attr-defined]


def test_a_refusal_lists_what_it_causes_first_and_what_was_already_so_apart(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)  # no supervision yet: overdue
    seed.load(db_session, worker, 4, start=START)
    seed.load(db_session, worker, 1, start=START, category="child_protection_plan")
    case = seed.case(db_session, opened_on=START)
    db_session.commit()  # the starting facts survive a refused request
    refused = post(client, case_id=case.id, worker_id=worker.id, start_date=EARLY)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    first = detail[0]
    assert (first["type"], first["pre_existing"]) == ("policy_block", False)
    assert first["finding"]["rule_id"] == "caseload-cap" and first["finding"]["measured"] == 6
    assert first["msg"] == "6 cases would exceed the cap of 5 for the first 3 months."
    assert [d["finding"]["rule_id"] for d in blocking(refused)] == ["caseload-cap"]
    assert_caused_first(detail)
    # Breaches already there, firm ones too, are listed after it and say so.
    assert {"supervision-frequency", "complexity-gate", "cp-coworking"} <= pre_existing_rules(
        refused)
    supervision = next(d for d in detail if d["finding"]["rule_id"] == "supervision-frequency")
    assert supervision["msg"].startswith(PRE_EXISTING + "Supervision is overdue")
    assert "(none yet)" in supervision["msg"]
    # The what-if splits them the same way.
    body = check(client, case_id=case.id, worker_id=worker.id, role="holder", on=EARLY)
    caused, already = grouped(body)
    assert caused == ["caseload-cap"] and already == pre_existing_rules(refused)
    assert body["outcome"] == "block"
    assert len(allocations_of(db_session, worker.id)) == 5


def test_a_co_worker_becoming_holder_is_judged_against_the_load_before_the_request(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)  # no supervision yet: overdue
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    ap_cp = seed.allocate(db_session, org.ap, cp, start=START)
    co_cp = seed.allocate(db_session, worker, cp, start=START, role="co_worker")
    db_session.commit()  # the starting facts survive a refused request
    # Co-working with the advanced practitioner breaks nothing; holding it alone breaks
    # both rules, although the request ends the practitioner's allocation first.
    refused = client.patch(f"/api/v1/allocations/{co_cp.id}", json={
        "role": "holder", "on": EARLY.isoformat(), "end_current_holder": True})
    assert refused.status_code == 409, refused.text
    assert_caused_first(refused.json()["detail"])
    assert {d["finding"]["rule_id"] for d in blocking(refused)} == {
        "complexity-gate", "cp-coworking"}
    assert pre_existing_rules(refused) == {"supervision-frequency"}
    # The what-if for the same case as holder agrees.
    caused, already = grouped(check(client, case_id=cp.id, worker_id=worker.id,
                                    role="holder", on=EARLY))
    assert set(caused) == {"complexity-gate", "cp-coworking"}
    assert already == {"supervision-frequency"}
    db_session.expire_all()
    assert db_session.get(Allocation, ap_cp.id).end_date is None  # type: ignore[union-attr]
    # With the practitioner's allocation ended earlier, the co-working breach is already
    # there: the change is refused for the gate alone.
    ended = client.post(f"/api/v1/allocations/{ap_cp.id}/end", json={"on": "2030-10-01"})
    assert ended.status_code == 200, ended.text
    later = client.patch(f"/api/v1/allocations/{co_cp.id}",
                         json={"role": "holder", "on": EARLY.isoformat()})
    assert later.status_code == 409, later.text
    assert_caused_first(later.json()["detail"])
    assert [d["finding"]["rule_id"] for d in blocking(later)] == ["complexity-gate"]
    assert pre_existing_rules(later) == {"cp-coworking", "supervision-frequency"}
    caused, already = grouped(check(client, case_id=cp.id, worker_id=worker.id,
                                    role="holder", on=EARLY))
    assert caused == ["complexity-gate"] and already == pre_existing_rules(later)


def test_the_allocate_page_shows_what_was_already_so_apart(
    client: TestClient, db_session: Session
) -> None:
    programme = today() - timedelta(days=40)  # the page judges from today: month 2
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=programme)  # no supervision yet: overdue
    seed.load(db_session, worker, 5, start=programme)
    case = seed.case(db_session, opened_on=programme, team_id=org.team_id)
    account = Account(email=org.team_manager.email.lower(), staff_id=org.team_manager.id)
    db_session.add(account)
    db_session.flush()
    cookie, _ = sessions.start(db_session, account, client.app.state.settings,  # type: ignore[attr-defined]
                               address="testclient", user_agent="pytest")
    db_session.commit()
    del client.headers["Authorization"]  # the page is the team manager's, signed in
    client.cookies.set(sessions.COOKIE_NAME, cookie)
    page = client.get("/allocate", params={"worker_id": worker.id,
                                            "case_reference": case.reference})
    assert page.status_code == 200, page.text
    verdict = page.text[page.text.index('id="whatif-result"'):]
    label = "Already the case before this allocation, not caused by it ("
    assert label in verdict
    caused, already = verdict.split(label, 1)
    assert 'data-outcome="block"' in caused and "6 cases would exceed the cap of 5" in caused
    assert "Supervision is overdue" in already and "Supervision is overdue" not in caused
