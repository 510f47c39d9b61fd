"""Telling people: in-app notification rows, and their emails queued in the outbox.

`notify()` runs inside the caller's transaction (it flushes, never commits), so a
notification exists exactly when the change that caused it does, and sending email
never happens inside the request: the outbox is emptied by `app.jobs.outbox`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, TemplateNotFound
from sqlmodel import Session

from app import wording
from app.clock import now_utc, today
from app.errors import NotFound
from app.models import Notification, NotificationPreference, OutboxMessage, Staff
from app.models.notification import Delivery
from app.repositories import notification as notification_rows
from app.repositories import staff as staff_repo
from app.repositories.base import require_exists
from app.services import audit
from app.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

EMAIL_TEMPLATES = PROJECT_ROOT / "templates" / "emails"
GENERIC_TEMPLATE = "_generic"
SUBJECT_MAX = 300

# The kinds the product sends today; each has a .txt and a .html template.
KINDS = (
    "breach.opened",
    "breach.opened_for_nqsw",
    "breach.escalated",
    "breach.resolved",
    "breach.reopened",
    "protected_time.cancelled",
    "adjustment.proposed",
    "adjustment.decided",
    # A team manager asks for an override; the decision, or its lapse, goes back to them.
    "override_request.asked",
    "override_request.approved",
    "override_request.refused",
    "override_request.expired",
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=2)
def _environment(html: bool) -> Environment:
    """Plain text is never escaped; HTML always is, whatever a context value holds."""
    return Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=html,
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _template_name(kind: str, suffix: str) -> str:
    name = f"{kind}.{suffix}"
    return name if (EMAIL_TEMPLATES / name).is_file() else f"{GENERIC_TEMPLATE}.{suffix}"


def template_values(context: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The context with flat names the templates use, filled from nested `breach`/`nqsw`.

    Callers may pass either shape: flat keys (`nqsw_name`, `reason`, ...) win over what is
    derived from `{"breach": {...}, "nqsw": {...}}`.
    """
    values: dict[str, Any] = {"base_url": base_url, **context}
    breach = context.get("breach")
    if isinstance(breach, Mapping):
        for key in ("rule_id", "policy_id", "rule_title", "reason", "severity", "opened_on",
                    "escalation_due_on", "resolved_on", "status", "severe", "overridden",
                    "override_reason", "measured", "limit", "escalation_level"):
            if breach.get(key) is not None:
                values.setdefault(key, breach[key])
        if breach.get("resolution"):
            values.setdefault("resolution_reason", breach["resolution"])
        if breach.get("id") is not None:
            values.setdefault("link", f"{base_url}/breaches/{breach['id']}")
    nqsw = context.get("nqsw")
    if isinstance(nqsw, Mapping):
        if nqsw.get("name"):
            values.setdefault("nqsw_name", nqsw["name"])
        if nqsw.get("team"):
            values.setdefault("team_name", nqsw["team"])
    return values


def render_email(
    kind: str, subject: str, context: Mapping[str, Any], settings: Settings | None = None
) -> RenderedEmail:
    """The text and HTML bodies of one kind of email; unknown kinds get the generic layout.

    `settings` gives the address links point at; a caller without them (`notify`, run deep
    inside a domain change) gets the process's settings."""
    # People read these: dates in words, roles and rules by name, never the code's ids.
    values = wording.message_values(
        template_values(context, (settings or get_settings()).base_url.rstrip("/")))
    subject = wording.message_subject(subject, values)
    values["subject"] = subject
    text = _environment(False).get_template(_template_name(kind, "txt")).render(values)
    try:
        html: str | None = (
            _environment(True).get_template(_template_name(kind, "html")).render(values)
        )
    except TemplateNotFound:
        html = None
    return RenderedEmail(subject=subject[:SUBJECT_MAX], text=text, html=html)


def has_left(staff: Staff, on: date) -> bool:
    return staff.leave_date is not None and staff.leave_date <= on


def digest_preferences(session: Session, staff_ids: Iterable[int]) -> set[int]:
    """Who among these people asked for one digest a day instead of an email per event."""
    return notification_rows.digest_choosers(session, staff_ids)


def notify(
    session: Session,
    *,
    recipient_ids: Iterable[int],
    kind: str,
    subject: str,
    context: dict[str, Any],
    breach_id: int | None = None,
    nqsw_id: int | None = None,
) -> list[Notification]:
    """Write one notification per distinct recipient and queue its email.

    `subject` is used as given; the bodies come from `templates/emails/<kind>.txt|.html`
    rendered with `context` (stored as JSON on the row). Templates read flat keys
    (`nqsw_name`, `team_name`, `rule_id`, `reason`, `severity`, `opened_on`, `link`, ...)
    or the nested `{"breach": {...}, "nqsw": {...}}` shape (see `template_values`).

    People who have left get nothing; people without an email address get the in-app
    notification only; people who chose the daily digest get it in tomorrow's digest.
    Unknown ids are ignored (logged), so a stale manager id never fails the change.
    """
    wanted = list(dict.fromkeys(int(i) for i in recipient_ids if i is not None))
    if not wanted:
        return []
    people = staff_repo.people_by_id(session, wanted)
    on = today()
    digest_ids = digest_preferences(session, wanted)
    stored_context = audit.jsonable(context)
    created: list[Notification] = []
    for staff_id in wanted:
        person = people.get(staff_id)
        if person is None:
            log.warning("notification %s for unknown staff id %s skipped", kind, staff_id)
            continue
        if has_left(person, on):
            continue
        email = (person.email or "").strip()
        rendered = render_email(
            kind, subject,
            {**stored_context, "recipient": {"id": person.id, "name": person.name}},
        )
        if not email:
            delivery = Delivery.none
        elif staff_id in digest_ids:
            delivery = Delivery.digest
        else:
            delivery = Delivery.email
        notification = Notification(
            recipient_id=staff_id,
            kind=kind,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            context=stored_context,
            breach_id=breach_id,
            nqsw_id=nqsw_id,
            delivery=delivery,
        )
        session.add(notification)
        created.append(notification)
    session.flush()
    for notification in created:
        if notification.delivery != Delivery.email:
            continue
        session.add(
            OutboxMessage(
                notification_id=notification.id,
                recipient_id=notification.recipient_id,
                to_address=people[notification.recipient_id].email.strip(),
                subject=notification.subject,
                text=notification.body_text,
                html=notification.body_html,
            )
        )
    session.flush()
    return created


# The inbox: each person sees and marks only their own notifications.


def list_inbox(
    session: Session, *, staff_id: int, unread_only: bool, limit: int, offset: int
) -> tuple[list[Notification], int]:
    return notification_rows.page_of_inbox(session, staff_id, unread_only=unread_only,
                                           limit=limit, offset=offset)


def unread_count(session: Session, *, staff_id: int) -> int:
    return notification_rows.unread_count(session, staff_id)


def own_notification(session: Session, *, staff_id: int, notification_id: int) -> Notification:
    """Someone else's notification is as unknown as a missing one: 404, never a hint."""
    notification = notification_rows.notification(session, notification_id)
    if notification is None or notification.recipient_id != staff_id:
        raise NotFound("notification", notification_id)
    return notification


def mark_read(
    session: Session, *, staff_id: int, notification_id: int, now: datetime | None = None
) -> Notification:
    """Mark one notification read; marking it again keeps the first time it was read."""
    notification = own_notification(session, staff_id=staff_id, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = now or now_utc()
        session.flush()
    return notification


def mark_all_read(session: Session, *, staff_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of this person read; returns how many."""
    return notification_rows.mark_all_read(session, staff_id, now or now_utc())


def get_preference(session: Session, *, staff_id: int) -> NotificationPreference:
    """The stored preference, or the default (an email per event) if none was chosen."""
    preference = notification_rows.preference(session, staff_id)
    return preference or NotificationPreference(staff_id=staff_id, digest=False)


def set_preference(
    session: Session, *, staff_id: int, digest: bool, actor_id: int | None = None
) -> NotificationPreference:
    """Choose a daily digest or one email per event; applies to notifications from now on."""
    require_exists(session, Staff, staff_id, field="staff_id", what="staff member")
    preference = notification_rows.preference(session, staff_id)
    before = None if preference is None else {"digest": preference.digest}
    if preference is None:
        preference = NotificationPreference(staff_id=staff_id, digest=digest)
        session.add(preference)
    else:
        preference.digest = digest
        preference.updated_at = now_utc()
    session.flush()
    audit.record(session, action="notification_preference.update",
                 entity="notification_preference", entity_id=staff_id,
                 actor_id=actor_id if actor_id is not None else staff_id,
                 before=before, after={"digest": digest})
    return preference
