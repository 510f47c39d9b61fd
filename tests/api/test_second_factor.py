"""A second factor at password sign-in: real codes from the shared secret (pyotp), through
the real sign-in page, code page, set-up page and token endpoint.

Time is chosen, not waited for: codes are made for moments around now with
`pyotp.TOTP(secret).at(...)`, and the throttle's waits are sat out by moving the
recorded attempts back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import accounts, throttle
from app.auth import second_factor as factor
from app.auth.testing import make_staff
from app.models import Account, AuditEvent, LoginAttempt, LoginSession, RecoveryCode

PASSWORD = "a long enough passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"Accept": "text/html"}


@pytest.fixture
def browser(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session, follow_redirects=False) as client:
        yield client


@pytest.fixture
def person(db_session: Session) -> Callable[..., Account]:
    def make(role: str = "senior_manager", email: str = "sf@example.org") -> Account:
        staff = make_staff(db_session, role, email=email)
        account = accounts.create_account(db_session, email=email, staff_id=staff.id,
                                          password=PASSWORD)
        db_session.commit()
        return account

    return make


@pytest.fixture
def production(app_on_test_session: FastAPI) -> Iterator[None]:
    """The app as deployed in production mode, for one test."""
    settings = app_on_test_session.state.settings
    app_on_test_session.state.settings = settings.model_copy(update={"mode": "production"})
    yield
    app_on_test_session.state.settings = settings


def csrf(client: TestClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path, headers=HTML).text)
    assert found, f"{path} has its CSRF token"
    return found.group(1)


def password_step(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": PASSWORD,
                                       "csrf_token": csrf(client)}, headers=HTML)


def give_code(client: TestClient, code: str):  # type: ignore[no-untyped-def]
    token = csrf(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token, "next": "/"},
                       headers=HTML)


def set_up(client: TestClient, db_session: Session, account: Account,
           at: float | None = None) -> tuple[str, list[str]]:
    """Set a second factor up on the set-up page; its secret and the recovery codes shown."""
    page = client.get("/second-factor", headers=HTML)
    assert page.status_code == 200, page.text[:300]
    secret = re.search(r'id="secret">([A-Z2-7]+)<', page.text)
    assert secret, "the set-up page shows the secret"
    token = CSRF.search(page.text)
    assert token
    code = pyotp.TOTP(secret.group(1)).at(at if at is not None else time.time())
    done = client.post("/second-factor", data={"code": code, "csrf_token": token.group(1)},
                       headers=HTML)
    assert done.status_code == 200, done.text[:500]
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret.group(1), codes


def has_session(db_session: Session, account: Account) -> bool:
    rows = db_session.exec(select(LoginSession).where(
        LoginSession.account_id == account.id, col(LoginSession.ended_at).is_(None))).all()
    return bool(rows)


def actions(db_session: Session, account: Account) -> list[str]:
    events = db_session.exec(select(AuditEvent).where(
        AuditEvent.entity == "account", AuditEvent.entity_id == str(account.id))
        .order_by(col(AuditEvent.id))).all()
    return [e.action for e in events]


def signed_in_with_factor(browser: TestClient, db_session: Session,
                          account: Account) -> tuple[str, list[str]]:
    """Signed in by password (no factor yet), set one up, then signed out again."""
    assert password_step(browser, account.email).status_code == 303
    secret, codes = set_up(browser, db_session, account)
    browser.post("/logout", data={"csrf_token": csrf(browser, "/")},
                 headers=HTML)
    browser.cookies.clear()
    # As if it had been set up a while ago: the codes around now are all still unused.
    db_session.refresh(account)
    account.totp_last_step = None
    db_session.commit()
    return secret, codes


def test_codes_one_step_either_side_are_accepted_two_steps_off_and_reused_are_not(
    browser: TestClient, db_session: Session, person: Callable[..., Account]
) -> None:
    account = person()
    secret, _codes = signed_in_with_factor(browser, db_session, account)
    assert "auth.second_factor_set_up" in actions(db_session, account)
    totp = pyotp.TOTP(secret)
    now = time.time()

    # The password alone starts no session: it leads to the code.
    sent = password_step(browser, account.email)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login/code")
    assert not has_session(db_session, account)
    # Two steps early and two steps late are refused.
    assert give_code(browser, totp.at(now - 60)).status_code == 401
    assert give_code(browser, totp.at(now + 60)).status_code == 401
    assert not has_session(db_session, account)
    # One step early is accepted, and starts the session.
    done = give_code(browser, totp.at(now - 30))
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert has_session(db_session, account)
    assert browser.get("/", headers=HTML).status_code == 200

    browser.cookies.clear()
    assert password_step(browser, account.email).status_code == 303
    # The same code again, or an older one, is refused: a code works once.
    assert give_code(browser, totp.at(now - 30)).status_code == 401
    # One step late is accepted.
    assert give_code(browser, totp.at(now + 30)).status_code == 303
    assert "auth.second_factor_refused" in actions(db_session, account)


def test_a_recovery_code_works_once(
    browser: TestClient, db_session: Session, person: Callable[..., Account]
) -> None:
    account = person()
    _secret, codes = signed_in_with_factor(browser, db_session, account)
    stored = db_session.exec(select(RecoveryCode).where(
        RecoveryCode.account_id == account.id)).all()
    assert len(stored) == 10 and all(codes[0] not in row.code_hash for row in stored)

    assert password_step(browser, account.email).status_code == 303
    assert give_code(browser, codes[0].upper()).status_code == 303
    assert "auth.recovery_code_used" in actions(db_session, account)

    browser.cookies.clear()
    assert password_step(browser, account.email).status_code == 303
    assert give_code(browser, codes[0]).status_code == 401
    assert give_code(browser, codes[1].replace("-", "")).status_code == 303


def test_wrong_codes_are_throttled_like_passwords(
    browser: TestClient, db_session: Session, person: Callable[..., Account]
) -> None:
    account = person()
    secret, _codes = signed_in_with_factor(browser, db_session, account)
    assert password_step(browser, account.email).status_code == 303
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        assert give_code(browser, "000000").status_code == 401
    refused = give_code(browser, pyotp.TOTP(secret).now())
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong codes" in refused.text
    assert not has_session(db_session, account)
    # A correct password again does not wipe out the count of wrong codes.
    assert password_step(browser, account.email).status_code == 303
    assert give_code(browser, pyotp.TOTP(secret).now()).status_code == 429
    # Once the wait is sat out, the right code works.
    for attempt in db_session.exec(select(LoginAttempt)).all():
        attempt.at -= timedelta(minutes=2)
    db_session.commit()
    assert give_code(browser, pyotp.TOTP(secret).now()).status_code == 303


def test_the_token_endpoint_needs_the_code(
    browser: TestClient, db_session: Session, person: Callable[..., Account]
) -> None:
    account = person()
    secret, _codes = signed_in_with_factor(browser, db_session, account)
    form = {"username": account.email, "password": PASSWORD}
    missing = browser.post("/api/v1/auth/token", data=form)
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_grant"
    assert missing.json()["detail"][0]["loc"] == ["body", "totp"]
    assert browser.post("/api/v1/auth/token",
                        data={**form, "totp": "123456"}).status_code == 401
    issued = browser.post("/api/v1/auth/token",
                          data={**form, "totp": pyotp.TOTP(secret).now()})
    assert issued.status_code == 200 and issued.json()["access_token"]
    # Taken off (a lost phone), the password alone is enough again.
    db_session.refresh(account)
    factor.remove(db_session, account, actor_id=None)
    db_session.commit()
    assert browser.post("/api/v1/auth/token", data=form).status_code == 200
    assert "auth.second_factor_removed" in actions(db_session, account)


@pytest.mark.usefixtures("production")
def test_production_sends_a_senior_manager_to_set_up_but_not_a_team_manager(
    browser: TestClient, db_session: Session, person: Callable[..., Account]
) -> None:
    manager = person("team_manager", "tm@example.org")
    done = password_step(browser, manager.email)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert has_session(db_session, manager)
    browser.cookies.clear()

    senior = person("senior_manager", "senior@example.org")
    sent = password_step(browser, senior.email)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/second-factor")
    assert not has_session(db_session, senior)
    # Nothing else is open to them until it is set up.
    assert browser.get("/", headers=HTML).status_code in (302, 303, 307)
    token = browser.post("/api/v1/auth/token",
                         data={"username": senior.email, "password": PASSWORD})
    assert token.status_code == 400 and token.json()["detail"][0]["loc"] == ["body", "totp"]
    set_up(browser, db_session, senior)
    assert has_session(db_session, senior)
    assert browser.get("/", headers=HTML).status_code == 200
    db_session.refresh(senior)
    assert factor.has_second_factor(senior)
