"""Uploading an export in Chromium: preview what will change, then import it, as the ASYE
coordinator (the organisation) and as a team manager (their own team only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.dates import fill_date

pytestmark = pytest.mark.browser

HEADING = "Person ID,Current Step,Complexity,Team,Episode Start,Episode End\n"


def _preview(page: Any, path: Path, on: str = "2026-11-20") -> None:
    page.goto("/imports")
    page.get_by_label("Cases", exact=True).check()
    page.get_by_label("Mapping profile").select_option("lcs")
    page.get_by_label("Export file").set_input_files(str(path))
    fill_date(page, "Date of the export", on)
    shot(page, "import-form")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/imports/*")


def test_the_coordinator_previews_and_imports_cases(
    sign_in: Callable[[str], Any], tmp_path: Path
) -> None:
    page = sign_in("coordinator")
    path = tmp_path / "cases-export.csv"
    path.write_text(HEADING + "BR-1001,CIN Plan,Medium,Riverside Assessment,01/10/2026,\n"
                    "BR-1002,CLA,High,Hillside Family Support,12/05/2025 10:30,\n")
    _preview(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of cases-export.csv")
    expect(page.locator("#count-created")).to_have_text("2")
    shot(page, "import-preview")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imported cases-export.csv")
    expect(page.locator("#count-created")).to_have_text("2")
    page.get_by_role("link", name="Back to imports").click()
    expect(page.get_by_role("link", name="cases-export.csv").first).to_be_visible()


def test_a_team_manager_sees_other_teams_rows_refused_then_imports_their_own(
    sign_in: Callable[[str], Any], tmp_path: Path
) -> None:
    page = sign_in("manager")
    mixed = tmp_path / "team-cases.csv"
    mixed.write_text(HEADING + "TM-2001,CIN Plan,Low,Riverside Assessment,01/10/2026,\n"
                     "TM-2002,CIN Plan,Low,Hillside Family Support,01/10/2026,\n")
    _preview(page, mixed)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "team-cases.csv cannot be imported")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")
    expect(errors.first).to_contain_text("not your team")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    shot(page, "import-errors")
    own = tmp_path / "own-cases.csv"
    own.write_text(HEADING + "TM-2001,CIN Plan,Low,Riverside Assessment,01/10/2026,\n")
    _preview(page, own)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imported own-cases.csv")
