"""The daily digest: one email a day listing a person's notifications, for those who chose it.

Notifications for someone on the digest are written with `delivery = digest` and no
outbox row. Once a day a digest email gathers every such notification not yet listed
in a digest, up to the end of the day, and marks them with that email's id, so that
building twice never lists a notification twice and a late one goes into the next digest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from app.clock import now_utc
from app.db import is_sqlite, write_bind
from app.models import Notification, OutboxMessage, Staff
from app.models.notification import Delivery
from app.services.notify import render_email, template_values
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

# The digest for a day is built on the first delivery run at or after this local time
# on the following morning.
DIGEST_TIME = time(7, 0)
# Identifies the digest job for PostgreSQL's advisory lock (one builder at a time).
DIGEST_LOCK_KEY = 0x52_46_44_47  # "RFDG"


def _day_end_utc(day: date, settings: Settings) -> datetime:
    """The first instant after `day` ends in the organisation's time zone, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=settings.tz)


def digest_subject(day: date, count: int) -> str:
    noun = "notification" if count == 1 else "notifications"
    return f"Ringfence daily digest: {count} {noun} for {day.strftime('%A')} {day.day} {day:%B %Y}"


def build_digests(
    session: Session, day: date, *, settings: Settings | None = None
) -> list[OutboxMessage]:
    """Queue one digest email per person for `day` (local date); safe to call repeatedly.

    Runs in the caller's transaction (flush, no commit). Someone whose digest for `day`
    already exists keeps their newer notifications for the next day's digest.
    """
    settings = settings or get_settings()
    end = _day_end_utc(day, settings)
    query = (
        select(Notification)
        .where(
            Notification.delivery == Delivery.digest,
            col(Notification.digest_outbox_id).is_(None),
            col(Notification.created_at) < end,
        )
        .order_by(col(Notification.recipient_id), col(Notification.created_at),
                  col(Notification.id))
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    by_recipient: dict[int, list[Notification]] = defaultdict(list)
    for notification in session.exec(query).all():
        by_recipient[notification.recipient_id].append(notification)
    if not by_recipient:
        return []
    recipients = list(by_recipient)
    people = {
        s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(recipients))).all()
    }
    already = set(
        session.exec(
            select(OutboxMessage.recipient_id).where(
                col(OutboxMessage.recipient_id).in_(recipients), OutboxMessage.digest_day == day
            )
        ).all()
    )
    created: list[OutboxMessage] = []
    base_url = settings.base_url.rstrip("/")
    for recipient_id, items in by_recipient.items():
        if recipient_id in already:
            continue
        person = people.get(recipient_id)
        email = (person.email or "").strip() if person else ""
        if person is None or not email:
            for item in items:
                item.delivery = Delivery.none
            continue
        subject = digest_subject(day, len(items))
        rendered = render_email(
            "digest",
            subject,
            {
                "recipient": {"id": person.id, "name": person.name},
                "day_label": f"{day.strftime('%A')} {day.day} {day:%B %Y}",
                "link": f"{base_url}/notifications",
                "items": [
                    {
                        "subject": item.subject,
                        "kind": item.kind,
                        "time": item.created_at.astimezone(settings.tz).strftime(
                            "%d %b %Y %H:%M"
                        ),
                        "link": template_values(item.context or {}, base_url).get("link"),
                    }
                    for item in items
                ],
            },
        )
        message = OutboxMessage(
            recipient_id=recipient_id,
            digest_day=day,
            to_address=email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
        session.add(message)
        session.flush()
        for item in items:
            item.digest_outbox_id = message.id
        created.append(message)
    session.flush()
    return created


def due_digest_day(now: datetime, settings: Settings) -> date | None:
    """The day whose digest is due at `now`: yesterday, once the digest time has passed."""
    local = now.astimezone(settings.tz)
    if local.time() < DIGEST_TIME:
        return None
    return local.date() - timedelta(days=1)


def build_due_digests(
    engine: Engine, settings: Settings, now: datetime | None = None
) -> list[OutboxMessage]:
    """The scheduled step: build the due day's digests in one short transaction."""
    day = due_digest_day(now or now_utc(), settings)
    if day is None:
        return []
    with Session(write_bind(engine), expire_on_commit=False) as session:
        if not is_sqlite(engine):
            got = session.connection().execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": DIGEST_LOCK_KEY}
            ).scalar()
            if not got:
                return []  # another worker is building them right now
        created = build_digests(session, day, settings=settings)
        session.commit()
    if created:
        log.info("queued %s daily digest emails for %s", len(created), day)
    return created
