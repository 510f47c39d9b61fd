"""A new integrator opens /docs, authorises with a token, and calls the API from the page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Site, shot
from tests.browser.seed import PASSWORD

pytestmark = pytest.mark.browser


def test_docs_authorise_with_the_password_flow_and_call_an_endpoint(
    page: object, site: Site
) -> None:
    p = page
    p.goto("/docs")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Authorize").first.click()  # type: ignore[attr-defined]
    p.locator("#oauth_username").fill(site.email("manager"))  # type: ignore[attr-defined]
    p.locator("#oauth_password").fill(PASSWORD)  # type: ignore[attr-defined]
    p.locator(".auth-btn-wrapper button.authorize").click()  # type: ignore[attr-defined]
    p.get_by_text("Logout").first.wait_for()  # type: ignore[attr-defined]
    p.locator(".auth-btn-wrapper button.btn-done").click()  # type: ignore[attr-defined]

    operation = p.locator("#operations-accounts-me_api_v1_me_get")  # type: ignore[attr-defined]
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    shot(p, "api-docs-authorised")
    assert site.email("manager") in body.inner_text()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    assert status.inner_text().strip() == "200"
