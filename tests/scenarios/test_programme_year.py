"""One NQSW's ASYE year under the shipped caseload policies, with dated requests.

Nothing sleeps and no clock is mocked: every request names its effective date, and the
daily check is the real `ringfence sweep --as-of DATE` command against the same
database. The test checks that each breach opens, escalates, resolves and is audited
exactly when it should, including an escalation deadline that runs across Easter.

The organisation's active set here is the caseload protection the product ships as its
default (graduated stage caps, complexity gates, co-working for child protection work),
read from the shipped files unchanged; protected time and supervision have their own
scenario tests with the diary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth.testing import all_access_token
from app.db import make_engine
from app.main import create_app
from app.models import AuditEvent, Breach, BreachEvent, Notification
from app.settings import PROJECT_ROOT
from tests.conftest import make_settings
from tests.scenarios import seed

CASELOAD_POLICIES = ("stage-caps", "complexity-gates", "cp-coworking")
START = date(2027, 1, 4)  # a Monday; month 3 is reached on 4 April, month 6 on 4 July


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """The shipped caseload policy files, unchanged, with the default active set."""
    directory = tmp_path / "policies"
    directory.mkdir()
    for name in (*CASELOAD_POLICIES, "categories"):
        shutil.copy(PROJECT_ROOT / "policies" / f"{name}.toml", directory / f"{name}.toml")
    listed = ", ".join(f'"{p}"' for p in CASELOAD_POLICIES)
    (directory / "active.toml").write_text(f"asye = [{listed}]\nswip = [{listed}]\n")
    return directory


class Year:
    """The organisation, its API client and its database, for one programme year."""

    def __init__(self, database_url: str, data_dir: Path, policy_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.policy_dir = policy_dir
        self.engine = make_engine(database_url)
        with Session(self.engine) as session:
            self.token = all_access_token(session)
            org = seed.organisation(session)
            nqsw, _ = seed.nqsw(session, org, start=START, name="Nia Newly")
            session.commit()
            self.team_id, self.nqsw = org.team_id, nqsw.id
            self.team_manager, self.senior_manager = org.team_manager.id, org.senior_manager.id
            self.ap = org.ap.id
        settings = make_settings(database_url, data_dir, policy_dir=policy_dir)
        self.client = TestClient(create_app(settings))
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def case(self, reference: str, on: date, category: str = "child_in_need") -> int:
        response = self.client.post("/api/v1/cases", json={
            "reference": reference, "category": category, "complexity": 2,
            "opened_on": on.isoformat(), "team_id": self.team_id})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def allocate(self, case_id: int, on: date, *, worker: int | None = None,
                 role: str = "holder", **extra: Any) -> Any:
        return self.client.post("/api/v1/allocations", json={
            "case_id": case_id, "worker_id": worker or self.nqsw, "role": role,
            "start_date": on.isoformat(), **extra})

    def sweep(self, on: date) -> str:
        """The real daily check, run as the command an operator or cron would run."""
        env = {**os.environ, "RINGFENCE_DATABASE_URL": self.database_url,
               "RINGFENCE_DATA_DIR": str(self.data_dir),
               "RINGFENCE_POLICY_DIR": str(self.policy_dir)}
        ringfence = str(Path(sys.executable).parent / "ringfence")
        run = subprocess.run([ringfence, "sweep", "--as-of", on.isoformat()], env=env,
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return run.stdout

    def breaches(self) -> dict[str, Breach]:
        with Session(self.engine) as session:
            rows = session.exec(select(Breach).where(Breach.staff_id == self.nqsw)
                                .order_by(col(Breach.id))).all()
            return {f"{b.rule_id}#{b.id}": b for b in rows}

    def breach(self, rule_id: str) -> Breach:
        matches = [b for b in self.breaches().values() if b.rule_id == rule_id]
        assert len(matches) == 1, matches
        return matches[0]

    def told(self, breach_id: int | None, kind: str) -> list[int]:
        with Session(self.engine) as session:
            rows = session.exec(select(Notification).where(
                Notification.breach_id == breach_id, Notification.kind == kind)
                .order_by(col(Notification.id))).all()
            return [n.recipient_id for n in rows]

    def breach_audit(self) -> list[tuple[str, str | None]]:
        """(action, breach rule) of every breach audit event for this NQSW, in order."""
        with Session(self.engine) as session:
            rules = {str(b.id): b.rule_id for b in session.exec(
                select(Breach).where(Breach.staff_id == self.nqsw))}
            events = session.exec(select(AuditEvent).where(
                AuditEvent.nqsw_id == self.nqsw, AuditEvent.entity == "breach")
                .order_by(col(AuditEvent.id))).all()
            return [(e.action, rules.get(e.entity_id or "")) for e in events]

    def history(self, breach_id: int | None) -> list[tuple[str, date]]:
        with Session(self.engine) as session:
            rows = session.exec(select(BreachEvent).where(BreachEvent.breach_id == breach_id)
                                .order_by(col(BreachEvent.id))).all()
            return [(e.action, e.effective_on) for e in rows]


@pytest.fixture
def year(fresh_database_url: str, tmp_path: Path, policy_dir: Path) -> Iterator[Year]:
    programme = Year(fresh_database_url, tmp_path / "data", policy_dir)
    with programme.client:
        yield programme
    programme.engine.dispose()


def test_a_programme_year(year: Year) -> None:
    # --- January: a protected caseload builds up -------------------------------------
    cin = [year.case(f"CIN-{n}", START) for n in range(1, 6)]
    for case_id in cin[:4]:
        response = year.allocate(case_id, START, allocated_by_id=year.team_manager)
        assert response.status_code == 201 and response.json()["outcome"] == "ok"
    cp1 = year.case("CP-1", date(2027, 1, 11), category="child_protection_plan")
    assert year.allocate(cp1, date(2027, 1, 11), worker=year.ap).status_code == 201
    cowork = year.allocate(cp1, date(2027, 1, 11), role="co_worker")
    assert cowork.status_code == 201 and cowork.json()["outcome"] == "ok"  # 4.5 cases
    assert year.breaches() == {}

    # A fifth case would make 5.5 against a firm cap of 5: refused, nothing written.
    refused = year.allocate(cin[4], date(2027, 1, 12))
    assert refused.status_code == 409
    assert year.breaches() == {}
    assert year.allocate(cin[4], date(2027, 1, 12), override_reason="Cover",
                         allocated_by_id=year.team_manager).status_code == 403
    # The what-if says it will fit once month 3 is reached (cap 10).
    later = year.client.post("/api/v1/allocations/check", json={
        "case_id": cin[4], "worker_id": year.nqsw, "role": "holder", "on": "2027-04-05"})
    assert later.json()["outcome"] == "ok"

    # A senior manager overrides, with a reason: the breach is recorded as overridden.
    cover = year.allocate(cin[4], date(2027, 1, 12), allocated_by_id=year.senior_manager,
                          override_reason="Duty cover for two weeks")
    assert cover.status_code == 201
    cap = year.breach("caseload-cap")
    assert (cap.status, cap.opened_on, cap.override_by_id) == (
        "overridden", date(2027, 1, 12), year.senior_manager)
    assert year.told(cap.id, "breach.opened") == [year.team_manager]

    # Ten working days later the overridden breach has not climbed: it was approved.
    year.sweep(date(2027, 1, 26))
    assert year.breach("caseload-cap").escalation_level == 0
    assert year.told(cap.id, "breach.escalated") == []

    # The cover ends: the breach resolves that day, saying why.
    ended = year.client.post(f"/api/v1/allocations/{cover.json()['id']}/end",
                             json={"on": "2027-02-01", "reason": "cover ended"})
    assert ended.status_code == 200
    cap = year.breach("caseload-cap")
    assert (cap.status, cap.resolved_on) == ("resolved", date(2027, 2, 1))
    assert "cover ended" in (cap.resolution or "")
    assert "within the cap of 5" in (cap.resolution or "")

    # --- Easter: a case escalates to a child protection plan -----------------------------
    escalated = year.client.patch(
        f"/api/v1/cases/{cin[1]}", params={"on": "2027-03-25"},
        json={"category": "child_protection_plan", "reason": "Initial conference: CP plan"})
    assert escalated.status_code == 200  # a change of facts is never refused
    gate, coworking = year.breach("complexity-gate"), year.breach("cp-coworking")
    assert gate.opened_on == coworking.opened_on == date(2027, 3, 25)
    # The complexity gate is severe: team manager and senior manager are told at once.
    assert gate.severe and gate.escalation_level == 1
    assert year.told(gate.id, "breach.opened") == [year.team_manager, year.senior_manager]
    # Co-working is not: the team manager now, the senior manager after 3 working days,
    # which Good Friday (26 March) and Easter Monday (29 March) push to 1 April.
    assert year.told(coworking.id, "breach.opened") == [year.team_manager]
    assert coworking.escalation_due_on == date(2027, 4, 1)

    year.sweep(date(2027, 3, 31))
    assert year.breach("cp-coworking").escalation_level == 0
    assert year.told(coworking.id, "breach.escalated") == []
    year.sweep(date(2027, 4, 1))
    assert year.breach("cp-coworking").escalation_level == 1
    assert year.told(coworking.id, "breach.escalated") == [year.senior_manager]

    acknowledged = year.client.post(f"/api/v1/breaches/{coworking.id}/acknowledge", json={
        "note": "Ada will hold the case from Tuesday", "on": "2027-04-05",
        "actor_id": year.team_manager})
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"

    # The NQSW steps back to co-worker (the gate is met) and the AP holds the case
    # (co-working is met): both breaches resolve on the day.
    held = year.client.get("/api/v1/allocations", params={
        "worker_id": year.nqsw, "case_id": cin[1], "on": "2027-04-06"}).json()["data"][0]
    stepped_back = year.client.patch(f"/api/v1/allocations/{held['id']}", json={
        "role": "co_worker", "on": "2027-04-06", "actor_id": year.team_manager})
    assert stepped_back.status_code == 200, stepped_back.text
    assert year.breach("complexity-gate").status == "resolved"
    assert year.breach("cp-coworking").status == "acknowledged"
    ap_holds = year.allocate(cin[1], date(2027, 4, 6), worker=year.ap)
    assert ap_holds.status_code == 201
    gate, coworking = year.breach("complexity-gate"), year.breach("cp-coworking")
    assert (gate.resolved_on, coworking.resolved_on) == (date(2027, 4, 6), date(2027, 4, 6))
    assert year.told(coworking.id, "breach.resolved") == [year.team_manager, year.senior_manager]

    # --- the rest of the year: the daily check finds nothing new --------------------------
    quiet = year.sweep(date(2027, 7, 5))
    assert "opened 0" in quiet and "resolved 0" in quiet
    assert all(b.status == "resolved" for b in year.breaches().values())

    # --- the record: every breach's history and the audit trail, exactly ---------------
    assert year.history(cap.id) == [
        ("opened", date(2027, 1, 12)), ("overridden", date(2027, 1, 12)),
        ("resolved", date(2027, 2, 1))]
    assert year.history(gate.id) == [
        ("opened", date(2027, 3, 25)), ("escalated", date(2027, 3, 25)),
        ("resolved", date(2027, 4, 6))]
    assert year.history(coworking.id) == [
        ("opened", date(2027, 3, 25)), ("escalated", date(2027, 4, 1)),
        ("acknowledged", date(2027, 4, 5)), ("resolved", date(2027, 4, 6))]
    audit = year.breach_audit()
    assert audit == [
        ("breach.open", "caseload-cap"),
        ("breach.resolve", "caseload-cap"),
        ("breach.open", "complexity-gate"),
        ("breach.escalate", "complexity-gate"),
        ("breach.open", "cp-coworking"),
        ("breach.escalate", "cp-coworking"),
        ("breach.acknowledge", "cp-coworking"),
        ("breach.resolve", "complexity-gate"),
        ("breach.resolve", "cp-coworking"),
    ]
    with Session(year.engine) as session:
        overrides = session.exec(select(AuditEvent).where(
            AuditEvent.nqsw_id == year.nqsw, AuditEvent.action == "allocation.override")).all()
        assert len(overrides) == 1
        assert overrides[0].after["reason"] == "Duty cover for two weeks"
        assert overrides[0].actor_id == year.senior_manager
