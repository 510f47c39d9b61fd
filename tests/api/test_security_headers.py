"""Security headers on every response, and error pages that leak nothing."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.headers import CSP
from app.main import create_app
from app.settings import Settings


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session, follow_redirects=False) as test_client:
        yield test_client


def assert_hardened(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("url", ["/healthz", "/login", "/api/v1/teams", "/no-such-page"])
def test_every_response_carries_the_headers(anonymous: TestClient, url: str) -> None:
    response = anonymous.get(url, headers={"Accept": "text/html"})
    assert_hardened(response)
    assert response.headers["content-security-policy"] == CSP


def test_the_policy_allows_only_our_own_assets() -> None:
    directives = dict(part.split(" ", 1) for part in CSP.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CSP and "http" not in CSP


def test_nothing_but_static_assets_is_cached(client: TestClient, anonymous: TestClient) -> None:
    """Pages, the API and the sign-in form may carry personal data (or a CSRF token)."""
    assert client.get("/api/v1/me").headers["cache-control"] == "no-store"
    assert anonymous.get("/login").headers["cache-control"] == "no-store"
    page = client.get("/nqsws", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.headers["cache-control"] == "no-store"
    assert "no-store" not in anonymous.get("/static/css/ringfence.css").headers.get(
        "cache-control", "")


def test_a_refused_forgery_also_carries_the_headers(anonymous: TestClient) -> None:
    anonymous.get("/login")
    refused = anonymous.post("/login", data={"email": "a@b.c", "password": "x"})
    assert refused.status_code == 403
    assert_hardened(refused)


def test_the_api_docs_may_run_exactly_their_own_inline_script(anonymous: TestClient) -> None:
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert_hardened(docs)
    policy = docs.headers["content-security-policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", docs.text, re.S)
    assert inline, "the docs page is expected to start Swagger UI inline"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    assert "unsafe-inline" not in script_src
    assert int(docs.headers["content-length"]) == len(docs.content)


def test_behind_https_browsers_are_told_to_stay_on_https(test_settings: Settings) -> None:
    app = create_app(test_settings.model_copy(update={"secure_cookies": True}))
    try:
        with TestClient(app) as test_client:
            assert "max-age=" in test_client.get("/healthz").headers["strict-transport-security"]
    finally:
        app.state.engine.dispose()


def test_a_failure_shows_no_stack_trace(test_settings: Settings) -> None:
    app = create_app(test_settings)

    @app.get("/api/v1/explode", include_in_schema=False)
    def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/explode-page", include_in_schema=False)
    def explode_page() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            api = test_client.get("/api/v1/explode")
            page = test_client.get("/explode-page", headers={"Accept": "text/html"})
        for response in (api, page):
            assert response.status_code == 500
            assert "hunter2" not in response.text and "Traceback" not in response.text
            assert "RuntimeError" not in response.text
            assert "reference" in response.text
            assert_hardened(response)
        assert api.headers["content-type"].startswith("application/json")
        assert page.headers["content-type"].startswith("text/html")
    finally:
        app.state.engine.dispose()


def test_a_refused_form_shows_the_error_page_and_the_api_keeps_json(
    anonymous: TestClient,
) -> None:
    """A person whose form has expired sees the service's page, not a JSON body."""
    anonymous.get("/login")
    page = anonymous.post("/login", data={"email": "a@b.c", "password": "x"},
                          headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "This form has expired" in page.text and "did not come from Ringfence" in page.text
    assert '{"detail"' not in page.text
    assert_hardened(page)
    fragment = anonymous.post("/logout", headers={"HX-Request": "true"})
    assert fragment.status_code == 403 and fragment.headers["HX-Retarget"] == "#rf-messages"
    anonymous.cookies.set("ringfence_session", "forged")
    api = anonymous.post("/api/v1/auth/revoke", headers={"Accept": "text/html"})
    assert api.status_code == 403
    assert api.headers["content-type"] == "application/json"
    assert "did not come from Ringfence" in api.json()["detail"]
