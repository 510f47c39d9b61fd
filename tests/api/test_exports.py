"""Exports for reporting upwards: the breach register, the workload snapshot and compliance
by team, as CSV and XLSX.

What a coordinator relies on: the compliance export says what the breach dashboard says,
team by team and in total, and every workload figure is the workload API's for that NQSW
on that date; nobody gets a row outside their reach; text that a spreadsheet could take
for a formula never runs; and an export's statements do not grow with its rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from app.exports.reports import rule_titles
from tests.api.test_breaches import counting
from tests.api.test_dashboard_page import Page
from tests.scenarios import seed

START = date(2026, 9, 1)
ON = date(2026, 12, 1)
FORMULA = '=HYPERLINK("http://example.invalid","Open")'


def world(db_session: Session) -> dict[str, Any]:
    """Two service areas, a team each; NQSWs under and over their caps; breaches of three
    rules open on ON, one resolved before it and one opened after it."""
    first, second = seed.organisation(db_session), seed.organisation(db_session)
    ana, ana_enrolment = seed.nqsw(db_session, first, start=START, name="@Ana Sum")
    seed.load(db_session, ana, 3, start=START)
    ben, ben_enrolment = seed.nqsw(db_session, first, start=START, fte=0.8, name="Ben")
    seed.load(db_session, ben, 9, start=START)
    cy, cy_enrolment = seed.nqsw(db_session, second, start=START, name="Cy")
    seed.load(db_session, cy, 2, start=START)
    formula = seed.breach(db_session, ana, ana_enrolment, opened_on=date(2026, 11, 2))
    formula.reason = FORMULA
    formula.acknowledgement_note = "+44 20 7946 0000 rang"
    seed.breach(db_session, ben, ben_enrolment, opened_on=date(2026, 11, 25),
                rule_id="complexity-gate", policy_id="complexity-gates", severity="severe")
    seed.breach(db_session, cy, cy_enrolment, opened_on=date(2026, 11, 10),
                rule_id="cp-coworking", policy_id="cp-coworking", severity="medium")
    seed.breach(db_session, cy, cy_enrolment, opened_on=date(2026, 10, 1),
                resolved_on=date(2026, 10, 20))
    seed.breach(db_session, ana, ana_enrolment, opened_on=date(2026, 12, 3),
                rule_id="cp-coworking", policy_id="cp-coworking")
    db_session.commit()
    return {"first": first, "second": second, "ana": ana, "ben": ben, "cy": cy,
            "formula": formula}


def csv_rows(client: TestClient, url: str, **params: str) -> list[dict[str, str]]:
    response = client.get(url, params={"on": ON.isoformat(), **params})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_cells(client: TestClient, url: str, **params: str) -> list[list[Any]]:
    """The sheet's cells, after checking that none of them is a formula."""
    response = client.get(url, params={"on": ON.isoformat(), **params})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [list(row) for row in sheet.iter_rows()]
    assert not [c.coordinate for row in cells for c in row if c.data_type == "f"]
    return [[c.value for c in row] for row in cells]


def number(text: str) -> float | None:
    return float(text) if text != "" else None


def test_compliance_and_workload_say_what_the_dashboard_and_workload_api_say(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    made = world(db_session)
    coordinator = client_as("asye_coordinator")
    policies = coordinator.app.state.policies  # type: ignore[attr-defined]
    titles = rule_titles(policies)
    compliance = csv_rows(coordinator, "/api/v1/exports/compliance.csv")
    teams = {row["Team"]: row for row in compliance}

    page = Page(coordinator.get("/breaches", params={"on": ON.isoformat()}).text)
    keys = [h["key"] for h in page.headers]
    shown = [dict(zip(keys, row, strict=True)) for row in page.rows["tbody"]]
    assert shown and len(shown) == len(teams) - 1  # every team, and the "All teams" row
    for row in shown:
        exported = teams[row["team"]]
        for key, count in row.items():
            if key not in ("team", "total"):
                assert int(exported[f"Unresolved breaches: {titles[key]}"]) == int(count), key
        assert int(exported["Unresolved breaches: total"]) == int(row["total"])
    footer = dict(zip(keys, page.rows["tfoot"][0], strict=True))
    assert int(teams["All teams"]["Unresolved breaches: total"]) == int(footer["total"]) == 3

    workload = csv_rows(coordinator, "/api/v1/exports/workload.csv")
    assert sorted(r["NQSW"] for r in workload) == ["'@Ana Sum", "Ben", "Cy"]
    for row in workload:
        api = coordinator.get(f"/api/v1/nqsws/{row['NQSW ID']}/workload",
                              params={"on": ON.isoformat()}).json()
        protected = next(f["details"] for f in api["findings"] if f["kind"] == "protected_time")
        frequency = next(f["details"]["frequency"] for f in api["findings"]
                         if "frequency" in f["details"])
        assert int(row["Cases"]) == api["cases"]["total"]
        assert number(row["Weighted cases"]) == api["cases"]["weighted"]
        assert number(row["Cap"]) == api["band"]["cap_for_fte"]
        assert row["Stage"] == api["band"]["label"]
        assert number(row["Points"]) == (api["points"] or {}).get("load")
        assert number(row["Share of benchmark"]) == (api["share"] or {}).get("share")
        assert int(row["Completed programme months"]) == api["programme_month"]
        assert number(row["Protected time entitled (hours)"]) == protected["entitlement_hours"]
        assert number(row["Protected time booked (hours)"]) == protected["booked_hours"]
        assert number(row["Protected time taken (hours)"]) == protected["taken_hours"]
        assert row["Last supervision"] == (frequency["last_session"] or "")
        assert row["Supervision overdue"] == ("Yes" if frequency["overdue"] else "No")
        assert row["Outcome"] == api["outcome"]
        assert int(row["Unresolved breaches"]) == api["open_breaches"]
    over = {r["NQSW"] for r in workload if r["Over cap"] == "Yes"}
    assert over == {"Ben"}  # 9 cases against a cap of 8 (10 pro rata for 0.8 FTE)
    first = teams[made["first"].team.name]
    assert (first["NQSWs"], first["Within cap"], first["Over cap"]) == ("2", "1", "1")
    assert first["Share within cap (%)"] == "50.0"
    assert teams["All teams"]["NQSWs"] == "3"


def test_formula_like_text_is_neutralised_in_both_formats(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    made = world(db_session)
    coordinator = client_as("asye_coordinator")
    register = csv_rows(coordinator, "/api/v1/exports/breaches.csv")  # any status
    row = next(r for r in register if r["Breach ID"] == str(made["formula"].id))
    assert row["Reason"] == "'" + FORMULA
    assert row["Acknowledgement note"] == "'+44 20 7946 0000 rang"
    assert row["NQSW"] == "'@Ana Sum"
    assert row["Open on 2026-12-01"] == "Yes" and row["Age (working days)"] == "21"
    # None opened after the date; the one resolved before it is still on the register.
    assert len(register) == 4 and {r["Status"] for r in register} == {"open", "resolved"}

    cells = xlsx_cells(coordinator, "/api/v1/exports/breaches.xlsx", status="open")
    header, *rows = cells
    assert header[:3] == ["Breach ID", "NQSW ID", "NQSW"]
    found = next(r for r in rows if r[0] == made["formula"].id)
    assert found[header.index("Reason")] == FORMULA  # kept as typed, as a text cell
    assert found[header.index("NQSW")] == "@Ana Sum"
    assert len(rows) == 3  # the resolved one is left out by the status asked for
    for url in ("/api/v1/exports/workload.xlsx", "/api/v1/exports/compliance.xlsx"):
        assert len(xlsx_cells(coordinator, url)) > 1


def test_each_person_gets_only_their_reach(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    made = world(db_session)
    manager = client_as(made["first"].team_manager)
    assert {r["NQSW"] for r in csv_rows(manager, "/api/v1/exports/workload.csv")} == {
        "'@Ana Sum", "Ben"}
    assert {r["NQSW"] for r in csv_rows(manager, "/api/v1/exports/breaches.csv")} == {
        "'@Ana Sum", "Ben"}
    senior = client_as(made["second"].senior_manager)
    compliance = csv_rows(senior, "/api/v1/exports/compliance.csv")
    assert [r["Team"] for r in compliance] == [made["second"].team.name, "All teams"]
    assert compliance[-1]["Unresolved breaches: total"] == "1"
    nqsw = client_as(made["cy"])
    assert nqsw.get("/api/v1/exports/workload.xlsx").status_code == 403


def test_statements_do_not_grow_with_the_rows(
    client_as: Callable[..., TestClient], db_session: Session, engine: Engine
) -> None:
    made = world(db_session)
    coordinator = client_as("asye_coordinator")

    def statements() -> list[int]:
        counts = []
        for url in ("workload", "breaches", "compliance"):
            with counting(engine) as count:
                csv_rows(coordinator, f"/api/v1/exports/{url}.csv")
                counts.append(count())
        return counts

    statements()  # the first request of a session reads what later ones have at hand
    before = statements()
    for _ in range(4):
        worker, enrolment = seed.nqsw(db_session, made["first"], start=START)
        seed.load(db_session, worker, 2, start=START)
        seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2))
    db_session.commit()
    assert statements() == before


@pytest.mark.only_backend("sqlite")
def test_the_exports_page_offers_each_report_for_a_date(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    made = world(db_session)
    manager = client_as(made["first"].team_manager)
    page = manager.get("/exports", params={"on": ON.isoformat()})
    assert page.status_code == 200
    assert ">Exports</h1>" in page.text and "1 December 2026" in page.text
    for report in ("breaches", "workload", "compliance"):
        for fmt in ("csv", "xlsx"):
            assert f'href="/exports/{report}.{fmt}?on=2026-12-01' in page.text
    cells = xlsx_cells(manager, "/exports/workload.xlsx")
    assert sorted(row[1] for row in cells[1:]) == ["@Ana Sum", "Ben"]
    register = csv_rows(manager, "/exports/breaches.csv", status="all")
    assert {r["NQSW"] for r in register} == {"'@Ana Sum", "Ben"}
