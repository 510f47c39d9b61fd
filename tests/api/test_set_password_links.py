"""An admin cannot reach casework by proxy: accounts an admin creates or resets get a
one-time set-password link, emailed to the holder, and the admin never knows a password.

The first tests run the whole journey with real commits and a real SMTP server
(aiosmtpd): the admin's API call, the outbox delivering the email, the holder opening
the link and choosing a password on the page, signing in with it. The rest read the
queued email from the outbox, inside the usual rolled-back transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.auth import accounts, links, sessions
from app.auth.testing import make_staff, token_for_staff
from app.clock import now_utc
from app.db import write_bind
from app.jobs import outbox
from app.main import create_app
from app.models import Account, ApiToken, AuditEvent, OutboxMessage, Staff
from app.settings import Settings
from tests.api.test_outbox import RecordingHandler, SmtpServer
from tests.conftest import make_settings
from tests.scenarios import seed
from tests.support.live_server import free_port

PASSWORD = "a long enough passphrase"
CHOSEN = "correct horse battery staple"
LINK = re.compile(r"https?://[^\s\"<>]+(/set-password/rfl_[A-Za-z0-9_-]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found, f"no set-password link in:\n{text}"
    return found.group(1)


def choose(client: TestClient, path: str, password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    csrf = CSRF_FIELD.search(page.text)
    assert csrf
    return client.post(path, data={"password": password,
                                   "confirm_password": password if confirm is None else confirm,
                                   "csrf_token": csrf.group(1)},
                       headers={"Accept": "text/html"})


def sign_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def audited(session: Session, prefix: str = "account.password_") -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(
        col(AuditEvent.action).startswith(prefix)).order_by(col(AuditEvent.id))).all())


# ---- the journey, with real commits and a real mail server ---------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(RecordingHandler(), free_port()) as server:
        yield server


@pytest.fixture
def mail_settings(fresh_database_url: str, tmp_path: Path, smtp: SmtpServer) -> Settings:
    return make_settings(fresh_database_url, tmp_path, smtp_enabled=True, smtp_host="127.0.0.1",
                         smtp_port=smtp.port, smtp_sender="ringfence@council.example",
                         base_url="https://ringfence.council.example")


@pytest.fixture
def mail_app(mail_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(mail_settings)
    yield application
    application.state.engine.dispose()


def _admin(engine: Engine) -> tuple[str, Staff]:
    with Session(write_bind(engine), expire_on_commit=False) as session:
        admin = make_staff(session, "admin", name="Ada Admin", email="ada.admin@council.example")
        worker = make_staff(session, "team_manager", name="Tom Manager",
                            email="tom.manager@council.example")
        secret = token_for_staff(session, admin)
        session.commit()
        return secret, worker


def _deliver(app: FastAPI, settings: Settings, smtp: SmtpServer) -> list[str]:
    before = len(smtp.received)
    counts = outbox.deliver_due(app.state.engine, settings, now_utc() + timedelta(seconds=1))
    assert counts.failed == 0 and counts.retrying == 0, counts.errors
    return [r.message.get_body(("plain",)).get_content() for r in smtp.received[before:]]


def test_an_account_made_by_an_admin_gets_a_link_the_admin_never_sees(
    mail_app: FastAPI, mail_settings: Settings, smtp: SmtpServer,
) -> None:
    admin_token, worker = _admin(mail_app.state.engine)
    with TestClient(mail_app, follow_redirects=False) as client:
        created = client.post("/api/v1/accounts", json={"email": worker.email},
                              headers={"Authorization": f"Bearer {admin_token}"})
        assert created.status_code == 201, created.text
        assert created.json()["has_password"] is False
        assert "rfl_" not in created.text  # the admin's answer holds no link

        (mail,) = _deliver(mail_app, mail_settings, smtp)
        received = smtp.received[-1]
        assert received.rcpt_tos == [worker.email]
        assert received.message["Subject"] == "Choose your password for Ringfence"
        assert "Ada Admin (ada.admin@council.example) has given you" in mail
        assert f"Your sign-in name is {worker.email}" in mail
        html = received.message.get_body(("html",)).get_content()
        path = link_in(mail)
        assert f'href="https://ringfence.council.example{path}"' in html
        assert "24 hours" in mail

        # The page: errors beside the fields, then the password is chosen.
        mismatch = choose(client, path, CHOSEN, "something else entirely")
        assert mismatch.status_code == 422
        assert 'id="confirm-password-error"' in mismatch.text
        assert "The passwords do not match" in mismatch.text
        short = choose(client, path, "too short")
        assert short.status_code == 422 and 'id="password-error"' in short.text
        assert "A password needs at least 12 characters" in short.text
        chosen = choose(client, path, CHOSEN)
        assert chosen.status_code == 303, chosen.text
        assert chosen.headers["location"] == "/login?password_set=1"
        assert "Your password is set" in client.get("/login?password_set=1").text
        assert sign_in(client, worker.email, CHOSEN).status_code == 200

        # Used once: opening or sending it again is refused, and audited once.
        again = client.get(path, headers={"Accept": "text/html"})
        assert again.status_code == 410 and "already been used" in again.text
        assert client.get(path).status_code == 410
        (told,) = _deliver(mail_app, mail_settings, smtp)
        assert "was set at" in told and "If it was not you" in told

    with Session(mail_app.state.engine) as session:
        trail = [(e.action, e.actor_id, (e.after or {}).get("reason")) for e in audited(session)]
        admin_id = session.exec(select(Staff.id).where(Staff.name == "Ada Admin")).one()
        assert trail == [
            ("account.password_link_issue", admin_id, None),
            ("account.password_link_use", worker.id, None),
            ("account.password_set", worker.id, "password_set_by_link"),
            ("account.password_link_refuse", None, "used"),
        ]
        # Only a digest of the link is stored, and no audit event holds the link.
        secret = path.rsplit("/", 1)[1]
        row = session.exec(select(ApiToken).where(ApiToken.kind == links.KIND)).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str([e.after for e in session.exec(select(AuditEvent)).all()])


def test_a_reset_says_who_asked_and_ends_the_old_password(
    mail_app: FastAPI, mail_settings: Settings, smtp: SmtpServer,
) -> None:
    admin_token, worker = _admin(mail_app.state.engine)
    with Session(write_bind(mail_app.state.engine)) as session:
        accounts.create_account(session, email=worker.email, staff_id=worker.id,
                                password=PASSWORD)
        session.commit()
    with TestClient(mail_app, follow_redirects=False) as client:
        own = sign_in(client, worker.email, PASSWORD).json()["access_token"]
        account_id = client.get("/api/v1/me", headers={"Authorization": f"Bearer {own}"}).json()[
            "account_id"]
        reset = client.patch(f"/api/v1/accounts/{account_id}", json={"reset_password": True},
                             headers={"Authorization": f"Bearer {admin_token}"})
        assert reset.status_code == 200, reset.text
        assert sign_in(client, worker.email, PASSWORD).status_code == 400
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {own}"}).status_code == (
            401)
        (mail,) = _deliver(mail_app, mail_settings, smtp)
        assert smtp.received[-1].message["Subject"] == "Your Ringfence password has been reset"
        assert "Ada Admin (ada.admin@council.example) asked for it at" in mail
        assert "If you did not expect this" in mail
        assert choose(client, link_in(mail), CHOSEN).status_code == 303
        assert sign_in(client, worker.email, CHOSEN).status_code == 200


# ---- the rules, inside the rolled-back transaction ------------------------------------


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session, follow_redirects=False) as client:
        yield client


def queued_link(db_session: Session, email: str) -> str:
    message = db_session.exec(select(OutboxMessage).where(OutboxMessage.to_address == email)
                              .order_by(col(OutboxMessage.id).desc())).first()
    assert message is not None, f"nothing queued for {email}"
    return link_in(message.text)


def test_an_admin_cannot_give_a_password(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    admin = client_as("admin")
    worker = make_staff(db_session, "social_worker", email="given@example.org")
    db_session.commit()
    refused = admin.post("/api/v1/accounts", json={"email": "given@example.org",
                                                   "password": PASSWORD})
    assert refused.status_code == 422
    (detail,) = refused.json()["detail"]
    assert detail["loc"] == ["body", "password"] and "one-time link" in detail["msg"]
    assert PASSWORD not in refused.text  # never echoed back
    assert db_session.exec(select(Account).where(Account.staff_id == worker.id)).first() is None
    made = admin.post("/api/v1/accounts", json={"email": "given@example.org"})
    assert made.status_code == 201
    patched = admin.patch(f"/api/v1/accounts/{made.json()['id']}", json={"password": PASSWORD})
    assert patched.status_code == 422
    assert patched.json()["detail"][0]["loc"] == ["body", "password"]
    assert PASSWORD not in patched.text
    schema = admin.get("/openapi.json").json()["components"]["schemas"]
    assert "password" not in schema["AccountCreate"]["properties"]
    assert "password" not in schema["AccountUpdate"]["properties"]
    assert "reset_password" in schema["AccountUpdate"]["properties"]


def test_the_link_goes_to_the_persons_own_address(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    admin = client_as("admin")
    worker = make_staff(db_session, "team_manager", email="their.own@example.org")
    db_session.commit()
    elsewhere = admin.post("/api/v1/accounts", json={"email": "admins.mailbox@example.org",
                                                     "staff_id": worker.id})
    assert elsewhere.status_code == 422
    assert elsewhere.json()["detail"][0]["loc"] == ["body", "email"]
    assert db_session.exec(select(OutboxMessage)).all() == []


def test_a_link_expires(
    client_as: Callable[..., TestClient], anonymous: TestClient, db_session: Session,
    app_on_test_session: FastAPI,
) -> None:
    admin = client_as("admin")
    make_staff(db_session, "social_worker", email="late@example.org")
    db_session.commit()
    assert admin.post("/api/v1/accounts", json={"email": "late@example.org"}).status_code == 201
    path = queued_link(db_session, "late@example.org")
    row = db_session.exec(select(ApiToken).where(ApiToken.kind == links.KIND)).one()
    hours = app_on_test_session.state.settings.set_password_link_hours
    assert row.expires_at is not None
    assert abs((row.expires_at - row.created_at) - timedelta(hours=hours)) < timedelta(seconds=5)
    row.expires_at = now_utc() - timedelta(seconds=1)  # the time has passed
    db_session.commit()
    gone = anonymous.get(path)
    assert gone.status_code == 410 and "This link has expired" in gone.text
    csrf = CSRF_FIELD.search(anonymous.get("/login").text)
    assert csrf
    sent = anonymous.post(path, data={"password": CHOSEN, "confirm_password": CHOSEN,
                                      "csrf_token": csrf.group(1)})
    assert sent.status_code == 410
    account = db_session.exec(select(Account).where(Account.email == "late@example.org")).one()
    assert account.password_hash is None
    refusals = [e.after["reason"] for e in audited(db_session, "account.password_link_refuse")]
    assert refusals == ["expired"]


def test_a_newer_link_or_switching_off_withdraws_a_link(
    client_as: Callable[..., TestClient], anonymous: TestClient, db_session: Session,
) -> None:
    admin = client_as("admin")
    make_staff(db_session, "social_worker", email="twice@example.org")
    db_session.commit()
    account_id = admin.post("/api/v1/accounts", json={"email": "twice@example.org"}).json()["id"]
    first = queued_link(db_session, "twice@example.org")
    assert admin.patch(f"/api/v1/accounts/{account_id}",
                       json={"reset_password": True}).status_code == 200
    second = queued_link(db_session, "twice@example.org")
    assert first != second
    old = anonymous.get(first)
    assert old.status_code == 410 and "This link no longer works" in old.text
    assert anonymous.get(second).status_code == 200
    assert admin.patch(f"/api/v1/accounts/{account_id}",
                       json={"is_active": False}).status_code == 200
    assert anonymous.get(second).status_code == 410
    withdrawn = [e.after["reason"] for e in audited(db_session, "account.password_link_withdraw")]
    assert withdrawn == ["superseded", "deactivated"]
    # A switched-off account's password is not reset: switch it on first.
    refused = admin.patch(f"/api/v1/accounts/{account_id}", json={"reset_password": True})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "reset_password"]


def test_a_link_is_not_a_bearer_token_and_unknown_links_are_404(
    client_as: Callable[..., TestClient], anonymous: TestClient, db_session: Session,
) -> None:
    admin = client_as("admin")
    make_staff(db_session, "social_worker", email="bearer@example.org")
    db_session.commit()
    assert admin.post("/api/v1/accounts", json={"email": "bearer@example.org"}).status_code == 201
    secret = queued_link(db_session, "bearer@example.org").rsplit("/", 1)[1]
    assert anonymous.get("/api/v1/me",
                         headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    unknown = anonymous.get("/set-password/rfl_not-a-real-link")
    assert unknown.status_code == 404 and "This link is not recognised" in unknown.text
    assert anonymous.get("/set-password/anything").status_code == 404
    # The form needs its CSRF token like every other.
    forged = anonymous.post(f"/set-password/{secret}",
                            data={"password": CHOSEN, "confirm_password": CHOSEN},
                            headers={"Accept": "text/html"})
    assert forged.status_code == 403
    assert anonymous.get(f"/set-password/{secret}").status_code == 200  # still usable


def test_using_a_link_ends_the_other_sessions_of_the_account(
    anonymous: TestClient, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=date(2026, 1, 5))
    account = accounts.create_account(db_session, email=worker.email, staff_id=worker.id,
                                      password=PASSWORD)
    db_session.commit()
    stolen = sign_in(anonymous, worker.email, PASSWORD).json()["access_token"]
    # An operator sends a link (the command line's --send-link): nobody types a password.
    settings = anonymous.app.state.settings  # type: ignore[attr-defined]
    accounts.reset_password(db_session, account, requested_by=None, settings=settings)
    db_session.commit()
    assert anonymous.get("/api/v1/me",
                         headers={"Authorization": f"Bearer {stolen}"}).status_code == 401
    assert sign_in(anonymous, worker.email, PASSWORD).status_code == 400
    path = queued_link(db_session, worker.email)
    message = db_session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
    assert message is not None and "the service's operator" in message.text
    # Credentials that exist when the link is used (however they came about) end with it.
    _cookie, left_over = sessions.start(db_session, account, settings, address="elsewhere")
    later = token_for_staff(db_session, worker)
    db_session.commit()
    assert choose(anonymous, path, CHOSEN).status_code == 303
    assert anonymous.get("/api/v1/me",
                         headers={"Authorization": f"Bearer {later}"}).status_code == 401
    db_session.refresh(left_over)
    assert left_over.ended_at is not None
    reasons = {e.after["reason"] for e in audited(db_session, "session.end")}
    assert reasons == {"password_set_by_link"}
