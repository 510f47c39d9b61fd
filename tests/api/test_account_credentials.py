"""Credentials end with the account, the password and the role they were issued under.

An NQSW holds every kind of credential the service issues (a page session, a bearer token
from the password flow, a personal access token, a calendar feed URL); an admin then
switches the account off, resets the password or changes the role, through the API. Each
must end all four at once, each ending audited, on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import accounts
from app.clock import today
from app.models import Account, AuditEvent, Staff
from tests.scenarios import seed

PASSWORD = "a long enough passphrase"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Holder:
    """An NQSW signed in every way there is."""

    staff: Staff
    account: Account
    bearer: str
    personal: str
    feed: str
    browser: TestClient

    def api(self, client: TestClient, secret: str) -> int:
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code

    def page(self) -> int:
        return self.browser.get("/notifications").status_code


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def holder(
    app_on_test_session: FastAPI, db_session: Session, anonymous: TestClient
) -> Iterator[Holder]:
    org = seed.organisation(db_session)
    staff, _ = seed.nqsw(db_session, org, start=date(2026, 1, 5))
    account = accounts.create_account(db_session, email=staff.email, staff_id=staff.id,
                                      password=PASSWORD)
    db_session.commit()
    signed = anonymous.post("/api/v1/auth/token",
                            data={"username": staff.email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    bearer = signed.json()["access_token"]
    auth = {"Authorization": f"Bearer {bearer}"}
    personal = anonymous.post("/api/v1/me/tokens", json={"name": "sync", "scopes": ["read"]},
                              headers=auth)
    assert personal.status_code == 201, personal.text
    feed = anonymous.post(f"/api/v1/nqsws/{staff.id}/calendar-token", headers=auth)
    assert feed.status_code == 201, feed.text
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.headers["Accept"] = "text/html"
        form = CSRF_FIELD.search(browser.get("/login").text)
        assert form
        page = browser.post("/login", data={"email": staff.email, "password": PASSWORD,
                                            "csrf_token": form.group(1)})
        assert page.status_code == 303, page.text
        made = Holder(staff, account, bearer, personal.json()["token"],
                      f"/calendar/{feed.json()['token']}.ics", browser)
        # Everything works before the change.
        assert made.api(anonymous, bearer) == 200
        assert made.api(anonymous, made.personal) == 200
        assert made.page() == 200
        assert anonymous.get(made.feed, params={"on": "2026-01-05"}).status_code == 200
        yield made


def ended(db_session: Session, reason: str) -> list[str]:
    """The audited endings with this reason, as `action:kind`."""
    events = db_session.exec(select(AuditEvent).where(
        col(AuditEvent.action).in_(("session.end", "token.revoke", "calendar_token.revoke"))
    ).order_by(col(AuditEvent.id))).all()
    return sorted(
        f"{e.action}:{e.after.get('kind', '')}".rstrip(":") for e in events
        if isinstance(e.after, dict) and e.after.get("reason") == reason
    )


CHANGES = {
    "deactivated": {"is_active": False},
    "password_reset": {"reset_password": True},
    "role_change": {"role": "social_worker"},
}


@pytest.mark.parametrize("reason", sorted(CHANGES))
def test_every_credential_ends_with_the_account_the_password_or_the_role(
    reason: str, holder: Holder, anonymous: TestClient, client_as: Callable[..., TestClient],
    db_session: Session,
) -> None:
    admin = client_as("admin")
    changed = admin.patch(f"/api/v1/accounts/{holder.account.id}", json=CHANGES[reason])
    assert changed.status_code == 200, changed.text
    assert holder.api(anonymous, holder.bearer) == 401
    assert holder.api(anonymous, holder.personal) == 401
    assert holder.page() == 303  # the session is gone: a trip to sign in
    feed = anonymous.get(holder.feed, params={"on": "2026-01-05"})
    assert feed.status_code == 404, feed.text
    assert "Nadia" not in feed.text and "BEGIN:VCALENDAR" not in feed.text
    assert ended(db_session, reason) == [
        "calendar_token.revoke", "session.end", "token.revoke:access", "token.revoke:personal",
    ]


def test_a_role_change_through_the_staff_record_ends_them_too(
    holder: Holder, anonymous: TestClient, client_as: Callable[..., TestClient],
    db_session: Session,
) -> None:
    admin = client_as("admin")
    changed = admin.patch(f"/api/v1/staff/{holder.staff.id}", json={"role": "social_worker"})
    assert changed.status_code == 200, changed.text
    assert holder.api(anonymous, holder.bearer) == 401
    assert holder.api(anonymous, holder.personal) == 401
    assert holder.page() == 303
    assert anonymous.get(holder.feed).status_code == 404
    # A fresh sign-in works, as who they now are.
    again = anonymous.post("/api/v1/auth/token",
                           data={"username": holder.staff.email, "password": PASSWORD})
    me = anonymous.get("/api/v1/me",
                       headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    assert me.json()["role"] == "social_worker"


def test_after_a_reset_the_old_password_no_longer_signs_in(
    holder: Holder, anonymous: TestClient, client_as: Callable[..., TestClient],
) -> None:
    admin = client_as("admin")
    assert admin.patch(f"/api/v1/accounts/{holder.account.id}",
                       json={"reset_password": True}).status_code == 200
    refused = anonymous.post("/api/v1/auth/token",
                             data={"username": holder.staff.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert admin.get(f"/api/v1/accounts/{holder.account.id}").json()["has_password"] is False


def test_the_feed_stops_when_its_owner_can_no_longer_act(
    holder: Holder, anonymous: TestClient, db_session: Session,
) -> None:
    """Checked when the feed is served too, not only revoked when the account changes:
    an account switched off or a person who has left gets no feed, whatever the token."""
    account = db_session.get(Account, holder.account.id)
    assert account is not None
    account.is_active = False
    db_session.commit()
    assert anonymous.get(holder.feed).status_code == 404
    account.is_active = True
    staff = db_session.get(Staff, holder.staff.id)
    assert staff is not None
    staff.leave_date = today() - timedelta(days=1)
    db_session.commit()
    assert anonymous.get(holder.feed).status_code == 404
    staff.leave_date = today()  # still here on their last day
    db_session.commit()
    assert anonymous.get(holder.feed, params={"on": "2026-01-05"}).status_code == 200


def test_the_feed_is_never_cached(holder: Holder, anonymous: TestClient) -> None:
    served = anonymous.get(holder.feed, params={"on": "2026-01-05"})
    assert served.status_code == 200
    assert served.headers["cache-control"] == "no-store"
    gone = anonymous.get("/calendar/not-a-real-token.ics")
    assert gone.status_code == 404 and gone.headers["cache-control"] == "no-store"
