"""Cases over HTTP: opened, changed as facts change, closed, never deleted."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import Allocation, Breach, Case
from app.models.base import CaseCategory
from app.policy.categories import Categories
from app.policy.policies import PolicySet
from app.repositories import case as case_repository
from app.repositories.base import table
from app.services.cases import known_categories


def make_team(client: TestClient, name: str = "Alpha") -> int:
    area = client.post("/api/v1/service-areas", json={"name": f"{name} area"}).json()["id"]
    return client.post("/api/v1/teams", json={"name": name, "service_area_id": area}).json()["id"]


def make_case(client: TestClient, reference: str = "C-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"reference": reference, "category": "child_in_need",
                            "complexity": 2, "opened_on": "2026-01-10"}
    body.update(fields)
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def make_worker(client: TestClient, email: str) -> int:
    response = client.post("/api/v1/staff", json={
        "name": email, "email": email, "role": "social_worker", "start_date": "2020-01-01"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_case_round_trip(client: TestClient) -> None:
    team = make_team(client)
    created = make_case(client, " C-100 ", team_id=team, complexity=4)
    assert created["reference"] == "C-100" and created["team_id"] == team
    assert created["closed_on"] is None
    fetched = client.get(f"/api/v1/cases/{created['id']}", params={"on": "2026-02-01"}).json()
    assert fetched["reference"] == "C-100" and fetched["allocations"] == []
    assert fetched["on"] == "2026-02-01"


def test_duplicate_reference_is_409_naming_it(client: TestClient) -> None:
    make_case(client, "C-7")
    response = client.post("/api/v1/cases", json={
        "reference": "C-7", "category": "early_help", "complexity": 1, "opened_on": "2026-01-01"})
    assert response.status_code == 409
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "reference"] and "C-7" in detail["msg"]


def test_category_must_be_known(client: TestClient) -> None:
    response = client.post("/api/v1/cases", json={
        "reference": "C-1", "category": "wizardry", "complexity": 1, "opened_on": "2026-01-01"})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "category"] and "wizardry" in detail["msg"]
    for category in CaseCategory:
        make_case(client, f"C-{category.value}", category=category.value)


def test_categories_come_from_the_policies_when_loaded() -> None:
    extra = PolicySet({}, {}, categories=Categories.with_extra({"private_fostering": "pf"}))
    assert "private_fostering" in known_categories(extra)
    assert "child_in_need" in known_categories(extra)
    assert sorted(known_categories(None)) == sorted(c.value for c in CaseCategory)


def test_list_filters_and_pagination(client: TestClient, db_session: Session) -> None:
    alpha, beta = make_team(client, "Alpha"), make_team(client, "Beta")
    a = make_case(client, "A-1", team_id=alpha, category="child_protection_plan", complexity=3)
    b = make_case(client, "B-1", team_id=beta, opened_on="2026-03-01")
    c = make_case(client, "C-1", team_id=beta, complexity=3)
    client.post(f"/api/v1/cases/{c['id']}/close", json={"on": "2026-02-01"})
    worker = make_worker(client, "w@example.org")
    db_session.add(Allocation(case_id=a["id"], worker_id=worker, role="holder",
                              start_date=date(2026, 1, 10)))
    db_session.add(Allocation(case_id=b["id"], worker_id=worker, role="co_worker",
                              start_date=date(2026, 3, 1), end_date=date(2026, 4, 1)))
    db_session.flush()

    def refs(**params: Any) -> list[str]:
        response = client.get("/api/v1/cases", params=params)
        assert response.status_code == 200, response.text
        return [row["reference"] for row in response.json()["data"]]

    assert refs() == ["A-1", "B-1", "C-1"]
    assert refs(category="child_protection_plan") == ["A-1"]
    assert refs(team_id=beta) == ["B-1", "C-1"]
    assert refs(complexity=3) == ["A-1", "C-1"]
    assert refs(open=True, on="2026-01-31") == ["A-1", "C-1"]
    assert refs(open=True, on="2026-02-01") == ["A-1"]
    assert refs(open=True, on="2026-03-01") == ["A-1", "B-1"]
    assert refs(open=False, on="2026-03-01") == ["C-1"]
    assert refs(worker_id=worker, on="2026-02-15") == ["A-1"]
    assert refs(worker_id=worker, on="2026-03-15") == ["A-1", "B-1"]
    assert refs(worker_id=worker, on="2026-04-01") == ["A-1"]
    page = client.get("/api/v1/cases", params={"limit": 1, "offset": 2}).json()
    assert page["count"] == 3 and page["data"][0]["reference"] == "C-1"
    assert client.get("/api/v1/cases", params={"complexity": 5}).status_code == 422


def test_detail_shows_allocations_current_on_the_date(
    client: TestClient, db_session: Session
) -> None:
    case = make_case(client)
    holder, co = make_worker(client, "h@example.org"), make_worker(client, "c@example.org")
    db_session.add(Allocation(case_id=case["id"], worker_id=holder, role="holder",
                              start_date=date(2026, 1, 10)))
    db_session.add(Allocation(case_id=case["id"], worker_id=co, role="co_worker",
                              start_date=date(2026, 2, 1), end_date=date(2026, 3, 1)))
    db_session.flush()

    def workers(on: str) -> list[tuple[int, str]]:
        body = client.get(f"/api/v1/cases/{case['id']}", params={"on": on}).json()
        return [(a["worker_id"], a["role"]) for a in body["allocations"]]

    assert workers("2026-01-09") == []
    assert workers("2026-01-31") == [(holder, "holder")]
    assert workers("2026-02-15") == [(holder, "holder"), (co, "co_worker")]
    assert workers("2026-03-01") == [(holder, "holder")]


def test_the_case_predicates_answer_for_the_date_asked_about(
    client: TestClient, db_session: Session
) -> None:
    """`open_on`, `held_on` and `facts_on` (app/repositories/case.py) are what every
    question about a case on a date is built from: each reads that date's value."""
    case = make_case(client)
    url = f"/api/v1/cases/{case['id']}"
    changed = client.patch(url, params={"on": "2026-03-01"}, json={"complexity": 4})
    assert changed.status_code == 200, changed.text
    assert client.post(f"{url}/close", json={"on": "2026-05-01"}).status_code == 200
    worker = make_worker(client, "w@example.org")
    db_session.add(Allocation(case_id=case["id"], worker_id=worker, role="holder",
                              start_date=date(2026, 2, 1), end_date=date(2026, 4, 1)))
    db_session.flush()
    cases, allocations = table(Case), table(Allocation)

    def on(day: date) -> tuple[bool, int, bool]:
        facts = case_repository.facts_on(day)
        opened, complexity = db_session.connection().execute(
            sa_select(case_repository.open_on(day), facts.complexity)
            .select_from(facts.source).where(cases.c.id == case["id"])
        ).one()
        held = db_session.connection().execute(
            sa_select(allocations.c.id).where(allocations.c.case_id == case["id"],
                                              case_repository.held_on(day))
        ).first() is not None
        return bool(opened), int(complexity), held

    assert on(date(2026, 1, 9))[0] is False
    assert on(date(2026, 1, 10)) == (True, 2, False)
    assert on(date(2026, 2, 1)) == (True, 2, True)
    assert on(date(2026, 3, 1)) == (True, 4, True)
    assert on(date(2026, 4, 1)) == (True, 4, False)
    assert on(date(2026, 5, 1)) == (False, 4, False)
    assert case_repository.workers_on_case(db_session, case["id"], date(2026, 3, 31)) == [worker]
    assert case_repository.workers_on_case(db_session, case["id"], date(2026, 4, 1)) == []


def test_change_of_facts_is_recorded_and_audited(client: TestClient) -> None:
    case = make_case(client)
    url = f"/api/v1/cases/{case['id']}"
    response = client.patch(url, params={"on": "2026-02-01"}, json={
        "category": "child_protection_plan", "complexity": 4, "reason": "conference held"})
    assert response.status_code == 200, response.text
    assert response.json()["category"] == "child_protection_plan"
    assert response.json()["complexity"] == 4
    event = client.get("/api/v1/audit", params={"action": "case.update"}).json()["data"][0]
    assert event["entity_id"] == str(case["id"])
    assert event["before"] == {"category": "child_in_need", "complexity": 2}
    assert event["after"]["on"] == "2026-02-01" and event["after"]["reason"] == "conference held"
    unknown = client.patch(url, json={"category": "wizardry"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "category"]
    assert client.patch(url, json={"complexity": 0}).status_code == 422
    assert client.patch(url, json={"reference": "X"}).status_code == 422
    assert client.patch("/api/v1/cases/424242", json={"complexity": 1}).status_code == 404


def test_closing_a_case(client: TestClient) -> None:
    case = make_case(client)
    url = f"/api/v1/cases/{case['id']}"
    early = client.post(f"{url}/close", json={"on": "2026-01-09"})
    assert early.status_code == 422 and early.json()["detail"][0]["loc"] == ["body", "on"]
    closed = client.post(f"{url}/close", json={"on": "2026-05-01", "reason": "stepped down"})
    assert closed.status_code == 200 and closed.json()["closed_on"] == "2026-05-01"
    assert client.post(f"{url}/close", json={"on": "2026-05-02"}).status_code == 409
    escalate = client.patch(url, json={"category": "care_proceedings"})
    assert escalate.status_code == 409
    assert client.get(url).status_code == 200
    events = client.get("/api/v1/audit", params={"entity": "case",
                                                 "entity_id": str(case["id"])}).json()
    assert [e["action"] for e in events["data"]] == ["case.close", "case.create"]
    assert client.post("/api/v1/cases/424242/close", json={"on": "2026-05-01"}).status_code == 404


def test_escalating_a_case_is_never_refused_and_reaches_the_nqsw(
    client: TestClient, db_session: Session
) -> None:
    nqsw = client.post("/api/v1/nqsws", json={
        "name": "Nina", "email": "nina@example.org", "programme": "asye",
        "start_date": "2026-01-05"}).json()["id"]
    case = make_case(client, opened_on="2026-01-05")
    db_session.add(Allocation(case_id=case["id"], worker_id=nqsw, role="holder",
                              start_date=date(2026, 1, 12)))
    db_session.flush()
    response = client.patch(f"/api/v1/cases/{case['id']}", params={"on": "2026-02-01"},
                            json={"category": "child_protection_plan", "complexity": 4})
    assert response.status_code == 200, response.text
    cp_rules = ("complexity-gates", "cp-coworking")

    def unresolved() -> set[str]:
        db_session.expire_all()
        rows = db_session.exec(select(Breach).where(
            Breach.staff_id == nqsw, Breach.status != "resolved",
            col(Breach.policy_id).in_(cp_rules),
        )).all()
        return {b.policy_id for b in rows}

    assert unresolved(), "a sole-held CP case in month 1 should open a breach, not fail"
    closed = client.post(f"/api/v1/cases/{case['id']}/close", json={"on": "2026-02-10"})
    assert closed.status_code == 200
    assert unresolved() == set()


def test_a_list_and_a_single_case_agree_on_who_can_see_it_on_the_last_day(
    client: TestClient, client_as: Any, db_session: Session
) -> None:
    """Two readings of "worked by one of my people" disagreed: the access check counted an
    allocation's end date as a day its worker still sees the case, the case list did not,
    so a team manager could open a case the list hid from them. Sight of a case now has
    one predicate (`case.reached_on`, end date included, so a worker can finish the case
    on its last day); the workload keeps `held_on` (the end date is not a day of work)."""
    from datetime import timedelta

    from app.auth.testing import make_staff
    from app.clock import today
    from app.models import Team

    mine, theirs = make_team(client, "Mine"), make_team(client, "Theirs")
    manager = make_staff(db_session, "team_manager", team_id=mine)
    team = db_session.get(Team, mine)
    assert team is not None
    team.manager_id = manager.id
    worker = make_staff(db_session, "social_worker", team_id=mine)
    day = today()
    ends_today = make_case(client, "LAST-1", team_id=theirs, opened_on="2026-01-10")
    ended = make_case(client, "LAST-2", team_id=theirs, opened_on="2026-01-10")
    for case, end in ((ends_today, day), (ended, day - timedelta(days=1))):
        db_session.add(Allocation(case_id=case["id"], worker_id=worker.id, role="co_worker",
                                  start_date=date(2026, 1, 12), end_date=end))
    db_session.commit()
    as_manager = client_as(manager)
    listed = {c["reference"] for c in as_manager.get(
        "/api/v1/cases", params={"on": day.isoformat(), "limit": 500}).json()["data"]}
    assert "LAST-1" in listed and "LAST-2" not in listed
    assert as_manager.get(f"/api/v1/cases/{ends_today['id']}").status_code == 200
    assert as_manager.get(f"/api/v1/cases/{ended['id']}").status_code == 404
