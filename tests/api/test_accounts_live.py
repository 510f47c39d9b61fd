"""Accounts against a real server: uvicorn over a socket, the real database of the backend
(SQLite or PostgreSQL), a real SMTP server (aiosmtpd).

One journey through what issue 11 asks of accounts: an admin creates an NQSW's account
and never learns a password (the NQSW gets a one-time link by email and chooses their
own on the page); a stranger guessing from other addresses is slowed down while the NQSW
still signs in from their usual address; switching the account off ends the NQSW's
tokens and their calendar feed, which was never cacheable. Client addresses are given
as `X-Forwarded-For`, which uvicorn trusts from 127.0.0.1 as it would from a proxy.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session

from app.auth import accounts, throttle
from app.clock import now_utc
from app.db import make_engine, write_bind
from app.jobs import outbox
from tests.api.test_outbox import RecordingHandler, SmtpServer
from tests.conftest import make_settings
from tests.scenarios import seed
from tests.support.live_server import free_port, live_server

PASSWORD = "a long enough passphrase"
CHOSEN = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
USUAL, ELSEWHERE = "198.51.100.10", "203.0.113.99"


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_accounts_on_a_real_server(fresh_database_url: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url)
    with Session(write_bind(engine), expire_on_commit=False) as session:
        org = seed.organisation(session)
        nqsw, _ = seed.nqsw(session, org, start=date(2026, 1, 5), name="Nadia Live")
        admin = seed.person(session, "admin", name="Ada Admin")
        accounts.create_account(session, email=admin.email, staff_id=admin.id,
                                password=PASSWORD)  # the first admin, made at the server
        session.commit()
    port = free_port()
    mail = make_settings(fresh_database_url, tmp_path, smtp_enabled=True, smtp_host="127.0.0.1",
                         smtp_port=port, smtp_sender="ringfence@council.example")
    try:
        with SmtpServer(RecordingHandler(), port) as smtp, \
                live_server(fresh_database_url, tmp_path / "server") as server, \
                httpx.Client(base_url=server.base_url, follow_redirects=False,
                             timeout=30) as http:

            def token(email: str, password: str, address: str) -> httpx.Response:
                return http.post("/api/v1/auth/token", headers=at(address),
                                 data={"username": email, "password": password})

            # The admin creates the account: no password in the request or the answer.
            admin_token = token(admin.email, PASSWORD, "10.0.0.1").json()["access_token"]
            as_admin = {"Authorization": f"Bearer {admin_token}"}
            created = http.post("/api/v1/accounts", json={"email": nqsw.email}, headers=as_admin)
            assert created.status_code == 201, created.text
            account_id = created.json()["id"]
            assert http.post("/api/v1/accounts", json={"email": "x@example.org",
                                                       "password": PASSWORD, "role": "nqsw"},
                             headers=as_admin).status_code == 422

            # The link arrives by email; the NQSW chooses a password on the page.
            sent = outbox.deliver_due(engine, mail, now_utc() + timedelta(seconds=1))
            assert sent.sent == 1, sent.errors
            (received,) = smtp.received
            assert received.rcpt_tos == [nqsw.email]
            text = received.message.get_body(("plain",)).get_content()
            assert "Ada Admin" in text
            found = re.search(re.escape(server.base_url) + r"(/set-password/\S+)", text)
            assert found, text
            link = found.group(1)
            form = http.get(link, headers={"Accept": "text/html", **at(USUAL)})
            assert form.status_code == 200 and nqsw.email in form.text
            csrf = CSRF_FIELD.search(form.text)
            assert csrf
            chosen = http.post(link, headers=at(USUAL), data={
                "password": CHOSEN, "confirm_password": CHOSEN, "csrf_token": csrf.group(1)})
            assert chosen.status_code == 303, chosen.text
            assert http.get(link).status_code == 410  # once only

            # The NQSW signs in from their usual address and subscribes to their calendar.
            own = token(nqsw.email, CHOSEN, USUAL)
            assert own.status_code == 200, own.text
            as_nqsw = {"Authorization": f"Bearer {own.json()['access_token']}"}
            feed = http.post(f"/api/v1/nqsws/{nqsw.id}/calendar-token", headers=as_nqsw)
            assert feed.status_code == 201, feed.text
            feed_path = f"/calendar/{feed.json()['token']}.ics"
            served = http.get(feed_path, params={"on": "2026-01-05"})
            assert served.status_code == 200 and b"BEGIN:VCALENDAR" in served.content
            assert served.headers["cache-control"] == "no-store"

            # A stranger guesses from many addresses: slowed down, API and page alike.
            for index in range(throttle.FREE_FAILURES_PER_ACCOUNT + 2):
                token(nqsw.email, "guess guess guess", f"192.0.2.{index + 1}")
            refused = token(nqsw.email, CHOSEN, ELSEWHERE)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
            http.cookies.clear()
            page = http.get("/login", headers={"Accept": "text/html", **at(ELSEWHERE)})
            csrf = CSRF_FIELD.search(page.text)
            assert csrf
            blocked = http.post("/login", headers={"Accept": "text/html", **at(ELSEWHERE)},
                                data={"email": nqsw.email, "password": CHOSEN,
                                      "csrf_token": csrf.group(1)})
            assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
            # The owner is not locked out where they usually sign in.
            assert token(nqsw.email, CHOSEN, USUAL).status_code == 200

            # Switched off: every token and the calendar feed stop at once.
            off = http.patch(f"/api/v1/accounts/{account_id}", json={"is_active": False},
                             headers=as_admin)
            assert off.status_code == 200, off.text
            assert http.get("/api/v1/me", headers=as_nqsw).status_code == 401
            gone = http.get(feed_path, params={"on": "2026-01-05"})
            assert gone.status_code == 404 and b"BEGIN:VCALENDAR" not in gone.content
            assert gone.headers["cache-control"] == "no-store"
    finally:
        engine.dispose()
