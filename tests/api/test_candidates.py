"""Who could take this case (`GET /api/v1/cases/{case_id}/candidates`): each worker of the
case's team with the what-if check's verdict and the workload's figures, best first."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import Adjustment, Staff
from tests.api.test_breaches import counting
from tests.scenarios import seed

START = date(2026, 9, 1)  # month 2 on ON: the first band, a firm cap of 5
LATER = date(2026, 3, 2)  # month 8 on ON: the last band, a cap of 15 with a warning
ON = date(2026, 11, 23)


def _team(db_session: Session) -> tuple[seed.Org, dict[str, Staff]]:
    org = seed.organisation(db_session)
    full, _ = seed.nqsw(db_session, org, start=START, name="Fay Full")
    seed.load(db_session, full, 1, start=START)
    part, _ = seed.nqsw(db_session, org, start=START, fte=0.8, name="Pat Part")
    seed.load(db_session, part, 2, start=START)  # cap 4 pro rata: room 2
    later, _ = seed.nqsw(db_session, org, start=LATER, name="Lee Later")
    seed.load(db_session, later, 15, start=LATER)  # at the last band's cap: a warning
    agreed, enrolment = seed.nqsw(db_session, org, start=START, name="Ali Agreed")
    seed.load(db_session, agreed, 3, start=START)  # at the agreed cap of 3: blocked
    db_session.add(Adjustment(
        enrolment_id=enrolment.id, policy_id="stage-caps",  # type: ignore[arg-type]
        parameter="caseload-cap.bands.0.cap", value=3, reason="agreed in supervision",
        approved_by_id=org.senior_manager.id, valid_from=START, valid_to=date(2027, 3, 1),  # type: ignore[arg-type]
    ))
    worker = seed.person(db_session, "social_worker", team_id=org.team_id, name="Sol Worker",
                         experienced=True)
    seed.load(db_session, worker, 6, start=START)
    left = seed.person(db_session, "social_worker", team_id=org.team_id, name="Lea Left")
    left.leave_date = date(2026, 10, 1)
    elsewhere = seed.organisation(db_session)
    seed.nqsw(db_session, elsewhere, start=START, name="Ola Other")
    db_session.flush()
    return org, {"full": full, "part": part, "later": later, "agreed": agreed,
                 "worker": worker, "left": left}


def _candidates(client: TestClient, case_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}/candidates",
                          params={"on": ON.isoformat(), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_best_candidates_first_with_the_engines_own_figures(
    client: TestClient, db_session: Session
) -> None:
    org, people = _team(db_session)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()
    body = _candidates(client, case.id)  # type: ignore[arg-type]
    assert body["case_id"] == case.id and body["open"] is True and body["role"] == "holder"
    assert "most room under their cap" in body["order"]
    rows = body["data"]
    # Allowed (most room first, then the worker with no cap), warning, blocked; the AP
    # of the team holds cases too. Nobody who has left, nobody from another team.
    names = [r["name"] for r in rows]
    # No cap: fewest cases first (the AP has none).
    assert names == ["Fay Full", "Pat Part", org.ap.name, "Sol Worker", "Lee Later",
                     "Ali Agreed"]
    assert [r["outcome"] for r in rows] == ["ok"] * 4 + ["warn", "block"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["Pat Part"]["cap"] == 4 and by_name["Pat Part"]["room"] == 2
    assert by_name["Ali Agreed"]["cap"] == 3 and by_name["Ali Agreed"]["room"] == 0
    assert by_name["Ali Agreed"]["override_by"] == ["senior_manager"]
    assert by_name["Sol Worker"]["cap"] is None and by_name["Sol Worker"]["cases"]["total"] == 6
    assert by_name["Sol Worker"]["enrolled"] is False

    for row in rows:
        check = client.post("/api/v1/allocations/check", json={
            "case_id": case.id, "worker_id": row["staff_id"], "role": "holder",
            "on": ON.isoformat()}).json()
        assert row["outcome"] == check["outcome"], row["name"]
        assert [(r["outcome"], r["reason"], r["on"]) for r in row["reasons"]] == [
            (f["outcome"], f["reason"], f["on"]) for f in check["caused"]], row["name"]
        assert [r["reason"] for r in row["already"]] == [
            f["reason"] for f in check["pre_existing"]]
        if not row["enrolled"]:
            assert check["enrolled"] is False and row["reasons"] == []
            continue
        workload = client.get(f"/api/v1/nqsws/{row['staff_id']}/workload",
                              params={"on": ON.isoformat()}).json()
        assert row["cases"] == workload["cases"], row["name"]
        assert row["cap"] == workload["band"]["cap_for_fte"], row["name"]
        assert row["cap_note"] == workload["band"]["cap_note"]
        assert row["points"] == workload["points"] and row["share"] == workload["share"]
        assert row["fte"] == workload["fte"]
        assert row["next_review"] == workload["stage"]["next_review"]
        for kind, key in (("protected_time", "protected_time"), ("supervision", "supervision")):
            finding = next(f for f in workload["findings"] if f["kind"] == kind)
            assert row[key]["outcome"] == finding["outcome"]
            assert row[key]["reason"] == finding["reason"]
    assert by_name["Pat Part"]["cap_note"]  # "4 pro rata for 0.8 FTE", the engine's words


def test_a_co_worker_role_and_a_closed_case(client: TestClient, db_session: Session) -> None:
    org, people = _team(db_session)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    seed.allocate(db_session, people["full"], case, start=START)
    case.closed_on = date(2026, 11, 20)
    db_session.commit()
    body = _candidates(client, case.id, role="co_worker")  # type: ignore[arg-type]
    assert body["open"] is False and body["role"] == "co_worker"
    assert all(r["on_case"] is None for r in body["data"])  # closed: held by nobody
    before = _candidates(client, case.id, on="2026-11-01")  # type: ignore[arg-type]
    assert before["open"] is True
    full = next(r for r in before["data"] if r["name"] == "Fay Full")
    assert full["on_case"] == "holder"


def test_refusals_name_the_field(client: TestClient, db_session: Session) -> None:
    org, _ = _team(db_session)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()
    assert client.get("/api/v1/cases/999999/candidates").status_code == 404
    bad_role = client.get(f"/api/v1/cases/{case.id}/candidates", params={"role": "boss"})
    assert bad_role.status_code == 422 and "role" in bad_role.text
    bad_on = client.get(f"/api/v1/cases/{case.id}/candidates", params={"on": "tomorrow"})
    assert bad_on.status_code == 422 and "on" in bad_on.text


def test_statements_do_not_grow_with_workers_off_a_programme(
    client: TestClient, db_session: Session, engine: Engine
) -> None:
    """The team's snapshots are read in one batch: a worker not on a programme costs no
    statement, and an NQSW costs one (the dated changes of their own period)."""
    org, _ = _team(db_session)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()

    def count() -> int:
        with counting(engine) as counted:
            _candidates(client, case.id)  # type: ignore[arg-type]
        return counted()

    count()  # the first request also reads what is then cached for the next
    first = count()
    for _ in range(5):
        worker = seed.person(db_session, "social_worker", team_id=org.team_id,
                             experienced=True)
        seed.load(db_session, worker, 2, start=START)
    db_session.commit()
    assert count() == first
    for _ in range(2):
        nqsw, _ = seed.nqsw(db_session, org, start=START)
        seed.load(db_session, nqsw, 2, start=START)
    db_session.commit()
    assert count() == first + 2
    assert first == CANDIDATES_STATEMENTS


# The statements of the request above, authentication included: the team (2), the
# team's snapshots (4), the case counts and programmes to come of the workers off a
# programme (2), each NQSW's dated changes (4), and one NQSW's snapshot again on the day
# after their individual agreement ends (4), as the what-if reads it. A new statement on
# this path must be a decision, made by raising the figure here.
CANDIDATES_STATEMENTS = 17
