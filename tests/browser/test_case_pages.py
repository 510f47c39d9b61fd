"""A team manager's life of a case, in a real Chromium: create it, allocate it, reassign
it, end the allocation. The case is new and leaves nobody's load changed by the end, so
the other browser tests see the seed as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.browser


def both_widths(page: Any, name: str) -> None:
    """Screenshots at a desktop's width and a phone's, for a person to look at."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1200, "height": 900})


def test_a_manager_creates_allocates_reassigns_and_ends_a_case(
    page: Any, sign_in: Callable[[str], Any], site: Site
) -> None:
    sign_in("manager")
    page.goto("/cases")
    both_widths(page, "cases")
    page.get_by_role("button", name="Create a case").click()
    page.get_by_label("Case reference").fill("C-9001")
    page.get_by_label("Category").select_option(label="Early help")
    page.get_by_label("1 (lowest)").check()
    both_widths(page, "case-new")
    page.get_by_role("button", name="Create case").click()
    expect(page.locator("#case-done")).to_contain_text("Case C-9001 created")
    expect(page.locator("#case-workers")).to_contain_text("Nobody holds this case")

    # Allocating starts from the case: its reference is filled in, and it is offered.
    page.get_by_role("button", name="Allocate this case").click()
    expect(page.get_by_label("Case reference")).to_have_value("C-9001")
    page.get_by_label("Worker", exact=True).select_option(label="Nia Patel")
    verdict = page.locator("#whatif-result")
    expect(verdict).to_have_attribute("data-outcome", "ok")
    both_widths(page, "allocate-from-case")
    page.get_by_role("button", name="Allocate case").click()
    expect(page.locator("#allocated-banner")).to_contain_text("Case C-9001 allocated to Nia")

    page.goto("/cases")
    page.get_by_role("row", name=re.compile("C-9001")).get_by_role("link").click()
    expect(page.locator("#case-workers")).to_contain_text("Nia Patel")
    both_widths(page, "case")
    page.get_by_role("link", name="Reassign from Nia Patel").click()
    page.get_by_label("Who takes the case over").select_option(
        label="Alan Price (advanced practitioner)")
    expect(verdict).to_have_attribute("data-outcome", "ok")
    both_widths(page, "case-reassign")
    page.get_by_role("button", name="Reassign case").click()
    expect(page.locator("#case-done")).to_contain_text("reassigned to Alan Price")

    page.get_by_role("link", name="End Alan Price’s allocation").click()
    both_widths(page, "case-end")
    page.get_by_role("button", name="End allocation").click()
    expect(page.locator("#case-done")).to_contain_text("Alan Price’s allocation ends on")
    expect(page.locator("#case-workers")).to_contain_text("Nobody holds this case")
    expect(page.locator("#case-history")).to_contain_text("Alan Price")
