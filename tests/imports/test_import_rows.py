"""Bad rows: every problem is named by row, column and reason, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from app.db import make_engine
from app.imports.plan import Scope
from app.models import Allocation, Staff
from app.settings import PROJECT_ROOT
from tests.imports.conftest import EXAMPLES, TEAM, ImportFn, other_team
from tests.scenarios import seed

HEADING = "Worker ID,Worker Name,Email,Job Title,Team,FTE,Contracted Hours,Start Date,End Date"
BAD_STAFF = [
    f"W1,Good Person,good@example.org,Social Worker,{TEAM},1,37,01/09/2026,",
    f"W2,,empty.name@example.org,Social Worker,{TEAM},1,37,01/09/2026,",
    f"W3,Bad Email,not-an-address,Social Worker,{TEAM},1,37,01/09/2026,",
    f"W4,Bad Role,role@example.org,Wizard,{TEAM},1,37,01/09/2026,",
    f"W5,Bad FTE,fte@example.org,Social Worker,{TEAM},full,37,01/09/2026,",
    f"W6,Big FTE,big@example.org,Social Worker,{TEAM},1.5,37,01/09/2026,",
    f"W7,No Such Day,day@example.org,Social Worker,{TEAM},1,37,31/02/2026,",
    f"W8,Left Early,left@example.org,Social Worker,{TEAM},1,37,01/09/2026,01/08/2026",
    "W9,Lost Team,lost@example.org,Social Worker,Atlantis Team,1,37,01/09/2026,",
    f"W1,Twice Numbered,twice@example.org,Social Worker,{TEAM},1,37,01/09/2026,",
    f"W11,Same Email,good@example.org,Social Worker,{TEAM},1,37,01/09/2026,",
    f"W12,Two Problems,two-problems,Social Worker,{TEAM},1,37,2026-09-01x,",
]
EXPECTED = [
    (3, "Worker Name", "is empty"),
    (4, "Email", "is not an e-mail address"),
    (5, "Job Title", "'Wizard' is not in the profile's code table"),
    (6, "FTE", "'full' is not a number"),
    (7, "FTE", "1.5 is outside 0.1 to 1"),
    (8, "Start Date", "'31/02/2026' is not a date"),
    (9, "End Date", "is before the start date"),
    (10, "Team", "'Atlantis Team' is not a team here"),
    (11, "Worker ID", "'W1' is also on row 2"),
    (12, "Email", "good@example.org is also on row 2"),
    (13, "Email", "is not an e-mail address"),
    (13, "Start Date", "is not a date"),
]


def test_ten_kinds_of_bad_row_are_each_named_and_nothing_is_written(
    db_session: Session, northgate: seed.Org, do_import: ImportFn, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("\n".join([HEADING, *BAD_STAFF]) + "\n", encoding="utf-8")
    report = do_import("staff", path)
    assert report.status.value == "failed"
    found = [(e.row, e.column, e.reason) for e in report.errors]
    assert len(found) == len(EXPECTED), found
    for (row, column, reason), (want_row, want_column, want_reason) in zip(
            found, EXPECTED, strict=True):
        assert (row, column) == (want_row, want_column) and want_reason in reason, found
    # All or nothing: the one good row was not written either.
    assert db_session.exec(select(Staff).where(Staff.email == "good@example.org")).all() == []
    assert report.run_id is not None and report.as_dict()["errors"][0]["row"] == 3


def test_a_team_manager_imports_only_their_own_team(
    db_session: Session, northgate: seed.Org, do_import: ImportFn, tmp_path: Path
) -> None:
    elsewhere = other_team(db_session, northgate, "Southgate Team")
    assert do_import("staff", EXAMPLES / "lcs-staff.csv").ok
    assert do_import("cases", EXAMPLES / "lcs-cases.csv").ok
    path = tmp_path / "cases.csv"
    path.write_text("Person ID,Current Step,Complexity,Team,Episode Start,Episode End\n"
                    "LCS-3001,CIN Plan,Low,Southgate Team,01/10/2026,\n")
    mine = Scope(team_id=northgate.team_id)
    report = do_import("cases", path, scope=mine)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Team")]
    assert "not your team" in report.errors[0].reason
    assert do_import("cases", path, scope=Scope(team_id=elsewhere.id)).ok
    allocations = tmp_path / "allocations.csv"
    allocations.write_text(
        "Involvement ID,Person ID,Worker ID,Involvement Type,Start Date,End Date\n"
        "INV-90,LCS-3001,W1002,Allocated Social Worker,01/10/2026,\n"
        "INV-91,LCS-9999,W1002,Allocated Social Worker,01/10/2026,\n"
        "INV-92,LCS-2001,W4040,Allocated Social Worker,01/10/2026,\n"
        "INV-93,LCS-2001,W1002,Allocated Social Worker,01/08/2026,\n")
    report = do_import("allocations", allocations, scope=mine)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "Person ID"), (3, "Person ID"), (4, "Worker ID"), (5, "Start Date")]
    assert db_session.exec(select(Allocation)).all() == []  # all or nothing


def test_the_command_exits_non_zero_with_the_report_on_bad_rows(
    fresh_database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_database_url)
    with Session(engine) as session:
        org = seed.organisation(session)
        org.team.name = TEAM
        session.add(org.team)
        session.commit()
    env = {**os.environ, "RINGFENCE_DATABASE_URL": fresh_database_url,
           "RINGFENCE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    ringfence = str(Path(sys.executable).parent / "ringfence")
    bad = tmp_path / "staff.csv"
    bad.write_text("\n".join([HEADING, *BAD_STAFF[:4]]) + "\n")
    run = subprocess.run([ringfence, "import", "staff", str(bad), "--profile", "lcs"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "nothing was imported" in run.stderr and "Job Title" in run.stderr
    good = EXAMPLES / "lcs-staff.csv"
    dry = subprocess.run([ringfence, "import", "staff", str(good), "--profile", "lcs",
                          "--dry-run", "--on", "20/11/2026"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "Would import lcs-staff.csv (3 rows) as of 20 November 2026: 3 created" in dry.stdout
    with Session(engine) as session:
        emails = session.exec(select(Staff.email)).all()
    assert "zoe.malik@example.org" not in emails
    engine.dispose()
