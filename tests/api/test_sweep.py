"""The sweep: what time alone trips, reconciled idempotently, one sweep at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.db import make_engine
from app.jobs import scheduler
from app.models import AuditEvent, Breach, BreachEvent, Notification
from app.policy.registry import load_policy_set
from app.settings import PROJECT_ROOT
from tests.api.test_breaches import counting
from tests.scenarios import seed

START = date(2026, 9, 1)
CASELOAD = ("stage-caps", "complexity-gates", "cp-coworking")


def sweep(client: TestClient, as_of: str) -> dict[str, int]:
    response = client.post("/api/v1/breaches/sweep", json={"as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()


def caseload_breaches(session: Session, staff_id: int) -> list[Breach]:
    return list(session.exec(
        select(Breach).where(Breach.staff_id == staff_id, col(Breach.policy_id).in_(CASELOAD))
        .order_by(col(Breach.id))
    ))


def test_a_stage_boundary_opens_and_then_resolves_a_breach(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    complex_case = seed.case(db_session, opened_on=START, complexity=4)
    seed.allocate(db_session, worker, complex_case, start=START)  # held, not co-worked
    db_session.commit()
    first = sweep(client, "2027-02-26")  # month 5: no complexity 4 held before month 6
    assert first["opened"] >= 1
    [breach] = caseload_breaches(db_session, worker.id)  # type: ignore[arg-type]
    assert breach.rule_id == "complexity-gate" and breach.opened_on == date(2027, 2, 26)
    assert breach.status == "open" and breach.evidence["details"]["cases"]
    sweep(client, "2027-03-01")  # month 6 reached: the gate has lifted
    db_session.refresh(breach)
    assert breach.status == "resolved" and breach.resolved_on == date(2027, 3, 1)
    assert breach.resolution is not None
    assert breach.resolution.startswith("Daily check on 2027-03-01: the programme moved into "
                                        "its next stage; now within the rule")
    assert breach.resolution_cause == "stage_moved_on"
    actions = [e.action for e in db_session.exec(
        select(BreachEvent).where(BreachEvent.breach_id == breach.id)
        .order_by(col(BreachEvent.id)))]
    assert actions == ["opened", "escalated", "resolved"]  # severe: escalated at once


def test_sweeping_twice_changes_nothing_the_second_time(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 6, start=START)
    db_session.commit()

    def totals() -> tuple[int, int, int, int]:
        return tuple(  # type: ignore[return-value]
            db_session.exec(select(func.count()).select_from(model)).one()
            for model in (Breach, BreachEvent, AuditEvent, Notification)
        )

    first = sweep(client, "2026-10-05")
    assert first["opened"] >= 1 and first["nqsws"] == 1
    before = totals()
    second = sweep(client, "2026-10-05")
    assert second["opened"] == 0 and second["resolved"] == 0 and second["escalated"] == 0
    assert second["kept"] == first["opened"]
    assert totals() == before


def test_an_ended_enrolment_resolves_its_breaches(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 6, start=START)
    db_session.commit()
    sweep(client, "2026-10-05")
    enrolment.status, enrolment.ended_on = "withdrawn", date(2026, 10, 6)
    db_session.commit()
    sweep(client, "2026-10-07")
    breaches = caseload_breaches(db_session, worker.id)  # type: ignore[arg-type]
    assert breaches and all(b.status == "resolved" for b in breaches)
    assert "no longer on a programme on 2026-10-07" in (breaches[0].resolution or "")
    assert {b.resolution_cause for b in breaches} == {"programme_ended"}


def test_a_sign_off_resolves_the_child_protection_breaches_as_sign_off(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    cp = seed.case(db_session, opened_on=START, category="child_protection_plan")
    seed.allocate(db_session, worker, cp, start=START)
    db_session.commit()
    sweep(client, "2026-10-05")
    assert {b.rule_id for b in caseload_breaches(db_session, worker.id)} == {  # type: ignore[arg-type]
        "complexity-gate", "cp-coworking"}
    seed.sign_off(db_session, enrolment, org, date(2026, 10, 12))
    db_session.commit()
    sweep(client, "2026-10-12")
    breaches = caseload_breaches(db_session, worker.id)  # type: ignore[arg-type]
    assert [(b.status, b.resolution_cause) for b in breaches] == [
        ("resolved", "sign_off"), ("resolved", "sign_off")]


def test_an_expired_exception_reopens_the_day_after_expiry(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 6, start=START)
    db_session.commit()
    sweep(client, "2026-10-05")
    [breach] = [b for b in caseload_breaches(db_session, worker.id)  # type: ignore[arg-type]
                if b.rule_id == "caseload-cap"]
    granted = client_as(org.senior_manager).post(f"/api/v1/breaches/{breach.id}/exception",
                                                 json={"reason": "Team recovery plan agreed",
                                                       "expires_on": "2026-10-20",
                                                       "on": "2026-10-06"})
    assert granted.status_code == 200
    sweep(client, "2026-10-20")
    db_session.refresh(breach)
    assert breach.status == "excepted" and breach.escalation_level == 0
    sweep(client, "2026-10-21")
    db_session.refresh(breach)
    assert breach.status == "open"
    assert breach.escalation_due_on == date(2026, 10, 28)
    reopened = db_session.exec(select(Notification).where(
        Notification.breach_id == breach.id, Notification.kind == "breach.reopened")).all()
    assert [n.recipient_id for n in reopened] == [org.team_manager.id]


def test_sweep_queries_do_not_grow_with_the_number_of_nqsws(
    client: TestClient, db_session: Session, engine: Engine
) -> None:
    org = seed.organisation(db_session)

    def add(count: int) -> None:
        for _ in range(count):
            worker, _ = seed.nqsw(db_session, org, start=START)
            seed.load(db_session, worker, 6, start=START)
        db_session.commit()

    def measured() -> int:
        sweep(client, "2026-10-05")  # opens what there is to open
        with counting(engine) as count:
            sweep(client, "2026-10-05")  # nothing changes: reads, compares, writes nothing
        return count()

    add(2)
    small = measured()
    add(6)
    assert measured() == small


def test_the_command_line_sweep(fresh_database_url: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url)
    with Session(engine) as session:
        org = seed.organisation(session)
        worker, _ = seed.nqsw(session, org, start=START)
        seed.load(session, worker, 6, start=START)
        session.commit()
        worker_id = worker.id
    env = {**os.environ, "RINGFENCE_DATABASE_URL": fresh_database_url,
           "RINGFENCE_DATA_DIR": str(tmp_path)}
    ringfence = str(Path(sys.executable).parent / "ringfence")  # the installed command
    command = [ringfence, "sweep", "--as-of", "2026-10-05"]
    run = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "as of 2026-10-05" in run.stdout and "opened" in run.stdout
    with Session(engine) as session:
        rules = {b.rule_id for b in caseload_breaches(session, worker_id)}  # type: ignore[arg-type]
    assert rules == {"caseload-cap"}
    again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "opened 0" in again.stdout
    bad = subprocess.run([*command[:-1], "5th October"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a date" in bad.stderr
    engine.dispose()


def test_only_one_sweep_at_a_time_and_once_a_day(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    policies = load_policy_set(PROJECT_ROOT / "policies")
    try:
        with scheduler.exclusive(engine) as first:
            assert first is True
            with scheduler.exclusive(engine) as second:
                assert second is False
            assert scheduler.sweep_once(engine, policies=policies,
                                        as_of=date(2026, 10, 5)) is None
        with scheduler.exclusive(engine) as again:
            assert again is True
        day = date(2026, 10, 5)
        report = scheduler.sweep_once(engine, policies=policies, as_of=day)
        assert report is not None and report.as_of == day
        assert scheduler.last_done(engine) == day
        assert scheduler.sweep_once(engine, policies=policies, as_of=day) is None  # done
        assert scheduler.sweep_once(engine, policies=policies, as_of=day, force=True)
    finally:
        engine.dispose()


def test_next_run_and_sweep_time() -> None:
    london = ZoneInfo("Europe/London")
    at = scheduler.parse_sweep_time("06:00")
    before = datetime(2026, 11, 23, 5, 59, tzinfo=london)
    after = datetime(2026, 11, 23, 6, 0, tzinfo=london)
    assert scheduler.next_run(before, at) == datetime(2026, 11, 23, 6, 0, tzinfo=london)
    assert scheduler.next_run(after, at) == datetime(2026, 11, 24, 6, 0, tzinfo=london)
    assert at == time(6, 0)


def test_a_scheduler_started_late_catches_up_once_and_stops() -> None:
    ran: list[date] = []
    done = threading.Event()

    def job(day: date) -> None:
        ran.append(day)
        done.set()

    now = datetime.now(ZoneInfo("Europe/London"))
    late = scheduler.DailyScheduler(job, at=time(0, 0), tz=ZoneInfo("Europe/London"),
                                    catch_up=lambda day: True).start()
    assert done.wait(30)
    late.stop()
    assert ran == [now.date()] or ran == [now.date().fromordinal(now.date().toordinal() + 1)]
    skipped = scheduler.DailyScheduler(job, at=time(0, 0), tz=ZoneInfo("Europe/London"),
                                       catch_up=lambda day: False).start()
    skipped.stop()
    assert len(ran) == 1
