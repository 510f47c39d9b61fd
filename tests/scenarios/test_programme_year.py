"""One NQSW's ASYE year under the policies the product ships, with dated requests.

The organisation runs on the shipped policy directory as it is (`policies/active.toml`:
stage caps, complexity gates, co-working, protected time and supervision). People act
through their own accounts, signed in with `POST /api/v1/auth/token`: the team manager
allocates and acknowledges, the senior manager overrides and grants an exception, the
ASYE coordinator approves an adjustment, runs the daily check and reads the audit trail.

Nothing sleeps and no clock is mocked: every request names its effective date, and the
daily check is run as of a date (`POST /api/v1/breaches/sweep`, and once the real
`ringfence sweep --as-of DATE` command). The year is 2030-31, after today, so the
reconciliation of each write up to today never reaches into it.

The NQSW keeps their side of the diary (weekly protected time, taken; weekly
supervision; every review held when due), seeded as facts, so the diary rules stay
quiet and every breach below is one the caseload causes. The test checks that each
breach opens, escalates, resolves and is audited exactly when it should:

* September: a firm cap refused, a team manager's override refused, a senior manager's
  override recorded (it does not climb), resolved when the cover ends;
* Christmas: a case escalated to a child protection plan (a change of facts, never
  refused): the severe gate tells both managers at once, co-working climbs after three
  working days that Christmas and Boxing Day push back, acknowledged on the way (a note
  is required), both resolved when the case closes;
* January to March: a complexity-4 case before month 6, excepted until a date, reopened
  by the daily check after expiry, resolved when the stage moves on (month 6);
* April: a flexible cap passed (a warning, written), climbing after five working days
  across Easter, resolved by an individual adjustment approved for the NQSW.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.auth.testing import all_access_token
from app.db import make_engine, write_bind
from app.main import create_app
from app.models import Breach, Notification, ProtectedTime, ReviewPoint, SupervisionSession
from app.settings import PROJECT_ROOT
from tests.conftest import make_settings
from tests.scenarios import seed

START = date(2030, 9, 2)  # a Monday; month 3 is reached on 2 Dec, month 6 on 2 Mar 2031
PASSWORD = "a long passphrase for the year"
CIN = "child_in_need"
CP = "child_protection_plan"


def day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """The shipped policy directory, unchanged (active.toml included)."""
    directory = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    return directory


def keep_the_diary(session: Session, enrolment_id: int, staff_id: int, supervisor: int) -> None:
    """The NQSW's side of the year: 3.7 hours of protected time every Tuesday (a tenth of
    a 37-hour week), supervision every Thursday, and each review held when due."""
    for week in range(53):
        tuesday = START + timedelta(days=1 + 7 * week)
        session.add(ProtectedTime(enrolment_id=enrolment_id, day=tuesday, length="hours",
                                  hours=3.7, purpose="study", booked_by_id=staff_id))
        session.add(SupervisionSession(enrolment_id=enrolment_id, day=tuesday + timedelta(2),
                                       supervisor_id=supervisor, kind="reflective"))
    for month, held in ((3, "2030-12-02"), (6, "2031-03-03"), (9, "2031-06-02"),
                        (12, "2031-09-02")):
        session.add(ReviewPoint(enrolment_id=enrolment_id, month=month, held_on=day(held)))


class Year:
    """The organisation, its people's sessions and its database, for one programme year."""

    def __init__(self, database_url: str, data_dir: Path, policy_dir: Path) -> None:
        self.database_url, self.data_dir, self.policy_dir = database_url, data_dir, policy_dir
        self.engine = make_engine(database_url)
        with Session(self.engine) as session:
            admin = all_access_token(session)
            org = seed.organisation(session)
            nqsw, enrolment = seed.nqsw(session, org, start=START, name="Nia Newly")
            assert nqsw.id is not None and enrolment.id is not None
            keep_the_diary(session, enrolment.id, nqsw.id, org.team_manager.id)  # type: ignore[arg-type]
            session.commit()
            self.team_id, self.nqsw, self.enrolment = org.team_id, nqsw.id, enrolment.id
            self.ap = org.ap.id
            people = {"team manager": org.team_manager, "senior manager": org.senior_manager,
                      "coordinator": org.coordinator}
            self.ids = {who: person.id for who, person in people.items()}
            emails = {who: person.email for who, person in people.items()}
        settings = make_settings(database_url, data_dir, policy_dir=policy_dir)
        self.client = TestClient(create_app(settings))
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.tokens: dict[str, dict[str, str]] = {}
        self.emails = emails

    def sign_in_everyone(self) -> None:
        """Each person gets an account, chooses a password from the emailed link and signs
        in, as anyone would."""
        from tests.api.test_set_password_links import choose, queued_link

        for who, email in self.emails.items():
            made = self.client.post("/api/v1/accounts", headers=self.admin, json={
                "email": email, "staff_id": self.ids[who]})
            assert made.status_code == 201, made.text
            with Session(self.engine) as session:
                link = queued_link(session, email)
            chosen = choose(self.client, link, PASSWORD)
            assert chosen.status_code in (200, 303), chosen.text
            self.client.cookies.clear()
            signed = self.client.post("/api/v1/auth/token",
                                      data={"username": email, "password": PASSWORD})
            assert signed.status_code == 200, signed.text
            self.tokens[who] = {"Authorization": f"Bearer {signed.json()['access_token']}"}

    # --- requests, as a named person -------------------------------------------------

    def post(self, who: str, url: str, body: dict[str, Any] | None = None,
             **params: str) -> Any:
        return self.client.post(url, json=body, params=params, headers=self.tokens[who])

    def patch(self, who: str, url: str, body: dict[str, Any], **params: str) -> Any:
        return self.client.patch(url, json=body, params=params, headers=self.tokens[who])

    def get(self, who: str, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params, headers=self.tokens[who])
        assert response.status_code == 200, response.text
        return response.json()

    def case(self, reference: str, on: date, category: str = CIN) -> int:
        response = self.post("team manager", "/api/v1/cases", {
            "reference": reference, "category": category, "complexity": 2,
            "opened_on": on.isoformat(), "team_id": self.team_id})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def allocate(self, who: str, case_id: int, on: date, *, worker: int | None = None,
                 role: str = "holder", **extra: Any) -> Any:
        return self.post(who, "/api/v1/allocations", {
            "case_id": case_id, "worker_id": worker or self.nqsw, "role": role,
            "start_date": on.isoformat(), **extra})

    def sweep(self, on: date) -> dict[str, Any]:
        """The daily check as of `on`, run by the coordinator (the diary kept up to then)."""
        self.diary_kept_until(on)
        response = self.post("coordinator", "/api/v1/breaches/sweep", {"as_of": on.isoformat()})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def sweep_command(self, on: date) -> str:
        """The real daily check, run as the command an operator or cron would run."""
        self.diary_kept_until(on)
        env = {**os.environ, "RINGFENCE_DATABASE_URL": self.database_url,
               "RINGFENCE_DATA_DIR": str(self.data_dir),
               "RINGFENCE_POLICY_DIR": str(self.policy_dir)}
        ringfence = str(Path(sys.executable).parent / "ringfence")
        run = subprocess.run([ringfence, "sweep", "--as-of", on.isoformat()], env=env,
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return run.stdout

    def diary_kept_until(self, on: date) -> None:
        """Protected time before `on` was taken, as booked (the NQSW marks it so)."""
        with Session(write_bind(self.engine)) as session:
            session.exec(update(ProtectedTime).where(  # type: ignore[call-overload]
                col(ProtectedTime.enrolment_id) == self.enrolment,
                col(ProtectedTime.day) < on, col(ProtectedTime.status) == "booked",
            ).values(status="taken"))
            session.commit()

    # --- reading the record back ---------------------------------------------------------

    def breaches(self, rule_id: str) -> list[Breach]:
        with Session(self.engine) as session:
            return list(session.exec(select(Breach).where(
                Breach.staff_id == self.nqsw, Breach.rule_id == rule_id)
                .order_by(col(Breach.id))).all())

    def breach(self, rule_id: str) -> Breach:
        (only,) = [b for b in self.breaches(rule_id) if b.status != "resolved"] or \
            self.breaches(rule_id)[-1:]
        return only

    def told(self, breach_id: int | None, kind: str) -> list[int]:
        with Session(self.engine) as session:
            rows = session.exec(select(Notification).where(
                Notification.breach_id == breach_id, Notification.kind == kind)
                .order_by(col(Notification.id))).all()
            return [n.recipient_id for n in rows]

    def history(self, breach_id: int | None) -> list[tuple[str, str]]:
        body = self.get("coordinator", f"/api/v1/breaches/{breach_id}")
        return [(h["action"], h["effective_on"]) for h in body["history"]]

    def breach_audit(self) -> list[tuple[str, str | None, str]]:
        """(action, rule, effective date) of every breach audit event for the NQSW, oldest
        first, from the audit API."""
        rules = {str(b["id"]): b["rule_id"] for b in self.get(
            "coordinator", "/api/v1/breaches", nqsw_id=self.nqsw, limit=100)["data"]}
        events = self.get("coordinator", "/api/v1/audit", nqsw_id=self.nqsw, entity="breach",
                          limit=200)["data"]
        return [(e["action"], rules.get(e["entity_id"]), e["effective_on"])
                for e in reversed(events)]


@pytest.fixture
def year(fresh_database_url: str, tmp_path: Path, policy_dir: Path) -> Iterator[Year]:
    programme = Year(fresh_database_url, tmp_path / "data", policy_dir)
    with programme.client:
        programme.sign_in_everyone()
        yield programme
    programme.engine.dispose()


def test_a_programme_year(year: Year) -> None:
    tm, sm = year.ids["team manager"], year.ids["senior manager"]

    # --- September: a protected caseload builds up (a firm cap of 5) -------------------
    year.diary_kept_until(START)
    cin = [year.case(f"CIN-{n}", START) for n in range(1, 6)]
    for case_id in cin[:4]:
        written = year.allocate("team manager", case_id, START)
        assert written.status_code == 201 and written.json()["outcome"] == "ok", written.text
    cp1 = year.case("CP-1", day("2030-09-09"), category=CP)
    assert year.allocate("team manager", cp1, day("2030-09-09"), worker=year.ap).status_code == 201
    cowork = year.allocate("team manager", cp1, day("2030-09-09"), role="co_worker")
    assert cowork.status_code == 201 and cowork.json()["outcome"] == "ok"  # 4.5 cases

    # A fifth case would make 5.5 against a firm cap of 5: refused, nothing written.
    refused = year.allocate("team manager", cin[4], day("2030-09-16"))
    assert refused.status_code == 409
    assert any(d.get("finding", {}).get("rule_id") == "caseload-cap"
               for d in refused.json()["detail"])
    # The team manager may not override it, whatever the reason.
    assert year.allocate("team manager", cin[4], day("2030-09-16"),
                         override_reason="Cover").status_code == 403
    assert year.breaches("caseload-cap") == []
    # The what-if says it will fit once month 3 is reached (a cap of 10).
    later = year.post("team manager", "/api/v1/allocations/check", {
        "case_id": cin[4], "worker_id": year.nqsw, "role": "holder", "on": "2030-12-02"})
    assert later.json()["outcome"] == "ok"

    # The senior manager overrides, with a reason: the breach is recorded as overridden.
    cover = year.allocate("senior manager", cin[4], day("2030-09-16"),
                          override_reason="Duty cover for two weeks")
    assert cover.status_code == 201, cover.text
    cap = year.breach("caseload-cap")
    assert (cap.status, cap.opened_on, cap.override_by_id, cap.override_reason) == (
        "overridden", day("2030-09-16"), sm, "Duty cover for two weeks")
    assert year.told(cap.id, "breach.opened") == [tm]
    # Ten working days later it has not climbed: someone with the role decided.
    year.sweep(day("2030-09-30"))
    assert year.breach("caseload-cap").escalation_level == 0
    assert year.told(cap.id, "breach.escalated") == []
    # The cover ends: resolved that day, saying why.
    ended = year.post("team manager", f"/api/v1/allocations/{cover.json()['id']}/end",
                      {"on": "2030-10-01", "reason": "cover ended"})
    assert ended.status_code == 200, ended.text
    cap = year.breach("caseload-cap")
    assert (cap.status, cap.resolved_on, cap.resolution_cause) == (
        "resolved", day("2030-10-01"), "allocation_ended")
    assert "cover ended" in (cap.resolution or "") and "cap of 5" in (cap.resolution or "")
    assert year.told(cap.id, "breach.resolved") == [tm]

    # --- Christmas: a case escalates to a child protection plan ----------------------------
    year.diary_kept_until(day("2030-12-24"))
    escalated = year.patch("team manager", f"/api/v1/cases/{cin[1]}", {
        "category": CP, "reason": "Initial conference: child protection plan"},
        on="2030-12-24")
    assert escalated.status_code == 200, escalated.text  # a change of facts is never refused
    gate, coworking = year.breach("complexity-gate"), year.breach("cp-coworking")
    assert gate.opened_on == coworking.opened_on == day("2030-12-24")
    # The gate is severe: both managers are told at once.
    assert gate.severe and gate.escalation_level == 1
    assert year.told(gate.id, "breach.opened") == [tm, sm]
    # Co-working is not: the team manager now, the senior manager after 3 working days,
    # which Christmas Day and Boxing Day push to Tuesday 31 December.
    assert year.told(coworking.id, "breach.opened") == [tm]
    assert coworking.escalation_due_on == day("2030-12-31")

    # Acknowledging needs a note, and does not stop the clock.
    url = f"/api/v1/breaches/{coworking.id}/acknowledge"
    blank = year.post("team manager", url, {"note": " ", "on": "2030-12-27"})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "note"]
    acknowledged = year.post("team manager", url, {
        "note": "Ada will hold the case once the conference minutes are in",
        "on": "2030-12-27"})
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    year.sweep(day("2030-12-30"))
    assert year.breach("cp-coworking").escalation_level == 0
    year.sweep(day("2030-12-31"))
    assert year.breach("cp-coworking").escalation_level == 1
    assert year.told(coworking.id, "breach.escalated") == [sm]

    # The case closes: both breaches resolve that day, and everyone told hears it.
    closed = year.post("team manager", f"/api/v1/cases/{cin[1]}/close",
                       {"on": "2031-01-06", "reason": "Family moved out of the area"})
    assert closed.status_code == 200, closed.text
    for rule in ("complexity-gate", "cp-coworking"):
        resolved = year.breach(rule)
        assert (resolved.status, resolved.resolved_on, resolved.resolution_cause) == (
            "resolved", day("2031-01-06"), "case_closed")
        assert year.told(resolved.id, "breach.resolved") == [tm, sm]

    # --- January to March: an exception until a date, then the stage moves on --------------
    year.diary_kept_until(day("2031-01-20"))
    harder = year.patch("team manager", f"/api/v1/cases/{cin[2]}", {
        "complexity": 4, "reason": "Risk increased: new concerns"}, on="2031-01-20")
    assert harder.status_code == 200, harder.text
    gate = year.breach("complexity-gate")  # a new episode of the same rule
    assert (gate.status, gate.opened_on, gate.escalation_level) == (
        "open", day("2031-01-20"), 1)
    assert year.told(gate.id, "breach.opened") == [tm, sm]
    # Only a senior manager or coordinator grants an exception; it needs an expiry.
    url = f"/api/v1/breaches/{gate.id}/exception"
    terms = {"reason": "Ada co-works it daily until month 6", "expires_on": "2031-02-14",
             "on": "2031-01-22"}
    assert year.post("team manager", url, terms).status_code == 403
    excepted = year.post("senior manager", url, terms)
    assert excepted.status_code == 200 and excepted.json()["status"] == "excepted"
    year.sweep(day("2031-02-14"))  # the last day it holds
    assert year.breach("complexity-gate").status == "excepted"
    # The day after expiry the daily check (the real command) reopens it: still broken.
    assert "reopened 1" in year.sweep_command(day("2031-02-15"))
    gate = year.breach("complexity-gate")
    assert gate.status == "open"
    assert year.told(gate.id, "breach.reopened") == [tm, sm]
    # Month 6 is reached on Sunday 2 March: the next daily check finds the gate lifted.
    year.sweep(day("2031-03-03"))
    gate = year.breach("complexity-gate")
    assert (gate.status, gate.resolved_on, gate.resolution_cause) == (
        "resolved", day("2031-03-03"), "stage_moved_on")

    # --- April: past the flexible cap, across Easter, settled by an adjustment -------------
    year.diary_kept_until(day("2031-03-10"))
    more = [year.case(f"CIN-{n}", day("2031-03-10")) for n in range(6, 18)]
    for case_id in more[:11]:  # 3.5 cases held, to 14.5
        written = year.allocate("team manager", case_id, day("2031-03-10"))
        assert written.status_code == 201 and written.json()["outcome"] == "ok", written.text
    year.diary_kept_until(day("2031-04-09"))
    flexible = year.allocate("team manager", more[11], day("2031-04-09"))  # 15.5 of 15
    assert flexible.status_code == 201, flexible.text  # a warning is written, not refused
    assert flexible.json()["outcome"] == "warn"
    warn = year.breach("caseload-cap")
    assert (warn.level, warn.status, warn.opened_on) == ("warn", "open", day("2031-04-09"))
    assert year.told(warn.id, "breach.opened") == [tm]
    # Five working days, not counting Good Friday or Easter Monday: Friday 18 April.
    assert warn.escalation_due_on == day("2031-04-18")
    year.sweep(day("2031-04-17"))
    assert year.breach("caseload-cap").escalation_level == 0
    year.sweep(day("2031-04-18"))
    assert year.told(warn.id, "breach.escalated") == [sm]
    adjusted = year.post("coordinator", f"/api/v1/nqsws/{year.nqsw}/adjustments", {
        "policy_id": "stage-caps", "parameter": "caseload-cap.bands.2.cap", "value": 16,
        "reason": "Agreed at the 7-month review: a sibling group stays with her",
        "valid_from": "2031-04-22"},
        on="2031-04-22")
    assert adjusted.status_code == 201, adjusted.text
    # The coordinator who sent it is the approver on record.
    assert adjusted.json()["approved_by_id"] == year.ids["coordinator"]
    warn = year.breach("caseload-cap")
    assert (warn.status, warn.resolved_on, warn.resolution_cause) == (
        "resolved", day("2031-04-22"), "adjustment")

    # --- the rest of the year: the daily check finds nothing new ---------------------------
    quiet = year.sweep(day("2031-09-01"))
    assert quiet["opened"] == 0 and quiet["resolved"] == 0
    everything = year.get("coordinator", "/api/v1/breaches", nqsw_id=year.nqsw)["data"]
    assert {b["status"] for b in everything} == {"resolved"}
    # The diary was kept, so neither diary rule was ever broken.
    assert {b["policy_id"] for b in everything} == {
        "stage-caps", "complexity-gates", "cp-coworking"}

    # --- the record: every breach's history and the audit trail, exactly ---------------------
    first_cap, warn_cap = year.breaches("caseload-cap")
    sole_cp, complex_case = year.breaches("complexity-gate")
    (coworking,) = year.breaches("cp-coworking")
    assert year.history(first_cap.id) == [
        ("opened", "2030-09-16"), ("overridden", "2030-09-16"), ("resolved", "2030-10-01")]
    assert year.history(sole_cp.id) == [
        ("opened", "2030-12-24"), ("escalated", "2030-12-24"), ("resolved", "2031-01-06")]
    assert year.history(coworking.id) == [
        ("opened", "2030-12-24"), ("acknowledged", "2030-12-27"), ("escalated", "2030-12-31"),
        ("resolved", "2031-01-06")]
    assert year.history(complex_case.id) == [
        ("opened", "2031-01-20"), ("escalated", "2031-01-20"), ("excepted", "2031-01-22"),
        ("reopened", "2031-02-15"), ("escalated", "2031-02-15"), ("resolved", "2031-03-03")]
    assert year.history(warn_cap.id) == [
        ("opened", "2031-04-09"), ("escalated", "2031-04-18"), ("resolved", "2031-04-22")]
    assert year.breach_audit() == [
        ("breach.open", "caseload-cap", "2030-09-16"),
        ("breach.resolve", "caseload-cap", "2030-10-01"),
        ("breach.open", "complexity-gate", "2030-12-24"),
        ("breach.escalate", "complexity-gate", "2030-12-24"),
        ("breach.open", "cp-coworking", "2030-12-24"),
        ("breach.acknowledge", "cp-coworking", "2030-12-27"),
        ("breach.escalate", "cp-coworking", "2030-12-31"),
        ("breach.resolve", "complexity-gate", "2031-01-06"),
        ("breach.resolve", "cp-coworking", "2031-01-06"),
        ("breach.open", "complexity-gate", "2031-01-20"),
        ("breach.escalate", "complexity-gate", "2031-01-20"),
        ("breach.exception", "complexity-gate", "2031-01-22"),
        ("breach.reopen", "complexity-gate", "2031-02-15"),
        ("breach.escalate", "complexity-gate", "2031-02-15"),
        ("breach.resolve", "complexity-gate", "2031-03-03"),
        ("breach.open", "caseload-cap", "2031-04-09"),
        ("breach.escalate", "caseload-cap", "2031-04-18"),
        ("breach.resolve", "caseload-cap", "2031-04-22"),
    ]
    overrides = year.get("coordinator", "/api/v1/audit", nqsw_id=year.nqsw,
                         action="allocation.override")["data"]
    assert [(o["actor_id"], o["after"]["reason"], o["effective_on"]) for o in overrides] == [
        (sm, "Duty cover for two weeks", "2030-09-16")]
    adjustment = year.get("coordinator", "/api/v1/audit", nqsw_id=year.nqsw,
                          action="adjustment.create")["data"]
    assert len(adjustment) == 1
