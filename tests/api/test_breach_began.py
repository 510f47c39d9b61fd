"""When a breach's problem began, apart from when it was detected: supervision overdue is
dated from the day it fell due, a cap breach from the allocation that took the load over,
a sweep of an earlier date finds what was already wrong then, and ages count from there."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.cli_sweep import found_text
from app.models import Breach, BreachEvent
from app.services.sweep import FoundBreach, SweepReport
from tests.scenarios import seed

START = date(2026, 9, 1)


def sweep(client: TestClient, as_of: date) -> dict:
    response = client.post("/api/v1/breaches/sweep", json={"as_of": as_of.isoformat()})
    assert response.status_code == 200, response.text
    return response.json()


def overdue_from(client: TestClient, staff_id: int, on: date) -> str:
    """The day supervision is overdue from, as the NQSW's workload shows it on `on`."""
    response = client.get(f"/api/v1/nqsws/{staff_id}/workload", params={"on": on.isoformat()})
    assert response.status_code == 200, response.text
    [finding] = [f for f in response.json()["findings"]
                 if f["rule_id"] == "supervision-frequency"]
    assert finding["outcome"] != "ok"
    return str(finding["details"]["frequency"]["overdue_from"])


def breach_of(session: Session, staff_id: int, rule_id: str) -> Breach:
    [breach] = session.exec(select(Breach).where(
        Breach.staff_id == staff_id, Breach.rule_id == rule_id)).all()
    session.refresh(breach)
    return breach


def test_overdue_supervision_began_when_it_fell_due_and_an_earlier_sweep_finds_it(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)  # no supervision recorded at all
    db_session.commit()
    later, earlier = date(2026, 12, 8), date(2026, 9, 29)

    sweep(client, later)
    breach = breach_of(db_session, worker.id, "supervision-frequency")  # type: ignore[arg-type]
    assert breach.opened_on == later
    assert breach.began_on.isoformat() == overdue_from(client, worker.id, later)  # type: ignore[arg-type]
    assert breach.began_on < later

    # The same day replayed after the later one: not silent, and the breach is found with
    # the day supervision fell due as that date sees it (weekly then: earlier still).
    report = sweep(client, earlier)
    due = overdue_from(client, worker.id, earlier)  # type: ignore[arg-type]
    assert due < earlier.isoformat()
    found = [f for f in report["found"] if f["id"] == breach.id]
    assert found and found[0]["began_on"] == due and found[0]["opened_on"] == later.isoformat()
    assert report["kept"] >= 1 and report["unresolved"] >= 1 and report["began_earlier"] == 1
    breach = breach_of(db_session, worker.id, "supervision-frequency")  # type: ignore[arg-type]
    assert breach.began_on.isoformat() == due
    assert breach.status == "open" and breach.last_seen_on == later  # evidence not rewound
    events = db_session.exec(select(BreachEvent).where(BreachEvent.breach_id == breach.id)
                             .order_by(col(BreachEvent.id))).all()
    assert events[-1].action == "began_earlier" and events[-1].data["began_on"] == due

    again = sweep(client, earlier)  # idempotent: nothing moves a second time
    assert again["began_earlier"] == 0 and again["opened"] == 0 and again["resolved"] == 0


def test_a_cap_breach_began_when_the_cap_was_first_exceeded_and_is_aged_from_then(
    client: TestClient, db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    seed.load(db_session, worker, 5, start=START)  # at the cap of 5 from the start
    seed.load(db_session, worker, 1, start=date(2026, 9, 20))  # the sixth: over the cap
    seed.load(db_session, worker, 1, start=date(2026, 9, 25))
    db_session.commit()
    on = date(2026, 10, 5)
    sweep(client, on)
    breach = breach_of(db_session, worker.id, "caseload-cap")  # type: ignore[arg-type]
    assert (breach.opened_on, breach.began_on) == (on, date(2026, 9, 20))

    url = "/api/v1/breaches"
    query = {"on": on.isoformat(), "staff_id": str(worker.id), "rule_id": "caseload-cap"}
    [row] = client.get(url, params=query).json()["data"]
    # Working days after Sunday 20 September up to Monday 5 October: 5 + 5 + 1.
    assert row["began_on"] == "2026-09-20" and row["age_working_days"] == 11
    assert row["age_days"] == 15 and row["detected_working_days"] == 0
    assert client.get(url, params={**query, "min_age_working_days": "11"}).json()["count"] == 1
    assert client.get(url, params={**query, "min_age_working_days": "12"}).json()["count"] == 0
    oldest = client.get(url, params={"on": on.isoformat(), "staff_id": str(worker.id),
                                     "sort": "-age"}).json()["data"]
    assert [r["began_on"] for r in oldest] == sorted(r["began_on"] for r in oldest)
    assert client.get(url, params={"sort": "oldest"}).status_code == 422

    exported = client.get("/api/v1/breaches.csv", params=query)
    [line] = list(csv.DictReader(io.StringIO(exported.text)))
    assert line["began_on"] == "2026-09-20" and line["opened_on"] == on.isoformat()
    assert line["age_working_days"] == "11"


def test_the_sweep_command_says_what_it_found_for_its_date() -> None:
    report = SweepReport(as_of=date(2026, 9, 29), nqsws=1, counts={"began_earlier": 1})
    report.found = [
        FoundBreach(id=1, staff_id=7, policy_id="supervision", rule_id="supervision-frequency",
                    kind="supervision", began_on=date(2026, 9, 9), opened_on=date(2026, 12, 8)),
        FoundBreach(id=2, staff_id=8, policy_id="supervision", rule_id="supervision-frequency",
                    kind="supervision", began_on=date(2026, 9, 16), opened_on=date(2026, 9, 29)),
    ]
    assert found_text(report) == (
        "Unresolved on 2026-09-29: 2 (1 found to have begun earlier).\n"
        "  supervision/supervision-frequency: 2, the longest-running since 2026-09-09")
    assert found_text(SweepReport(as_of=date(2026, 9, 29))) == "Nothing unresolved on 2026-09-29."
