"""An individual adjustment in a browser: the team manager proposes it, the coordinator
approves it, and only then does the NQSW's cap change (the engine's figure, as shown).

Runs on a server and database of its own (the adjustment changes Sam's cap, which the
shared site's other tests read), with the same seeded organisation and Chromium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import shot
from tests.browser.seed import Seeded
from tests.support.live_server import LiveServer

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser


def test_the_manager_proposes_the_coordinator_approves_the_cap_changes(
    open_as: Callable[[str], Any], own_site: tuple[LiveServer, Seeded]
) -> None:
    _, seeded = own_site
    listing = f"/nqsws/{seeded.ids['sam']}/adjustments"

    manager = open_as("manager")
    manager.goto(listing)
    expect(manager.locator("#cap-today")).to_contain_text("15 after 6 months, as the policy says")
    manager.get_by_role("button", name="Propose an adjustment").click()
    # A refusal is said beside the question, and nothing is kept.
    manager.get_by_role("button", name="Propose the adjustment").click()
    summary = manager.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select what to change")
    expect(summary).to_contain_text("Enter the agreed number")
    manager.get_by_label("What to change").select_option(
        label="Graduated caseload caps: the case cap after 6 months (the policy says 15)")
    manager.get_by_label("The agreed number").fill("12")
    manager.get_by_label("Why it was agreed").fill("Building confidence after a hard case")
    shot(manager, "adjustment-propose")
    manager.get_by_role("button", name="Propose the adjustment").click()
    expect(manager.locator("#adjustment-done")).to_contain_text("Adjustment proposed.")
    expect(manager.locator("#adjustment-status")).to_have_text("Waiting for a decision")
    expect(manager.locator("#agreed-number")).to_contain_text("the final cap (as agreed)")
    expect(manager.locator("#meaning-today")).to_contain_text(
        "If it is approved, Sam Okafor's case cap today will be 12")
    # Nobody approves their own proposal: the manager is offered no decision.
    expect(manager.get_by_role("button", name="Approve the adjustment")).to_have_count(0)
    detail = manager.url.split("?")[0]
    manager.goto(listing)
    expect(manager.locator("#cap-today")).to_contain_text("15 after 6 months")

    coordinator = open_as("coordinator")
    coordinator.goto(detail)
    shot(coordinator, "adjustment-decide")
    coordinator.get_by_role("button", name="Approve the adjustment").click()
    expect(coordinator.locator("#adjustment-done")).to_contain_text("Adjustment approved")
    expect(coordinator.locator("#adjustment-status")).to_have_text("In force")
    expect(coordinator.locator("#meaning-today")).to_contain_text(
        "Sam Okafor's case cap today is 12")
    coordinator.get_by_role("link", name="Back to Sam Okafor's adjustments").click()
    expect(coordinator.locator("#cap-today")).to_contain_text(
        "12 after 6 months, set by an individual adjustment")
    shot(coordinator, "adjustments")
