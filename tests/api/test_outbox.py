"""Email delivery from the outbox to a real SMTP server (aiosmtpd) on both databases.

Time is a parameter of every delivery run (`now=`), so the retry schedule is tested by
running the outbox at chosen instants rather than by sleeping.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.clock import now_utc
from app.db import make_engine, write_bind
from app.jobs import digest as digest_job
from app.jobs import outbox as delivery
from app.models import Notification, NotificationPreference, OutboxMessage, Staff
from app.models.notification import Delivery, OutboxStatus
from app.services import digest, outbox
from app.services.notify import notify
from app.settings import Settings, get_settings
from tests.conftest import make_settings
from tests.support.live_server import free_port

# --- a real SMTP server -------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Accepts mail, or refuses the first `refuse_data` DATA / `refuse_rcpt` RCPT commands."""

    refuse_data: int = 0
    refuse_rcpt: int = 0
    data_code: str = "451 4.3.0 Mail server temporarily busy"
    rcpt_code: str = "550 5.1.1 Mailbox unavailable"
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            if self.refuse_rcpt > 0:
                self.refuse_rcpt -= 1
                return self.rcpt_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.refuse_data > 0:
                self.refuse_data -= 1
                return self.data_code
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, handler: RecordingHandler, port: int) -> None:
        self.handler = handler
        self.port = port
        self.controller = Controller(handler, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    with SmtpServer(RecordingHandler(), smtp_port) as server:
        yield server


@pytest.fixture
def settings(fresh_database_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return make_settings(
        fresh_database_url, tmp_path, smtp_enabled=True, smtp_host="127.0.0.1",
        smtp_port=smtp_port, smtp_sender="ringfence@council.example",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.effective_database_url)
    yield engine
    engine.dispose()


# --- helpers ------------------------------------------------------------------------------


def add_staff(engine: Engine, *people: tuple[str, str]) -> list[int]:
    with Session(write_bind(engine)) as session:
        rows = [
            Staff(name=name, email=address, role="team_manager", start_date=date(2020, 1, 6))
            for name, address in people
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows if row.id is not None]


def queue(engine: Engine, recipient_ids: list[int], **kwargs: Any) -> list[int]:
    values: dict[str, Any] = {
        "kind": "breach.opened",
        "subject": "Caseload cap exceeded for Nia Jones",
        "context": {"nqsw_name": "Nia Jones", "reason": "11 cases, the cap is 10",
                    "severity": "high", "link": "http://ringfence.test/breaches/7"},
        "breach_id": 7,
    }
    values.update(kwargs)
    with Session(write_bind(engine)) as session:
        created = notify(session, recipient_ids=recipient_ids, **values)
        session.commit()
        return [n.id for n in created if n.id is not None]


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def later(minutes: float = 0) -> datetime:
    """A moment after everything the test has queued, plus `minutes`."""
    return now_utc() + timedelta(seconds=1, minutes=minutes)


# --- delivery -----------------------------------------------------------------------------


def test_email_arrives_with_recipient_subject_text_and_html(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    (ann,) = add_staff(db, ("Ann Manager", "ann@council.example"))
    queue(db, [ann], context={"nqsw_name": "Nia <Jones>", "reason": "11 cases > 10",
                              "link": "http://ringfence.test/breaches/7"})

    counts = delivery.deliver_due(db, settings, later())

    assert (counts.sent, counts.retrying, counts.failed) == (1, 0, 0)
    assert len(smtp.received) == 1
    got = smtp.received[0]
    assert got.rcpt_tos == ["ann@council.example"]
    assert got.mail_from == "ringfence@council.example"
    assert got.message["To"] == "ann@council.example"
    assert got.message["Subject"] == "Caseload cap exceeded for Nia Jones"
    assert got.message.get_content_type() == "multipart/alternative"
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    assert "Dear Ann Manager" in text and "Nia <Jones>" in text and "11 cases > 10" in text
    assert "Nia &lt;Jones&gt;" in html and "<Jones>" not in html
    assert 'href="http://ringfence.test/breaches/7"' in html
    (row,) = outbox_rows(db)
    assert row.status == OutboxStatus.sent and row.attempts == 1 and row.sent_at is not None
    # Sent messages are not sent again.
    assert delivery.deliver_due(db, settings, later(120)).attempted == 0
    assert len(smtp.received) == 1


def test_a_busy_server_is_retried_with_backoff_and_the_email_arrives_once(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    smtp.handler.refuse_data = 3
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    t0 = later()

    assert delivery.deliver_due(db, settings, t0).retrying == 1
    (row,) = outbox_rows(db)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.next_attempt_at == t0 + timedelta(minutes=1)
    assert "451" in (row.last_error or "")

    # Not due yet: nothing is attempted.
    assert delivery.deliver_due(db, settings, t0 + timedelta(seconds=59)).attempted == 0
    t1 = t0 + timedelta(minutes=1)
    assert delivery.deliver_due(db, settings, t1).retrying == 1
    assert outbox_rows(db)[0].next_attempt_at == t1 + timedelta(minutes=2)
    t2 = t1 + timedelta(minutes=2)
    assert delivery.deliver_due(db, settings, t2).retrying == 1
    assert outbox_rows(db)[0].next_attempt_at == t2 + timedelta(minutes=4)
    assert smtp.received == []

    t3 = t2 + timedelta(minutes=4)
    counts = delivery.deliver_due(db, settings, t3)
    assert counts.sent == 1
    assert len(smtp.received) == 1
    (row,) = outbox_rows(db)
    assert row.status == OutboxStatus.sent and row.attempts == 4 and row.sent_at == t3
    assert delivery.deliver_due(db, settings, t3 + timedelta(hours=2)).attempted == 0
    assert len(smtp.received) == 1


def test_a_refused_recipient_is_retried_until_accepted(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    smtp.handler.refuse_rcpt = 1
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    t0 = later()
    assert delivery.deliver_due(db, settings, t0).retrying == 1
    assert "550" in (outbox_rows(db)[0].last_error or "")
    assert delivery.deliver_due(db, settings, t0 + timedelta(minutes=1)).sent == 1
    assert [r.rcpt_tos for r in smtp.received] == [["ann@council.example"]]


def test_no_server_at_all_then_a_server_delivers_everything_exactly_once(
    db: Engine, settings: Settings, smtp_port: int
) -> None:
    ann, bob = add_staff(db, ("Ann", "ann@council.example"), ("Bob", "bob@council.example"))
    queue(db, [ann, bob])
    queue(db, [ann], kind="protected_time.cancelled", subject="Protected day cancelled",
          context={"nqsw_name": "Nia Jones", "day": "2026-12-01"})
    t0 = later()

    # Nothing listens on the port: every message waits for a retry, none is lost.
    counts = delivery.deliver_due(db, settings, t0)
    assert (counts.sent, counts.retrying) == (0, 3)
    rows = outbox_rows(db)
    assert [r.status for r in rows] == [OutboxStatus.pending] * 3
    assert all("cannot reach the mail server" in (r.last_error or "") for r in rows)

    with SmtpServer(RecordingHandler(), smtp_port) as server:
        assert delivery.deliver_due(db, settings, t0 + timedelta(minutes=1)).sent == 3
        assert delivery.deliver_due(db, settings, t0 + timedelta(hours=3)).attempted == 0
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        "ann@council.example", "ann@council.example", "bob@council.example"
    ]
    assert len({r.message["Message-ID"] for r in server.received}) == 3


def test_a_weekend_without_a_mail_server_loses_nothing(
    db: Engine, settings: Settings, smtp_port: int
) -> None:
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    friday_evening = later()
    back_on_monday = friday_evening + timedelta(hours=63)
    now = friday_evening
    # Nothing listens from Friday evening to Monday morning: retried, never given up.
    while now < back_on_monday:
        counts = delivery.deliver_due(db, settings, now)
        assert (counts.retrying, counts.failed) == (1, 0)
        now = outbox_rows(db)[0].next_attempt_at
    assert now - back_on_monday <= outbox.LONGEST_RETRY
    with SmtpServer(RecordingHandler(), smtp_port) as server:
        assert delivery.deliver_due(db, settings, now).sent == 1
    assert [r.rcpt_tos for r in server.received] == [["ann@council.example"]]


def test_after_the_last_attempt_a_message_is_kept_as_failed_and_can_be_requeued(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    smtp.handler.refuse_data = outbox.MAX_ATTEMPTS
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    now = later()
    waits = []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        delivery.deliver_due(db, settings, now)
        row = outbox_rows(db)[0]
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits[:8] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 120)]
    assert set(waits[7:-1]) == {timedelta(hours=2)}  # capped at two hours
    # It kept trying for three days (a weekend's outage) before giving up.
    assert sum(waits[:-1], timedelta()) >= timedelta(days=3)
    assert sum(waits[:-2], timedelta()) < timedelta(days=3)
    (row,) = outbox_rows(db)
    assert row.status == OutboxStatus.failed and row.attempts == outbox.MAX_ATTEMPTS
    # Given up: not attempted again, but never deleted.
    assert delivery.deliver_due(db, settings, now + timedelta(days=1)).attempted == 0
    assert delivery.status_counts(db, now)["failed"] == 1

    assert delivery.requeue_failed(db, now) == 1
    assert delivery.deliver_due(db, settings, now + timedelta(seconds=1)).sent == 1
    assert len(smtp.received) == 1


def test_an_smtp_outage_never_fails_the_change_that_notifies(
    db: Engine, settings: Settings
) -> None:
    # Nothing listens on the configured port; writing notifications does not care.
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    ids = queue(db, [ann])
    assert len(ids) == 1
    with Session(db) as session:
        assert session.get(Notification, ids[0]) is not None
    assert [r.status for r in outbox_rows(db)] == [OutboxStatus.pending]


def test_with_smtp_disabled_messages_wait_pending(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    disabled = settings.model_copy(update={"smtp_enabled": False})
    assert delivery.deliver_due(db, disabled, later()).attempted == 0
    assert outbox_rows(db)[0].attempts == 0
    assert delivery.deliver_due(db, settings, later()).sent == 1


def test_concurrent_delivery_runs_send_each_message_exactly_once(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    people = add_staff(db, *[(f"Person {i}", f"p{i}@council.example") for i in range(12)])
    for _ in range(3):
        queue(db, people)
    now = later()
    results: list[delivery.DeliveryCounts] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(delivery.deliver_due(db, settings, now, limit=None))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.sent for r in results) == 36
    assert len(smtp.received) == 36
    assert len({r.message["Message-ID"] for r in smtp.received}) == 36
    assert {r.status for r in outbox_rows(db)} == {OutboxStatus.sent}


# --- daily digest -------------------------------------------------------------------------


def test_digest_mode_sends_one_email_a_day_listing_the_days_notifications(
    db: Engine, settings: Settings, smtp: SmtpServer
) -> None:
    ann, bob = add_staff(db, ("Ann", "ann@council.example"), ("Bob", "bob@council.example"))
    with Session(write_bind(db)) as session:
        session.add(NotificationPreference(staff_id=ann, digest=True))
        session.commit()
    queue(db, [ann, bob], subject="Caseload cap exceeded for Nia Jones")
    queue(db, [ann], kind="breach.escalated", subject="Escalated: supervision overdue")

    # Bob gets his email at once; Ann's wait for her digest.
    now = later()
    assert delivery.deliver_due(db, settings, now).sent == 1
    assert [r.rcpt_tos for r in smtp.received] == [["bob@council.example"]]
    with Session(db) as session:
        deliveries = {
            (n.recipient_id, n.delivery) for n in session.exec(select(Notification)).all()
        }
    assert deliveries == {(ann, Delivery.digest), (bob, Delivery.email)}

    today_local = now.astimezone(settings.tz).date()
    tomorrow_morning = datetime.combine(
        today_local + timedelta(days=1), digest.DIGEST_TIME, tzinfo=settings.tz
    )
    # Before the digest time nothing is built; at it, one digest for Ann, once.
    assert delivery.run_scheduled(db, settings, tomorrow_morning - timedelta(minutes=1)).sent == 0
    assert delivery.run_scheduled(db, settings, tomorrow_morning).sent == 1
    assert delivery.run_scheduled(db, settings, tomorrow_morning + timedelta(minutes=1)).sent == 0
    assert digest_job.build_due_digests(db, settings, tomorrow_morning + timedelta(hours=2)) == []

    assert len(smtp.received) == 2
    got = smtp.received[1]
    assert got.rcpt_tos == ["ann@council.example"]
    assert got.message["Subject"].startswith("Ringfence daily digest: 2 notifications for ")
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Caseload cap exceeded for Nia Jones" in body
        assert "Escalated: supervision overdue" in body
    digests = [r for r in outbox_rows(db) if r.digest_day is not None]
    assert [(d.recipient_id, d.digest_day) for d in digests] == [(ann, today_local)]
    with Session(db) as session:
        listed = session.exec(
            select(Notification).where(Notification.recipient_id == ann)
        ).all()
    assert {n.digest_outbox_id for n in listed} == {digests[0].id}


def test_building_a_days_digest_twice_lists_nothing_twice(
    db: Engine, settings: Settings
) -> None:
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    with Session(write_bind(db)) as session:
        session.add(NotificationPreference(staff_id=ann, digest=True))
        session.commit()
    queue(db, [ann])
    day = now_utc().astimezone(settings.tz).date()
    with Session(write_bind(db)) as session:
        assert len(digest.build_digests(session, day, settings=settings)) == 1
        session.commit()
    # A notification arriving after the digest was built waits for the next day's digest.
    queue(db, [ann], subject="Another one")
    with Session(write_bind(db)) as session:
        assert digest.build_digests(session, day, settings=settings) == []
        session.commit()
    with Session(write_bind(db)) as session:
        (tomorrows,) = digest.build_digests(session, day + timedelta(days=1), settings=settings)
        assert "Another one" in tomorrows.text and "1 notification for" in tomorrows.subject
        session.commit()


# --- the command --------------------------------------------------------------------------


def test_ringfence_outbox_commands(
    db: Engine, settings: Settings, smtp: SmtpServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (ann,) = add_staff(db, ("Ann", "ann@council.example"))
    queue(db, [ann])
    for name, value in {
        "RINGFENCE_DATABASE_URL": settings.effective_database_url,
        "RINGFENCE_DATA_DIR": str(tmp_path),
        "RINGFENCE_SMTP_ENABLED": "true",
        "RINGFENCE_SMTP_HOST": "127.0.0.1",
        "RINGFENCE_SMTP_PORT": str(settings.smtp_port),
        "RINGFENCE_SMTP_SENDER": "ringfence@council.example",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        before = runner.invoke(cli, ["outbox", "status"])
        delivered = runner.invoke(cli, ["outbox", "deliver"])
        after = runner.invoke(cli, ["outbox", "status"])
        requeued = runner.invoke(cli, ["outbox", "requeue"])
        digests = runner.invoke(cli, ["outbox", "digest", "--day", "2026-11-22"])
        bad_day = runner.invoke(cli, ["outbox", "digest", "--day", "22/11/2026"])
    finally:
        get_settings.cache_clear()
    assert before.exit_code == 0 and "pending 1 (due now 1), sent 0" in before.output
    assert delivered.exit_code == 0, delivered.output
    assert "sent 1, will retry 0, given up 0" in delivered.output
    assert [r.rcpt_tos for r in smtp.received] == [["ann@council.example"]]
    assert "pending 0 (due now 0), sent 1, given up 0" in after.output
    assert requeued.exit_code == 0 and "re-queued 0 emails" in requeued.output
    assert digests.exit_code == 0 and "queued 0 digest emails for 2026-11-22" in digests.output
    assert bad_day.exit_code == 2
