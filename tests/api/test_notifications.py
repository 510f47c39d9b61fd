"""Notifications as rows: who gets one, what it says, and each person's own inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from app.auth.accounts import create_account
from app.auth.tokens import issue_access_token
from app.clock import today
from app.models import AuditEvent, Notification, NotificationPreference, OutboxMessage, Staff
from app.models.notification import Delivery
from app.repositories import account as accounts
from app.services.notify import KINDS, notify, render_email

OWN_TABLES = {"notification", "outbox_message", "notification_preference"}


def make_staff(session: Session, name: str, email: str = "", **extra: object) -> int:
    person = Staff(
        name=name, email=email or f"{name.lower().replace(' ', '.')}@council.example",
        role="team_manager", start_date=date(2020, 1, 6), **extra,  # type: ignore[arg-type]
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    return person.id


def breach_opened(session: Session, recipients: list[int], **extra: object) -> list[Notification]:
    values: dict[str, object] = {
        "kind": "breach.opened",
        "subject": "Caseload cap exceeded for Nia Jones",
        "context": {"nqsw_name": "Nia Jones", "reason": "11 cases, the cap is 10",
                    "measured": 11, "limit": 10, "opened_on": date(2026, 11, 23)},
        "breach_id": 41,
    }
    values.update(extra)
    return notify(session, recipient_ids=recipients, **values)  # type: ignore[arg-type]


def outbox_for(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


# --- notify() -----------------------------------------------------------------------------


def test_notify_writes_one_row_and_one_email_per_distinct_recipient(db_session: Session) -> None:
    ann = make_staff(db_session, "Ann Manager")
    sam = make_staff(db_session, "Sam Senior")
    nqsw = make_staff(db_session, "Nia Jones")

    created = breach_opened(db_session, [ann, sam, ann, sam], nqsw_id=nqsw)

    assert [n.recipient_id for n in created] == [ann, sam]
    assert all(n.id is not None for n in created)  # flushed in the caller's transaction
    first = created[0]
    assert first.kind == "breach.opened" and first.breach_id == 41 and first.nqsw_id == nqsw
    assert first.subject == "Caseload cap exceeded for Nia Jones"
    assert first.context["opened_on"] == "2026-11-23"  # stored as JSON
    assert "Dear Ann Manager" in first.body_text
    assert "Measured: 11 against a limit of 10" in first.body_text
    assert first.body_html is not None and "<strong>Nia Jones</strong>" in first.body_html
    assert first.read_at is None and first.delivery == Delivery.email
    emails = outbox_for(db_session)
    assert [(m.notification_id, m.to_address) for m in emails] == [
        (created[0].id, "ann.manager@council.example"),
        (created[1].id, "sam.senior@council.example"),
    ]
    assert emails[0].subject == first.subject and emails[0].text == first.body_text
    assert emails[0].html == first.body_html and emails[0].status == "pending"


def test_notify_skips_leavers_and_unknown_ids_and_keeps_no_email_people_in_app_only(
    db_session: Session,
) -> None:
    left = make_staff(db_session, "Lou Left", leave_date=today() - timedelta(days=1))
    leaving = make_staff(db_session, "Lee Leaving", leave_date=today() + timedelta(days=30))
    no_email = make_staff(db_session, "Nadia Nomail", email=" ")

    created = breach_opened(db_session, [left, leaving, no_email, 987654])

    assert {n.recipient_id: n.delivery for n in created} == {
        leaving: Delivery.email, no_email: Delivery.none,
    }
    assert [m.recipient_id for m in outbox_for(db_session)] == [leaving]


def test_people_on_the_daily_digest_get_the_row_but_no_immediate_email(
    db_session: Session,
) -> None:
    ann = make_staff(db_session, "Ann")
    bob = make_staff(db_session, "Bob")
    db_session.add(NotificationPreference(staff_id=ann, digest=True))
    db_session.flush()

    created = breach_opened(db_session, [ann, bob])

    assert {n.recipient_id: n.delivery for n in created} == {
        ann: Delivery.digest, bob: Delivery.email,
    }
    assert [m.recipient_id for m in outbox_for(db_session)] == [bob]


def test_notify_with_no_recipients_writes_nothing(db_session: Session) -> None:
    assert breach_opened(db_session, []) == []
    assert outbox_for(db_session) == []


def test_html_is_escaped_and_text_is_not() -> None:
    rendered = render_email(
        "breach.opened", "A <b>subject</b>",
        {"nqsw_name": "<script>alert(1)</script>", "reason": "a & b",
         "recipient": {"name": "O'Brien"}},
    )
    assert "<script>alert(1)</script>" in rendered.text and "a & b" in rendered.text
    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "a &amp; b" in rendered.html
    assert "<title>A &lt;b&gt;subject&lt;/b&gt;</title>" in rendered.html


@pytest.mark.parametrize("kind", [*KINDS, "digest"])
def test_every_kind_has_its_own_text_and_html_template(kind: str) -> None:
    from app.services.notify import EMAIL_TEMPLATES

    assert (EMAIL_TEMPLATES / f"{kind}.txt").is_file()
    assert (EMAIL_TEMPLATES / f"{kind}.html").is_file()
    rendered = render_email(kind, "Subject", {"nqsw_name": "Nia Jones", "items": []})
    assert rendered.text.strip() and rendered.html and "<html" in rendered.html


def test_the_breach_engine_nested_context_fills_the_template() -> None:
    rendered = render_email(
        "breach.escalated", "Escalated workload breach: Nia Jones (stage_cap)",
        {"breach": {"id": 5, "rule_id": "stage_cap", "severity": "high",
                    "reason": "12 cases; the cap in months 0-6 is 10", "opened_on": "2026-11-02"},
         "nqsw": {"id": 3, "name": "Nia Jones", "team": "Alpha"},
         "recipient": {"name": "Sam Senior"}},
    )
    assert "A breach for Nia Jones (Alpha) has been escalated to you." in rendered.text
    assert "Why:      12 cases; the cap in months 0-6 is 10" in rendered.text
    assert "/breaches/5" in rendered.text
    assert rendered.html is not None and "<strong>Nia Jones</strong>" in rendered.html


def test_an_unknown_kind_falls_back_to_the_generic_layout() -> None:
    rendered = render_email(
        "supervision.overdue", "Supervision overdue for Nia",
        {"message": "No supervision for 6 weeks.", "link": "http://ringfence.test/x"},
    )
    assert "No supervision for 6 weeks." in rendered.text
    assert "http://ringfence.test/x" in rendered.text
    assert rendered.html is not None and 'href="http://ringfence.test/x"' in rendered.html


def test_the_migration_matches_the_notification_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)

    def table_of(diff: object) -> str:
        item = diff[0] if isinstance(diff, list) else diff  # modify_* come in lists
        op, subject = item[0], item[1]  # type: ignore[index]
        if op in ("add_table", "remove_table"):
            return str(subject.name)
        if hasattr(subject, "table"):  # indexes, constraints, foreign keys
            return str(subject.table.name)
        return str(item[2])  # type: ignore[index]  # (op, schema, table, column, ...)

    ours = [d for d in diffs if table_of(d) in OWN_TABLES]
    assert ours == []


# --- the inbox API ------------------------------------------------------------------------


@pytest.fixture
def sign_in(client: TestClient, db_session: Session) -> Callable[[int], None]:
    """Sign in as a staff member: a real account and bearer token for them.

    The test's data is committed first (only to the test's savepoint; the test still rolls
    back), so that a request that fails and rolls back cannot take the setup with it.
    """

    def as_staff(staff_id: int) -> None:
        person = db_session.get(Staff, staff_id)
        assert person is not None
        account = accounts.account_for_staff(db_session, staff_id) or create_account(
            db_session, email=person.email or f"staff{staff_id}@council.example",
            staff_id=staff_id,
        )
        secret, _token = issue_access_token(db_session, account, minutes=30)
        db_session.commit()
        client.headers["Authorization"] = f"Bearer {secret}"

    return as_staff


def test_the_inbox_shows_only_my_notifications_newest_first(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    me = make_staff(db_session, "Ann")
    other = make_staff(db_session, "Bob")
    for n in range(3):
        breach_opened(db_session, [me, other], subject=f"Breach {n}")
    breach_opened(db_session, [other], subject="Only for Bob")
    sign_in(me)

    body = client.get("/api/v1/me/notifications").json()

    assert body["count"] == 3 and body["unread"] == 3
    assert [n["subject"] for n in body["data"]] == ["Breach 2", "Breach 1", "Breach 0"]
    first = body["data"][0]
    assert first["read"] is False and first["read_at"] is None
    assert first["kind"] == "breach.opened" and first["breach_id"] == 41
    assert "Dear Ann" in first["body_text"]

    page = client.get("/api/v1/me/notifications", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and [n["subject"] for n in page["data"]] == ["Breach 0"]


def test_marking_read_and_the_unread_filter(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    me = make_staff(db_session, "Ann")
    first, second = (breach_opened(db_session, [me], subject=s)[0] for s in ("One", "Two"))
    sign_in(me)

    marked = client.post(f"/api/v1/me/notifications/{first.id}/read")
    assert marked.status_code == 200
    assert marked.json()["read"] is True and marked.json()["read_at"] is not None
    again = client.post(f"/api/v1/me/notifications/{first.id}/read")
    assert again.json()["read_at"] == marked.json()["read_at"]

    unread = client.get("/api/v1/me/notifications", params={"unread": True}).json()
    assert [n["id"] for n in unread["data"]] == [second.id]
    assert unread["count"] == 1 and unread["unread"] == 1
    everything = client.get("/api/v1/me/notifications").json()
    assert everything["count"] == 2 and everything["unread"] == 1


def test_read_all_marks_only_my_unread_notifications(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    me = make_staff(db_session, "Ann")
    other = make_staff(db_session, "Bob")
    breach_opened(db_session, [me, other])
    breach_opened(db_session, [me, other])
    sign_in(me)

    assert client.post("/api/v1/me/notifications/read-all").json() == {"marked": 2}
    assert client.post("/api/v1/me/notifications/read-all").json() == {"marked": 0}
    assert client.get("/api/v1/me/notifications").json()["unread"] == 0
    sign_in(other)
    assert client.get("/api/v1/me/notifications").json()["unread"] == 2


def test_someone_elses_notification_is_not_found(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    me = make_staff(db_session, "Ann")
    other = make_staff(db_session, "Bob")
    (theirs,) = breach_opened(db_session, [other])
    sign_in(me)

    assert client.post(f"/api/v1/me/notifications/{theirs.id}/read").status_code == 404
    assert client.post("/api/v1/me/notifications/987654/read").status_code == 404
    assert client.post("/api/v1/me/notifications/abc/read").status_code == 422
    db_session.refresh(theirs)
    assert theirs.read_at is None


def test_bad_paging_is_422(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    sign_in(make_staff(db_session, "Ann"))
    assert client.get("/api/v1/me/notifications", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/me/notifications", params={"unread": "maybe"}).status_code == 422


def test_notification_preferences_round_trip_and_are_audited(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None]
) -> None:
    me = make_staff(db_session, "Ann")
    sign_in(me)

    assert client.get("/api/v1/me/notification-preferences").json() == {"digest": False}
    put = client.put("/api/v1/me/notification-preferences", json={"digest": True})
    assert put.status_code == 200 and put.json() == {"digest": True}
    assert client.get("/api/v1/me/notification-preferences").json() == {"digest": True}
    assert client.put("/api/v1/me/notification-preferences",
                      json={"digest": False}).json() == {"digest": False}

    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "notification_preference.update")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.before, e.after) for e in events] == [
        (me, None, {"digest": True}), (me, {"digest": True}, {"digest": False}),
    ]
    # The choice applies to what comes next.
    (later,) = breach_opened(db_session, [me])
    assert later.delivery == Delivery.email


@pytest.mark.parametrize(
    "body", [{}, {"digest": "sometimes"}, {"digest": True, "colour": "blue"}, {"digest": None}]
)
def test_bad_preferences_are_422(
    client: TestClient, db_session: Session, sign_in: Callable[[int], None], body: dict
) -> None:
    sign_in(make_staff(db_session, "Ann"))
    response = client.put("/api/v1/me/notification-preferences", json=body)
    assert response.status_code == 422


def test_the_inbox_needs_a_signed_in_person(client: TestClient) -> None:
    client.headers.pop("Authorization", None)
    assert client.get("/api/v1/me/notifications").status_code == 401
    assert client.put("/api/v1/me/notification-preferences",
                      json={"digest": True}).status_code == 401
