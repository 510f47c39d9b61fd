"""Who could take this case: a team manager compares the team before allocating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.db import make_engine
from app.repositories import case as case_repository
from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.browser


def _case_id(site: Site, reference: str) -> int:
    engine = make_engine(site.server.database_url)
    try:
        with Session(engine) as session:
            case = case_repository.case_by_reference(session, reference)
            assert case is not None and case.id is not None
            return case.id
    finally:
        engine.dispose()


def test_manager_sees_the_team_best_candidates_first(
    page: Any, sign_in: Callable[[str], Any], site: Site
) -> None:
    spare = site.seeded.spare_cases[-1]
    sign_in("manager")
    page.goto(f"/cases/{_case_id(site, spare)}/candidates")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who could take this case?")
    rows = page.locator("#candidates-table tbody tr")
    # Nia has room under her cap; the AP has no cap; one more case takes Sam past the
    # last band's cap (a warning) and Leo further over his first-stage cap (blocked).
    expect(rows.locator("th a, th").first).to_contain_text("Nia Patel")
    names = [n.split("\n")[0].strip() for n in rows.locator("th").all_inner_texts()]
    assert [n for n in names if n.startswith(("Nia", "Alan", "Sam", "Leo"))] == [
        "Nia Patel", "Alan Price", "Sam Okafor", "Leo Brennan"], names
    outcomes = [rows.nth(i).get_attribute("data-outcome") for i in range(rows.count())]
    assert outcomes == sorted(outcomes, key=["ok", "warn", "block"].index), outcomes
    expect(rows.filter(has_text="Sam Okafor")).to_contain_text("Warning")
    expect(rows.filter(has_text="Leo Brennan")).to_contain_text("Blocked")
    page.get_by_text("How this list is ordered").click()
    expect(page.locator("#candidates-order")).to_contain_text("most room under their cap")
    shot(page, "candidates")
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, "candidates-390")
