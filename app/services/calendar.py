"""A per-NQSW iCalendar feed of protected time, supervision and review points.

NQSWs say they need "permission" to take protected time; seeing it in the calendar they
already live in (Outlook, Google) is the cheapest way to make it real. Calendar apps
subscribe to a URL without logging in, so the URL carries a secret token: only its
SHA-256 is stored, and the NQSW can rotate it (revoking the old URL) at any time.

Times are local wall-clock times in Europe/London with a VTIMEZONE, so a 09:30 booking
stays at 09:30 either side of the clocks changing; all-day items are DATE values.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from sqlmodel import Session, col, select

from app.clock import now_utc
from app.errors import NotFound
from app.models import Enrolment, Staff
from app.models.diary import (
    CalendarToken,
    ProtectedTime,
    ProtectedTimeStatus,
    SupervisionSession,
)
from app.policy.programme import boundary_date
from app.policy.rules.supervision import review_months
from app.services import audit
from app.services.diary import load_context, snapshot_for
from app.settings import get_settings

PRODID = "-//Ringfence//Protected time and supervision//EN"
TOKEN_BYTES = 32
PURPOSE_WORDS = {
    "study": "study",
    "training": "training",
    "portfolio": "portfolio",
    "action_learning": "action learning",
    "reflective_practice": "reflective practice",
    "other": "development",
}
KIND_WORDS = {
    "reflective": "Reflective supervision",
    "case": "Case supervision",
    "joint_with_ap": "Joint supervision with advanced practitioner",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/calendar/{token}.ics"


def rotate_token(
    session: Session, *, staff_id: int, actor_id: int | None = None
) -> tuple[str, CalendarToken]:
    """A new secret feed URL for the NQSW; any previous one stops working at once."""
    load_context(session, staff_id)  # 404 unless an NQSW with an enrolment
    now = now_utc()
    revoked = list(session.exec(
        select(CalendarToken).where(CalendarToken.staff_id == staff_id,
                                    col(CalendarToken.revoked_at).is_(None))
    ).all())
    for old in revoked:
        old.revoked_at = now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = CalendarToken(staff_id=staff_id, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    audit.record(session, action="calendar_token.rotate", entity="calendar_token",
                 entity_id=row.id, actor_id=actor_id, nqsw_id=staff_id,
                 after={"revoked": [t.id for t in revoked]})
    return token, row


def staff_for_token(session: Session, token: str) -> int:
    """The NQSW whose live feed this token opens; 404 for unknown or revoked tokens."""
    row = session.exec(
        select(CalendarToken).where(CalendarToken.token_hash == hash_token(token),
                                    col(CalendarToken.revoked_at).is_(None))
    ).first()
    if row is None:
        raise NotFound("calendar", "feed", field=["path", "token"])
    return row.staff_id


def _uid(kind: str, ident: object) -> str:
    host = urlsplit(get_settings().base_url).hostname or "ringfence"
    return f"{kind}-{ident}@{host}"


def _event(uid: str, summary: str, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    return event


def _all_day(event: icalendar.Event, first: date, days: int = 1) -> None:
    event.add("dtstart", first)
    event.add("dtend", first + timedelta(days=days))
    event.add("transp", "TRANSPARENT")


def _timed(event: icalendar.Event, start: datetime, end: datetime) -> None:
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("transp", "OPAQUE")


def protected_time_event(entry: ProtectedTime, tz: ZoneInfo) -> icalendar.Event:
    purpose = PURPOSE_WORDS.get(entry.purpose, entry.purpose.replace("_", " "))
    if entry.length == "half_day":
        what = f"Protected time ({'morning' if entry.half == 'am' else 'afternoon'}): {purpose}"
    elif entry.length == "hours" and entry.start_time is None:
        what = f"Protected time ({entry.hours:g} h): {purpose}"
    else:
        what = f"Protected time: {purpose}"
    event = _event(_uid("protected-time", entry.id), what, entry.created_at)
    if entry.length == "hours" and entry.start_time is not None:
        start = datetime.combine(entry.day, entry.start_time, tzinfo=tz)
        # Wall-clock arithmetic: 3 hours from 09:00 ends at 12:00 even on the day the
        # clocks change, because the booking is in local working hours.
        end = datetime.combine(entry.day, entry.start_time) + timedelta(hours=entry.hours)
        _timed(event, start, end.replace(tzinfo=tz))
    else:
        _all_day(event, entry.day)
    lines = [f"{entry.hours:g} hours of protected development time ({purpose})."]
    if entry.note:
        lines.append(entry.note)
    if entry.status == ProtectedTimeStatus.cancelled.value:
        event.add("status", "CANCELLED")
        lines.append(f"Cancelled on {entry.cancelled_on}: {entry.cancel_reason}. Please rebook.")
    elif entry.status == ProtectedTimeStatus.displaced.value:
        event.add("status", "CANCELLED")
        lines.append("Displaced by a pause in the programme. Please rebook.")
    else:
        event.add("status", "CONFIRMED")
        if entry.status == ProtectedTimeStatus.taken.value:
            lines.append("Taken.")
    event.add("description", "\n".join(lines))
    event.add("categories", ["Protected time"])
    return event


def supervision_event(row: SupervisionSession, tz: ZoneInfo, supervisor: str | None
                      ) -> icalendar.Event:
    what = KIND_WORDS.get(row.kind, "Supervision")
    event = _event(_uid("supervision", row.id), what, row.created_at)
    if row.start_time is not None:
        start = datetime.combine(row.day, row.start_time)
        end = start + timedelta(minutes=row.minutes)
        _timed(event, start.replace(tzinfo=tz), end.replace(tzinfo=tz))
    else:
        _all_day(event, row.day)
    lines = [f"{row.minutes} minutes" + (f" with {supervisor}." if supervisor else ".")]
    if row.cancelled:
        event.add("status", "CANCELLED")
        lines.append(f"Cancelled: {row.cancel_reason}")
    else:
        event.add("status", "CONFIRMED")
    event.add("description", "\n".join(lines))
    event.add("categories", ["Supervision"])
    return event


def review_event(enrolment: Enrolment, month: int, due: date, held: date | None
                 ) -> icalendar.Event:
    event = _event(_uid("review", f"{enrolment.id}-{month}"), f"{month}-month review due",
                   enrolment.created_at)
    _all_day(event, due)
    text = f"Your {month}-month programme review falls due (pauses included)."
    if held is not None:
        text += f" Held on {held}."
    event.add("description", text)
    event.add("status", "CONFIRMED")
    event.add("categories", ["Review"])
    return event


def build_calendar(
    session: Session, *, staff_id: int, on: date, policies: Any = None
) -> icalendar.Calendar:
    """The NQSW's calendar: protected time, supervision sessions and review points."""
    context = load_context(session, staff_id, on)
    enrolment = context.enrolment
    tz = ZoneInfo("Europe/London")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Ringfence: {context.staff.name}")
    calendar.add("x-wr-timezone", "Europe/London")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")

    entries = session.exec(
        select(ProtectedTime).where(ProtectedTime.enrolment_id == enrolment.id)
        .order_by(col(ProtectedTime.day), col(ProtectedTime.id))
    ).all()
    sessions = session.exec(
        select(SupervisionSession).where(SupervisionSession.enrolment_id == enrolment.id)
        .order_by(col(SupervisionSession.day), col(SupervisionSession.id))
    ).all()
    supervisor_ids = sorted({s.supervisor_id for s in sessions})
    names = {
        p.id: p.name for p in session.exec(
            select(Staff).where(col(Staff.id).in_(supervisor_ids))
        ).all()
    } if supervisor_ids else {}
    for entry in entries:
        calendar.add_component(protected_time_event(entry, tz))
    for row in sessions:
        calendar.add_component(supervision_event(row, tz, names.get(row.supervisor_id)))
    snapshot = snapshot_for(session, context, on)
    held = {r.month: r.held_on for r in snapshot.reviews}
    for month in review_months(policies, enrolment.programme):
        due = boundary_date(snapshot, month)
        if due is not None:
            calendar.add_component(review_event(enrolment, month, due, held.get(month)))
    first = enrolment.start_date - timedelta(days=1)
    last = context.programme.last_day(on) + timedelta(days=400)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar


def feed(session: Session, *, token: str, on: date, policies: Any = None) -> bytes:
    """The iCalendar document for the NQSW this token belongs to."""
    staff_id = staff_for_token(session, token)
    return build_calendar(session, staff_id=staff_id, on=on, policies=policies).to_ical()
