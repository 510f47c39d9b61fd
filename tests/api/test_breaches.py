"""The breach API for dashboards: lists, detail, acting on a breach, aggregates, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app.models import AuditEvent, Breach, BreachEvent
from tests.scenarios import seed

START = date(2026, 9, 1)
ON = date(2026, 12, 1)


@contextmanager
def counting(engine: Engine) -> Iterator[Callable[[], int]]:
    """Count the SQL statements the engine executes inside the block."""
    statements: list[str] = []

    def _count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(sql)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def history(db_session: Session, org: seed.Org, nqsws: int = 2) -> list[Breach]:
    """A small known history: breaches of two rules across two teams."""
    other = seed.organisation(db_session)
    made = []
    for index in range(nqsws):
        team_org = org if index % 2 == 0 else other
        worker, enrolment = seed.nqsw(db_session, team_org, start=START)
        made.append(seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2)))
        made.append(seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 25),
                                rule_id="complexity-gate", policy_id="complexity-gates",
                                severity="severe"))
        made.append(seed.breach(db_session, worker, enrolment, opened_on=date(2026, 10, 1),
                                rule_id="cp-coworking", policy_id="cp-coworking",
                                resolved_on=date(2026, 10, 20)))
    db_session.commit()
    return made


def test_list_filters_and_sorting(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    made = history(db_session, org)
    url = "/api/v1/breaches"
    everything = client.get(url, params={"on": ON.isoformat()}).json()
    assert everything["count"] == 6
    first = everything["data"][0]
    assert first["opened_on"] == "2026-11-25"  # newest first by default
    assert first["nqsw_name"] and first["team_name"] and first["age_days"] == 6
    assert first["age_working_days"] == 4
    unresolved = client.get(url, params={"unresolved": True}).json()
    assert unresolved["count"] == 4
    by_status = client.get(url, params=[("status", "resolved")]).json()
    assert by_status["count"] == 2
    team = client.get(url, params={"team_id": org.team_id}).json()
    assert team["count"] == 3
    area = client.get(url, params={"service_area_id": org.area.id}).json()
    assert area["count"] == 3
    rule = client.get(url, params={"rule_id": "complexity-gate"}).json()
    assert rule["count"] == 2 and {b["severity"] for b in rule["data"]} == {"severe"}
    severe = client.get(url, params=[("severity", "severe"), ("severity", "high")]).json()
    assert severe["count"] == 6
    staff = client.get(url, params={"staff_id": made[0].staff_id}).json()
    assert staff["count"] == 3
    old = client.get(url, params={"min_age_days": 20, "on": ON.isoformat(),
                                  "unresolved": True}).json()
    assert {b["rule_id"] for b in old["data"]} == {"caseload-cap"}
    open_then = client.get(url, params={"open_on": "2026-10-10"}).json()
    assert {b["rule_id"] for b in open_then["data"]} == {"cp-coworking"}
    by_severity = client.get(url, params={"sort": "-severity"}).json()["data"]
    assert by_severity[0]["severity"] == "severe" and by_severity[-1]["severity"] == "high"
    paged = client.get(url, params={"sort": "opened_on", "limit": 2, "offset": 2}).json()
    assert paged["count"] == 6 and len(paged["data"]) == 2
    assert paged["data"][0]["opened_on"] == "2026-11-02"
    assert client.get(url, params={"sort": "sideways"}).status_code == 422
    assert client.get(url, params={"status": "pending"}).status_code == 422


def test_detail_shows_evidence_and_history(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    ahead = date(2030, 9, 2)  # after today, so that today's reconciliation stays out of it
    worker, _ = seed.nqsw(db_session, org, start=ahead)
    seed.load(db_session, worker, 5, start=ahead)
    case = seed.case(db_session, opened_on=ahead, team_id=org.team_id)
    db_session.commit()
    written = client_as(org.senior_manager).post("/api/v1/allocations", json={
        "case_id": case.id, "worker_id": worker.id, "start_date": "2030-10-06",
        "override_reason": "Agreed cover for a month",
    }).json()
    breach_id = next(b["id"] for b in written["breaches"] if b["rule_id"] == "caseload-cap")
    detail = client.get(f"/api/v1/breaches/{breach_id}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["evidence"]["measured"] == 6 and body["evidence"]["limit"] == 5
    assert body["latest_evidence"]["rule_id"] == "caseload-cap"
    assert body["status"] == "overridden" and body["override_reason"] == "Agreed cover for a month"
    assert [h["action"] for h in body["history"]] == ["opened", "overridden"]
    assert body["history"][1]["actor_id"] == org.senior_manager.id
    assert client.get("/api/v1/breaches/999999").status_code == 404


def test_acknowledging_needs_a_note_and_an_open_breach(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    breach = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2))
    done = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 10, 1),
                       rule_id="cp-coworking", policy_id="cp-coworking",
                       resolved_on=date(2026, 10, 2))
    db_session.commit()
    url = f"/api/v1/breaches/{breach.id}/acknowledge"
    blank = client.post(url, json={"note": "   "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "note"]
    missing = client.post(url, json={})
    assert missing.status_code == 422
    acked = client_as(org.team_manager).post(url, json={
        "note": "Two cases move to Ada on Monday", "on": "2026-11-03"})
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledgement_note"] == "Two cases move to Ada on Monday"
    assert body["acknowledged_by_id"] == org.team_manager.id
    assert body["history"][-1]["action"] == "acknowledged"
    assert client.post(url, json={"note": "again"}).status_code == 409
    resolved = client.post(f"/api/v1/breaches/{done.id}/acknowledge", json={"note": "late"})
    assert resolved.status_code == 409
    assert client.post("/api/v1/breaches/999999/acknowledge",
                       json={"note": "x"}).status_code == 404
    audit = db_session.exec(select(AuditEvent).where(AuditEvent.action == "breach.acknowledge",
                                                     AuditEvent.entity_id == str(breach.id)))
    # One acknowledgement, in the name of the team manager who was signed in.
    assert [e.actor_id for e in audit.all()] == [org.team_manager.id]


def test_exception_needs_the_right_approver_a_reason_and_an_expiry(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    breach = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2))
    db_session.commit()
    url = f"/api/v1/breaches/{breach.id}/exception"
    base = {"reason": "Agreed step-down plan", "expires_on": "2026-12-31", "on": "2026-11-04"}
    # The approver is whoever is signed in: a team manager may not, nor an account that
    # is not a person at all.
    wrong = client_as(org.team_manager).post(url, json=base)
    assert wrong.status_code == 403
    nobody = client.post(url, json=base)
    assert nobody.status_code == 403 and nobody.json()["detail"][0]["type"] == "forbidden"
    senior = client_as(org.senior_manager)
    past = senior.post(url, json={**base, "expires_on": "2026-11-01"})
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "expires_on"]
    no_reason = senior.post(url, json={**base, "reason": ""})
    assert no_reason.status_code == 422
    granted = client_as(org.coordinator).post(url, json=base)
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert body["status"] == "excepted" and body["exception_expires_on"] == "2026-12-31"
    assert body["exception_approver_id"] == org.coordinator.id
    assert body["history"][-1]["action"] == "excepted"
    assert body["history"][-1]["actor_id"] == org.coordinator.id
    events = db_session.exec(select(BreachEvent).where(BreachEvent.breach_id == breach.id)).all()
    assert [e.action for e in events] == ["excepted"]
    audit = db_session.exec(select(AuditEvent).where(AuditEvent.action == "breach.exception",
                                                     AuditEvent.entity_id == str(breach.id)))
    assert [e.actor_id for e in audit.all()] == [org.coordinator.id]


def test_acting_on_a_breach_before_it_opened_is_422_naming_on(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    breach = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2))
    db_session.commit()
    early = client.post(f"/api/v1/breaches/{breach.id}/acknowledge",
                        json={"note": "Seen", "on": "2026-11-01"})
    assert early.status_code == 422
    assert early.json()["detail"][0]["loc"] == ["body", "on"]
    assert "2026-11-02" in early.json()["detail"][0]["msg"]
    excepted = client_as(org.senior_manager).post(f"/api/v1/breaches/{breach.id}/exception",
                                                  json={"reason": "Agreed",
                                                        "expires_on": "2026-12-31",
                                                        "on": "2026-10-30"})
    assert excepted.status_code == 422
    assert excepted.json()["detail"][0]["loc"] == ["body", "on"]
    # The day it opened is fine.
    assert client.post(f"/api/v1/breaches/{breach.id}/acknowledge",
                       json={"note": "Seen", "on": "2026-11-02"}).status_code == 200
    assert db_session.exec(select(BreachEvent).where(
        BreachEvent.breach_id == breach.id)).all()[0].effective_on == date(2026, 11, 2)


def test_filter_by_nqsw_id_and_by_why_it_resolved(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    made = history(db_session, org)
    made[2].resolution_cause = "allocation_ended"
    made[5].resolution_cause = "stage_moved_on"
    db_session.commit()
    url = "/api/v1/breaches"
    by_nqsw = client.get(url, params={"nqsw_id": made[0].staff_id}).json()
    by_staff = client.get(url, params={"staff_id": made[0].staff_id}).json()
    assert by_nqsw["count"] == by_staff["count"] == 3
    both = client.get(url, params={"nqsw_id": made[0].staff_id, "staff_id": made[3].staff_id})
    assert both.status_code == 422 and both.json()["detail"][0]["loc"] == ["query", "nqsw_id"]
    ended = client.get(url, params={"resolution_cause": "allocation_ended"}).json()
    assert [b["id"] for b in ended["data"]] == [made[2].id]
    assert ended["data"][0]["resolution_cause"] == "allocation_ended"
    either = client.get(url, params=[("resolution_cause", "allocation_ended"),
                                     ("resolution_cause", "stage_moved_on")]).json()
    assert either["count"] == 2
    unknown = client.get(url, params={"resolution_cause": "luck"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "resolution_cause", 0]
    exported = client.get("/api/v1/breaches.csv",
                          params={"resolution_cause": "stage_moved_on", "on": ON.isoformat()})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["id"], r["resolution_cause"]) for r in rows] == [
        (str(made[5].id), "stage_moved_on")]


def test_summary_counts_by_team_and_rule_with_ageing(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    history(db_session, org)
    summary = client.get("/api/v1/breaches/summary", params={"on": ON.isoformat()}).json()
    assert summary["total"] == 4
    assert summary["by_status"] == {"open": 4}
    assert summary["by_severity"] == {"high": 2, "severe": 2}
    counts = {(r["team_id"], r["rule_id"]): r["count"] for r in summary["by_team_rule"]}
    assert counts[(org.team_id, "caseload-cap")] == 1
    assert sum(counts.values()) == 4
    ageing = {b["label"]: b["count"] for b in summary["ageing"]}
    # Opened 2026-11-25: 4 working days; 2026-11-02: 21 working days by 2026-12-01.
    assert ageing == {"0-5": 2, "6-10": 0, "11-20": 0, "21+": 2}
    past = client.get("/api/v1/breaches/summary", params={"on": "2026-10-10"}).json()
    assert past["total"] == 2 and past["by_team_rule"][0]["rule_id"] == "cp-coworking"
    team = client.get("/api/v1/breaches/summary",
                      params={"on": ON.isoformat(), "team_id": org.team_id}).json()
    assert team["total"] == 2


def test_trend_is_a_weekly_open_series(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    history(db_session, org)
    trend = client.get("/api/v1/breaches/trend",
                       params={"on": ON.isoformat(), "weeks": 10}).json()
    series = trend["series"]
    assert len(series) == 10 and series[-1]["week_ending"] == "2026-12-01"
    by_week = {p["week_ending"]: p for p in series}
    assert by_week["2026-12-01"]["open"] == 4
    assert by_week["2026-12-01"]["opened"] == 2  # 2026-11-25
    assert by_week["2026-10-20"]["open"] == 0 and by_week["2026-10-20"]["resolved"] == 2
    assert by_week["2026-10-13"]["open"] == 2
    assert client.get("/api/v1/breaches/trend", params={"weeks": 0}).status_code == 422


def test_csv_export_uses_the_same_filters(client: TestClient, db_session: Session) -> None:
    org = seed.organisation(db_session)
    history(db_session, org)
    response = client.get("/api/v1/breaches.csv",
                          params={"unresolved": True, "on": ON.isoformat()})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "breaches-2026-12-01.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    assert {r["rule_id"] for r in rows} == {"caseload-cap", "complexity-gate"}
    assert all(r["status"] == "open" and r["nqsw_name"] for r in rows)


def test_dashboard_queries_are_bounded(
    client: TestClient, db_session: Session, engine: Engine
) -> None:
    """The same number of statements for 2 NQSWs' breaches as for 12."""
    org = seed.organisation(db_session)
    history(db_session, org, nqsws=2)
    urls = ["/api/v1/breaches", "/api/v1/breaches/summary", "/api/v1/breaches/trend",
            "/api/v1/breaches.csv"]

    def measure() -> list[int]:
        counts = []
        for url in urls:
            with counting(engine) as count:
                assert client.get(url, params={"on": ON.isoformat()}).status_code == 200
            counts.append(count())
        return counts

    measure()  # the first request also records the sign-in's use
    small = measure()
    history(db_session, org, nqsws=12)
    assert measure() == small


def test_writes_over_several_dates_do_not_repeat_a_breachs_history(
    client: TestClient, db_session: Session
) -> None:
    """A write reconciles each date of its period; a breach that holds on all of them gets
    one line of history, not one per date (and a day-by-day measure is not a change)."""
    org = seed.organisation(db_session)
    start = date(2026, 9, 1)
    worker, _ = seed.nqsw(db_session, org, start=start)
    db_session.commit()
    for day in ("2026-10-05", "2026-10-19", "2026-11-02"):  # supervision is overdue throughout
        case = seed.case(db_session, opened_on=start)
        db_session.commit()
        written = client.post("/api/v1/allocations", json={
            "case_id": case.id, "worker_id": worker.id, "role": "holder", "start_date": day})
        assert written.status_code == 201, written.text
    breach = db_session.exec(select(Breach).where(
        Breach.staff_id == worker.id, Breach.rule_id == "supervision-frequency")).one()
    history = db_session.exec(select(BreachEvent).where(
        BreachEvent.breach_id == breach.id)).all()
    lines = [(e.action, e.effective_on, e.note) for e in history]
    assert len(lines) == len(set(lines)), lines
    # One real change only: weekly supervision became fortnightly after week 6.
    assert [e.action for e in history].count("updated") == 1, lines
