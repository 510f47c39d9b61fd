"""Page sessions: the cookie, idle and absolute expiry, a logout that really ends the session,
and CSRF protection on every state-changing request a browser can be tricked into."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth import accounts, sessions
from app.auth.csrf import token_for
from app.auth.testing import make_staff, token_for_staff
from app.auth.web import CurrentPageUser, clear_session_cookie, set_session_cookie
from app.db import get_session
from app.main import create_app
from app.models import Account, AuditEvent, LoginSession
from app.models.base import utcnow
from app.settings import Settings

PASSWORD = "a long enough passphrase"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    """A client with no bearer token: it signs in the way a browser does."""
    with TestClient(app_on_test_session, follow_redirects=False) as test_client:
        test_client.headers["Accept"] = "text/html"
        yield test_client


@pytest.fixture
def account(db_session: Session) -> Account:
    staff = make_staff(db_session, "team_manager", email="page.user@example.org")
    made = accounts.create_account(db_session, email=staff.email, staff_id=staff.id,
                                   password=PASSWORD)
    db_session.commit()
    return made


def form_token(client: TestClient, url: str = "/login") -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def sign_in(client: TestClient) -> str:
    token = form_token(client)
    response = client.post("/login", data={"email": "page.user@example.org",
                                           "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    cookie = client.cookies.get(sessions.COOKIE_NAME)
    assert cookie
    return cookie


def csrf_for(app: FastAPI, cookie: str) -> str:
    return token_for(app.state.settings.resolved_secret_key(), cookie)


def test_signing_in_sets_an_httponly_samesite_cookie_and_the_session_works(
    browser: TestClient, account: Account
) -> None:
    first = browser.get("/login")
    pre = first.headers["set-cookie"]
    assert "ringfence_csrf=" in pre and "HttpOnly" in pre and "SameSite=Lax" in pre
    token = CSRF_FIELD.search(first.text).group(1)  # type: ignore[union-attr]
    response = browser.post("/login", data={"email": "page.user@example.org",
                                            "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    me = browser.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["via"] == "session" and me.json()["email"] == "page.user@example.org"


def test_the_sign_in_form_itself_needs_its_csrf_token(
    browser: TestClient, account: Account, db_session: Session
) -> None:
    browser.get("/login")
    refused = browser.post("/login", data={"email": "page.user@example.org",
                                           "password": PASSWORD, "csrf_token": "forged"})
    assert refused.status_code == 403
    missing = browser.post("/login", data={"email": "page.user@example.org",
                                           "password": PASSWORD})
    assert missing.status_code == 403
    assert db_session.exec(select(LoginSession)).first() is None


def test_a_new_sign_in_never_reuses_a_session_id(browser: TestClient, account: Account) -> None:
    first = sign_in(browser)
    browser.cookies.clear()
    assert sign_in(browser) != first


def test_cookie_requests_that_change_things_need_the_csrf_header(
    browser: TestClient, account: Account, app_on_test_session: FastAPI
) -> None:
    cookie = sign_in(browser)
    body = {"name": "from the browser", "scopes": ["read"]}
    assert browser.post("/api/v1/me/tokens", json=body).status_code == 403
    forged = browser.post("/api/v1/me/tokens", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    token = csrf_for(app_on_test_session, cookie)
    allowed = browser.post("/api/v1/me/tokens", json=body, headers={"X-CSRF-Token": token})
    assert allowed.status_code == 201, allowed.text
    # Reading needs no token.
    assert browser.get("/api/v1/me/tokens").status_code == 200


def test_logout_ends_the_session_on_the_server(
    browser: TestClient, account: Account, app_on_test_session: FastAPI, db_session: Session
) -> None:
    cookie = sign_in(browser)
    token = csrf_for(app_on_test_session, cookie)
    assert browser.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert browser.post("/logout", data={"csrf_token": token}).status_code in (302, 303)
    # The old cookie, replayed, is worthless now.
    browser.cookies.set(sessions.COOKIE_NAME, cookie)
    assert browser.get("/api/v1/me").status_code == 401
    row = db_session.exec(select(LoginSession)).one()
    assert row.ended_at is not None
    assert "auth.logout" in db_session.exec(select(AuditEvent.action)).all()


@pytest.mark.parametrize("expiry", ["idle", "absolute"])
def test_sessions_expire_when_idle_and_absolutely(
    expiry: str, browser: TestClient, account: Account, db_session: Session,
    test_settings: Settings,
) -> None:
    sign_in(browser)
    assert browser.get("/api/v1/me").status_code == 200
    row = db_session.exec(select(LoginSession)).one()
    if expiry == "idle":
        row.last_seen_at = utcnow() - timedelta(minutes=test_settings.session_idle_minutes + 1)
    else:
        row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert browser.get("/api/v1/me").status_code == 401


def test_activity_keeps_a_session_alive(
    browser: TestClient, account: Account, db_session: Session, test_settings: Settings
) -> None:
    sign_in(browser)
    row = db_session.exec(select(LoginSession)).one()
    nearly = utcnow() - timedelta(minutes=test_settings.session_idle_minutes - 1)
    row.last_seen_at = nearly
    db_session.commit()
    assert browser.get("/api/v1/me").status_code == 200
    db_session.refresh(row)
    assert row.last_seen_at > nearly + timedelta(seconds=30)


def test_a_new_password_ends_every_session(
    browser: TestClient, account: Account, db_session: Session
) -> None:
    sign_in(browser)
    accounts.set_password(db_session, account, "another long passphrase", actor_id=None)
    db_session.commit()
    assert browser.get("/api/v1/me").status_code == 401


def test_behind_https_the_cookie_is_secure_and_host_only(test_settings: Settings) -> None:
    secure = test_settings.model_copy(update={"secure_cookies": True})
    response = Response()
    set_session_cookie(response, secure, "value")
    header = response.headers["set-cookie"]
    assert header.startswith("__Host-ringfence_session=value")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header
    cleared = Response()
    clear_session_cookie(cleared, secure)
    assert "__Host-ringfence_session=" in cleared.headers["set-cookie"]
    assert "Secure" in cleared.headers["set-cookie"]


def test_pages_send_a_signed_out_person_to_sign_in(
    test_settings: Settings, db_session: Session
) -> None:
    app = create_app(test_settings)

    @app.get("/probe-page", include_in_schema=False)
    def probe(user: CurrentPageUser) -> dict[str, str | None]:
        return {"role": user.role}

    def _session() -> Iterator[Session]:
        yield db_session

    app.dependency_overrides[get_session] = _session
    token = token_for_staff(db_session, make_staff(db_session, "nqsw"))
    try:
        with TestClient(app, follow_redirects=False) as anonymous:
            page = anonymous.get("/probe-page", headers={"Accept": "text/html"})
            assert page.status_code in (302, 303)
            assert page.headers["location"].startswith("/login?next=/probe-page")
            assert anonymous.get("/probe-page").status_code == 401
            signed_in = anonymous.get("/probe-page", headers={"Authorization": f"Bearer {token}"})
            assert signed_in.json() == {"role": "nqsw"}
    finally:
        app.state.engine.dispose()
