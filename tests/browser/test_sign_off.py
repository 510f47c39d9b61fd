"""The joint child-protection sign-off in a browser: one manager records it, the other sees
it awaiting them and approves it, and only then is it in force.

Runs on a server and database of its own (the sign-off changes what the shared site's
other tests would see), with the same seeded organisation and Chromium as the others.
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


def test_one_manager_records_the_other_approves(
    open_as: Callable[[str], Any], own_site: tuple[LiveServer, Seeded]
) -> None:
    _, seeded = own_site
    programme = f"/nqsws/{seeded.ids['sam']}/programme"

    manager = open_as("manager")
    manager.goto(programme)
    expect(manager.locator("#cp-sign-off")).to_have_text("Not signed off")
    expect(manager.get_by_label("Team manager (you)")).to_have_value(str(seeded.ids["manager"]))
    expect(manager.get_by_label("Senior manager")).to_have_value(str(seeded.ids["senior"]))
    manager.get_by_role("button", name="Record the sign-off with your approval").click()
    banner = manager.locator("#programme-done")
    expect(banner).to_contain_text("Sign-off recorded with your approval.")
    expect(banner).to_contain_text("awaiting the senior manager's approval (Grace Adeyemi)")
    expect(manager.locator("#cp-sign-off")).to_contain_text("Awaiting approval")
    expect(manager.locator("#sign-off-awaiting")).to_have_count(0)

    senior = open_as("senior")
    senior.goto(programme)
    awaiting = senior.locator("#sign-off-awaiting")
    expect(awaiting).to_contain_text("A sign-off is awaiting your approval")
    expect(awaiting).to_contain_text("Tom Hughes recorded that Sam Okafor is ready")
    shot(senior, "sign-off-awaiting-senior-manager")
    senior.get_by_role("button", name="Approve the sign-off").click()
    expect(senior.locator("#programme-done")).to_contain_text(
        "Signed off for child protection work from")
    expect(senior.locator("#cp-sign-off")).to_contain_text(
        "by Tom Hughes and Grace Adeyemi")
    expect(senior.locator("#sign-offs")).to_contain_text("In force")
    shot(senior, "sign-off-in-force")

    # Either manager may revoke it, with the reason; the form offers it.
    manager.goto(programme)
    expect(manager.get_by_role("button", name="Revoke the sign-off")).to_be_visible()
