"""Password guessing slows down, progressively, per sign-in name and per address, on the
API's token endpoint and the sign-in page alike; but a stranger's failures cannot lock
the owner out of their usual address, and spreading guesses over many addresses does
not escape the per-name count.

Every attempt goes through the real endpoints (`POST /api/v1/auth/token`, `POST /login`)
from chosen client addresses. Time passing is the only thing arranged directly: the
recorded failures are moved back, as if the wait had been sat out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import accounts, throttle
from app.auth.testing import make_staff
from app.models import Account, AuditEvent, LoginAttempt

PASSWORD = "a long enough passphrase"
WRONG = "not the password at all"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
USUAL, ELSEWHERE = "198.51.100.10", "203.0.113.99"


@pytest.fixture
def person(db_session: Session) -> Callable[[str], Account]:
    def make(email: str) -> Account:
        staff = make_staff(db_session, "team_manager", email=email)
        account = accounts.create_account(db_session, email=email, staff_id=staff.id,
                                          password=PASSWORD)
        db_session.commit()
        return account

    return make


@pytest.fixture
def from_address(app_on_test_session: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """`from_address("203.0.113.5")`: a client whose requests come from that address."""
    with ExitStack() as stack:
        clients: dict[str, TestClient] = {}

        def make(address: str) -> TestClient:
            if address not in clients:
                clients[address] = stack.enter_context(TestClient(
                    app_on_test_session, client=(address, 50000), follow_redirects=False))
            return clients[address]

        yield make


def token(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def page_sign_in(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    form = client.get("/login", headers={"Accept": "text/html"})
    csrf = CSRF_FIELD.search(form.text)
    assert csrf, "the sign-in page has its CSRF token"
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf.group(1)},
                       headers={"Accept": "text/html"})


def sit_out(db_session: Session, seconds: float) -> None:
    """As if `seconds` had passed: every recorded attempt moves back by that much."""
    for attempt in db_session.exec(select(LoginAttempt)).all():
        attempt.at = attempt.at - timedelta(seconds=seconds)
    db_session.commit()


def retry_after(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    return int(response.headers["retry-after"])


def test_after_the_free_failures_each_wait_doubles(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
    db_session: Session,
) -> None:
    person("doubling@example.org")
    guesser = from_address(ELSEWHERE)
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        assert token(guesser, "doubling@example.org", WRONG).status_code == 400
    first = throttle.FIRST_DELAY.total_seconds()
    # Refused without the password being checked, even the right one.
    assert first - 2 <= retry_after(token(guesser, "doubling@example.org")) <= first + 1
    waits = []
    for _ in range(3):
        sit_out(db_session, throttle.LONGEST_DELAY.total_seconds() / 8)
        assert token(guesser, "doubling@example.org", WRONG).status_code == 400
        waits.append(retry_after(token(guesser, "doubling@example.org", WRONG)))
    assert [round(w / first) for w in waits] == [2, 4, 8], waits
    # Never longer than the longest delay, however many failures.
    sit_out(db_session, throttle.LONGEST_DELAY.total_seconds())
    for _ in range(12):
        db_session.add(LoginAttempt(email="doubling@example.org", address=ELSEWHERE,
                                    succeeded=False))
    db_session.commit()
    assert retry_after(token(guesser, "doubling@example.org")) <= (
        throttle.LONGEST_DELAY.total_seconds() + 1)
    # Once the wait is over, the right password works again.
    sit_out(db_session, throttle.LONGEST_DELAY.total_seconds() + 1)
    assert token(guesser, "doubling@example.org").status_code == 200


def test_the_sign_in_page_answers_429_with_retry_after(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
) -> None:
    person("paged@example.org")
    browser = from_address(ELSEWHERE)
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        assert page_sign_in(browser, "paged@example.org", WRONG).status_code == 401
    refused = page_sign_in(browser, "paged@example.org")
    wait = retry_after(refused)
    assert 0 < wait <= throttle.FIRST_DELAY.total_seconds() + 1
    assert f"Too many attempts to sign in. Try again in {wait} seconds" in refused.text
    assert 'class="govuk-error-summary"' in refused.text
    assert browser.cookies.get("ringfence_session") is None


def test_the_owner_still_gets_in_from_their_usual_address(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
    db_session: Session,
) -> None:
    person("owner@example.org")
    owner = from_address(USUAL)
    assert token(owner, "owner@example.org").status_code == 200  # the usual address
    # Someone else hammers the account from several other addresses.
    for index in range(throttle.FREE_FAILURES_PER_ACCOUNT + 3):
        token(from_address(f"192.0.2.{index + 1}"), "owner@example.org", WRONG)
    assert retry_after(token(from_address(ELSEWHERE), "owner@example.org")) > 0
    assert retry_after(page_sign_in(from_address(ELSEWHERE), "owner@example.org")) > 0
    # The owner, from where they always sign in, is not locked out by it: API and page.
    assert token(owner, "owner@example.org").status_code == 200
    assert page_sign_in(owner, "owner@example.org").status_code == 303
    # Their own mistakes there still slow them down.
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        assert token(owner, "owner@example.org", WRONG).status_code == 400
    assert retry_after(token(owner, "owner@example.org")) > 0
    # The address is only "usual" for a while after the last success there.
    sit_out(db_session, throttle.USUAL_ADDRESS_FOR.total_seconds())
    for index in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        token(from_address(f"192.0.2.{100 + index}"), "owner@example.org", WRONG)
    assert retry_after(token(owner, "owner@example.org")) > 0


def test_many_addresses_share_the_account_limit(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
) -> None:
    person("sprayed@example.org")
    for index in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        assert token(from_address(f"192.0.2.{index + 1}"), "sprayed@example.org",
                     WRONG).status_code == 400
    # A fresh address gets no fresh allowance, even with the right password.
    assert retry_after(token(from_address("192.0.2.200"), "sprayed@example.org")) > 0
    # A name without an account is throttled exactly the same: nobody learns who exists.
    for index in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        token(from_address(f"192.0.2.{index + 1}"), "ghost@example.org", WRONG)
    assert retry_after(token(from_address("192.0.2.200"), "ghost@example.org")) > 0
    # Other people are not affected by that account's failures.
    person("bystander@example.org")
    assert token(from_address("192.0.2.1"), "bystander@example.org").status_code == 200


def test_password_spraying_from_one_address_is_slowed(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
) -> None:
    person("fresh@example.org")
    person("regular@example.org")
    office = from_address(USUAL)
    assert token(office, "regular@example.org").status_code == 200
    for index in range(throttle.FREE_FAILURES_PER_ADDRESS):
        assert token(office, f"spray{index}@example.org", WRONG).status_code == 400
    refused = token(office, "fresh@example.org")
    assert retry_after(refused) > 0
    assert refused.json()["error"] == "slow_down"
    # Someone who signs in from there as a matter of course is not caught by it.
    assert token(office, "regular@example.org").status_code == 200
    # Nor is the same person from another address.
    assert token(from_address(ELSEWHERE), "fresh@example.org").status_code == 200


def test_only_the_first_refusal_by_the_throttle_is_audited_per_window(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
    db_session: Session,
) -> None:
    person("flooded@example.org")
    guesser = from_address(ELSEWHERE)
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        token(guesser, "flooded@example.org", WRONG)
    for _ in range(4):
        assert token(guesser, "flooded@example.org").status_code == 429
    failed = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed").order_by(col(AuditEvent.id))).all()
    reasons = [e.after["reason"] for e in failed]
    assert reasons == ["bad_credentials"] * throttle.FREE_FAILURES_PER_ACCOUNT + ["throttled"]
    assert failed[-1].after["limit"] == "name" and PASSWORD not in str(failed[-1].after)
    # Another name refused afterwards is a refusal of its own, audited once too.
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT):
        token(guesser, "second@example.org", WRONG)
    token(guesser, "second@example.org")
    token(guesser, "second@example.org")
    throttled = db_session.exec(select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.entity == "login_throttle")).all()
    assert sorted(e.after["email"] for e in throttled) == ["flooded@example.org",
                                                         "second@example.org"]


def test_failures_older_than_a_day_no_longer_count(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
    db_session: Session,
) -> None:
    person("yesterday@example.org")
    guesser = from_address(ELSEWHERE)
    for _ in range(throttle.FREE_FAILURES_PER_ACCOUNT + 2):
        token(guesser, "yesterday@example.org", WRONG)
    assert retry_after(token(guesser, "yesterday@example.org")) > 0
    sit_out(db_session, throttle.LOOKBACK.total_seconds() + 1)
    assert token(guesser, "yesterday@example.org").status_code == 200
    # A success forgets the failures that no longer count.
    left = db_session.exec(select(LoginAttempt).where(
        col(LoginAttempt.succeeded).is_(False))).all()
    assert left == []


def test_only_the_latest_success_from_an_address_is_kept(
    from_address: Callable[[str], TestClient], person: Callable[[str], Account],
    db_session: Session,
) -> None:
    person("often@example.org")
    owner = from_address(USUAL)
    for _ in range(3):
        assert token(owner, "often@example.org").status_code == 200
    kept = db_session.exec(select(LoginAttempt).where(
        LoginAttempt.email == "often@example.org")).all()
    assert [(a.address, a.succeeded) for a in kept] == [(USUAL, True)]
