"""The daily digest: one email a day listing a person's notifications, for those who chose it.

Notifications for someone on the digest are written with `delivery = digest` and no
outbox row. Once a day a digest email gathers every such notification not yet listed
in a digest, up to the end of the day, and marks them with that email's id, so that
building twice never lists a notification twice and a late one goes into the next digest.
Building runs in the caller's transaction; app.jobs.digest owns the scheduled one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from app.models import Notification, OutboxMessage
from app.models.notification import Delivery
from app.repositories import notification as notification_rows
from app.repositories import staff as staff_repo
from app.services.notify import render_email, template_values
from app.settings import Settings

# The digest for a day is built on the first delivery run at or after this local time
# on the following morning.
DIGEST_TIME = time(7, 0)


def _day_end_utc(day: date, settings: Settings) -> datetime:
    """The first instant after `day` ends in the organisation's time zone, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=settings.tz)


def digest_subject(day: date, count: int) -> str:
    noun = "notification" if count == 1 else "notifications"
    return f"Ringfence daily digest: {count} {noun} for {day.strftime('%A')} {day.day} {day:%B %Y}"


def build_digests(
    session: Session, day: date, *, settings: Settings
) -> list[OutboxMessage]:
    """Queue one digest email per person for `day` (local date); safe to call repeatedly.

    Runs in the caller's transaction (flush, no commit). Someone whose digest for `day`
    already exists keeps their newer notifications for the next day's digest.
    """
    end = _day_end_utc(day, settings)
    by_recipient: dict[int, list[Notification]] = defaultdict(list)
    for notification in notification_rows.awaiting_digest(session, before=end):
        by_recipient[notification.recipient_id].append(notification)
    if not by_recipient:
        return []
    recipients = list(by_recipient)
    people = staff_repo.people_by_id(session, recipients)
    already = notification_rows.digested_on(session, recipients, day)
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
            settings,
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
