"""Importing the example exports: records created once, a second import changes nothing,
and an NQSW's imported history opens the breach it holds, dated from when it began."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Allocation, Breach, Case, Notification, Staff
from app.models.imports import ImportRun
from tests.imports.conftest import EXAMPLES, ImportFn
from tests.scenarios import seed

KINDS = ("staff", "cases", "allocations")


def _zoe(session: Session, org: seed.Org) -> Staff:
    """Zoe is enrolled on the ASYE before her caseload is imported."""
    zoe, _ = seed.nqsw(session, org, start=date(2026, 9, 1), name="Zoe Malik")
    zoe.email = "zoe.malik@example.org"
    session.add(zoe)
    session.flush()
    return zoe


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_history_opens_its_breach_and_a_second_import_changes_nothing(
    db_session: Session, northgate: seed.Org, do_import: ImportFn
) -> None:
    zoe = _zoe(db_session, northgate)
    reports = [do_import(kind, EXAMPLES / f"lcs-{kind}.csv") for kind in KINDS]
    assert [r.status.value for r in reports] == ["applied"] * 3, [r.errors for r in reports]
    assert [r.counts["created"] for r in reports] == [2, 9, 10]  # Zoe was already here
    assert reports[0].counts["updated"] == 0 and reports[0].counts["unchanged"] == 1

    # The preview's words: Zoe holds 7 cases against a cap of 5 from 3 November.
    [zoe_now] = [c for c in reports[2].consequences if c["staff_id"] == zoe.id]
    [cap] = [f for f in zoe_now["findings"] if f["rule_id"] == "caseload-cap"]
    assert cap["effect"] == "opens" and cap["measured"] == 7 and cap["limit"] == 5
    assert cap["began_on"] == "2026-11-03"
    assert "Zoe Malik" in cap["sentence"] and "3 November 2026" in cap["sentence"]

    # Reality is recorded, never refused: all seven allocations, and the breach is open.
    held = db_session.exec(select(Allocation).where(Allocation.worker_id == zoe.id)).all()
    assert len(held) == 7
    breach = db_session.exec(select(Breach).where(
        Breach.staff_id == zoe.id, Breach.rule_id == "caseload-cap")).one()
    # Detected on the export's date, dated from the day the 6th case began.
    assert breach.status == "open" and breach.opened_on == date(2026, 11, 20)
    assert breach.began_on == date(2026, 11, 3)
    # One summary each to the coordinator and the team's manager.
    told = db_session.exec(select(Notification.recipient_id).where(
        Notification.kind == "import_summary")).all()
    assert {northgate.coordinator.id, northgate.team_manager.id} <= set(told)

    before = {m: _count(db_session, m) for m in (Staff, Case, Allocation, Breach)}
    again = [do_import(kind, EXAMPLES / f"lcs-{kind}.csv") for kind in KINDS]
    assert [(r.counts["created"], r.counts["updated"], r.counts["closed"]) for r in again] \
        == [(0, 0, 0)] * 3
    assert {m: _count(db_session, m) for m in before} == before
    runs = db_session.exec(select(ImportRun).order_by(col(ImportRun.id))).all()
    assert len(runs) == 6 and runs[0].sha256 == runs[3].sha256 and runs[0].status == "applied"


def test_a_dry_run_says_what_would_happen_and_changes_nothing(
    db_session: Session, northgate: seed.Org, do_import: ImportFn
) -> None:
    zoe = _zoe(db_session, northgate)
    for kind in ("staff", "cases"):
        assert do_import(kind, EXAMPLES / f"lcs-{kind}.csv").ok
    preview = do_import("allocations", EXAMPLES / "lcs-allocations.csv", dry_run=True)
    assert preview.status.value == "previewed" and preview.counts["created"] == 10
    assert any(f["rule_id"] == "caseload-cap" and f["effect"] == "opens"
               for c in preview.consequences if c["staff_id"] == zoe.id for f in c["findings"])
    assert db_session.exec(select(Allocation).where(Allocation.worker_id == zoe.id)).all() == []
    assert db_session.exec(select(Breach).where(Breach.staff_id == zoe.id)).all() == []
    run = db_session.get(ImportRun, preview.run_id)
    assert run is not None and run.status == "previewed" and run.created == 10


def test_a_full_export_closes_what_it_no_longer_lists(
    db_session: Session, northgate: seed.Org, do_import: ImportFn, tmp_path: Path
) -> None:
    for kind in KINDS:
        assert do_import(kind, EXAMPLES / f"lcs-{kind}.csv").ok
    lines = (EXAMPLES / "lcs-cases.csv").read_text().splitlines()
    shorter = tmp_path / "cases.csv"
    shorter.write_text("\n".join(line for line in lines if "LCS-2009" not in line) + "\n")
    report = do_import("cases", shorter, close_missing=True, on=date(2026, 11, 25))
    assert report.ok and report.counts["closed"] == 1
    gone = db_session.exec(select(Case).where(Case.reference == "LCS-2009")).one()
    assert gone.closed_on == date(2026, 11, 25)  # closed, never deleted
    [held] = db_session.exec(select(Allocation).where(Allocation.case_id == gone.id)).all()
    assert held.end_date == date(2026, 11, 25)


@pytest.mark.only_backend("sqlite")
@pytest.mark.parametrize("profile", ["mosaic", "eclipse"])
def test_each_shipped_profile_reads_its_example(
    db_session: Session, northgate: seed.Org, do_import: ImportFn, tmp_path: Path,
    profile: str,
) -> None:
    """Mosaic's examples are CSV; Eclipse's are read from a workbook, as exported."""
    for kind in KINDS:
        path = EXAMPLES / f"{profile}-{kind}.csv"
        if profile == "eclipse":
            path = _as_workbook(path, tmp_path / f"{profile}-{kind}.xlsx")
        report = do_import(kind, path, profile)
        assert report.ok, report.errors
        assert report.counts["created"] == report.rows


def _as_workbook(source: Path, target: Path) -> Path:
    import csv

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    with source.open(newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(target)
    return target
