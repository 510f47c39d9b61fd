"""A per-NQSW iCalendar feed of protected time, supervision and review points.

NQSWs say they need "permission" to take protected time; seeing it in the calendar they
already live in (Outlook, Google) is the cheapest way to make it real. Calendar apps
subscribe to a URL without logging in, so the URL carries a secret token: only its
SHA-256 is stored, and the NQSW can rotate it (revoking the old URL) at any time. The URL
is a credential like any other: it stops working (404) when the NQSW's account is switched
off or they leave, and it is revoked with their other credentials when the account is
switched off, its password is reset or their role changes (app.auth.accounts).

Times are local wall-clock times in Europe/London with a VTIMEZONE, so a 09:30 booking
stays at 09:30 either side of the clocks changing; all-day items are DATE values.
Protected time is busy (OPAQUE) so that colleagues' schedulers see it; DTSTAMP is when the
feed was generated, and SEQUENCE and LAST-MODIFIED follow the audit trail so that a moved
or cancelled booking updates in a subscribed calendar.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from sqlmodel import Session

from app.clock import now_utc, today
from app.errors import NotFound
from app.models import Enrolment
from app.models.diary import (
    CalendarToken,
    ProtectedTime,
    ProtectedTimeStatus,
    SupervisionSession,
)
from app.policy.rules.supervision import review_due_date, review_months
from app.repositories import audit as audit_rows
from app.repositories import diary as diary_rows
from app.repositories import staff as staff_repo
from app.services import audit
from app.services.diary import load_context, snapshot_for, window

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


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


def feed_url(token: str, base_url: str) -> str:
    """The secret feed's address under `base_url`, where this service is reached."""
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


def rotate_token(
    session: Session, *, staff_id: int, actor_id: int | None = None
) -> tuple[str, CalendarToken]:
    """A new secret feed URL for the NQSW; any previous one stops working at once."""
    load_context(session, staff_id)  # 404 unless an NQSW with an enrolment
    now = now_utc()
    revoked = diary_rows.live_tokens(session, staff_id)
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
    """The NQSW whose live feed this token opens; 404 for an unknown or revoked token, and
    for one whose owner may no longer act (account switched off, or the person has left):
    the schedule is theirs to share only while they are here to share it."""
    row = diary_rows.live_token_owner(session, hash_token(token))
    if row is None:
        raise NotFound("calendar", "feed", field=["path", "token"])
    staff_id, leave_date, account_id, active = row
    left = leave_date is not None and leave_date < today()
    if left or (account_id is not None and not active):
        raise NotFound("calendar", "feed", field=["path", "token"])
    return int(staff_id)


def feed_host(base_url: str) -> str:
    """The host that makes event UIDs unique to this service (RFC 5545 3.8.4.7)."""
    return urlsplit(base_url).hostname or "ringfence"


def _uid(kind: str, ident: object, host: str) -> str:
    return f"{kind}-{ident}@{host}"


@dataclass(frozen=True)
class Revision:
    """How often an event has changed since it was created, and when it last did.

    Calendar apps compare SEQUENCE and LAST-MODIFIED to notice that a subscribed event
    moved or was cancelled; both come from the audit trail, which records every change.
    """

    sequence: int = 0
    last_modified: datetime | None = None

    def bump(self, at: datetime) -> Revision:
        latest = at if self.last_modified is None else max(self.last_modified, at)
        return Revision(self.sequence + 1, latest)


# Audit actions that create an item (so are not a change to it).
CREATED = {"protected_time.book", "supervision.record"}
# Programme events that cancel bookings in bulk, listing them in `after`.
BULK_CANCEL = {"enrolment.withdraw": "cancelled_protected_time",
               "enrolment.complete": "cancelled_protected_time"}
# Programme events that move review dates.
MOVES_REVIEWS = {"enrolment.pause", "enrolment.resume"}
REVIEWS = "reviews"


def revisions(session: Session, staff_id: int) -> dict[tuple[str, str], Revision]:
    """(entity, id) -> its revision, for every booking and session of this NQSW, and
    ("reviews", "") for the review dates, which pauses and returns move."""
    events = audit_rows.events_about_nqsw(
        session, staff_id, ("protected_time", "supervision_session", "enrolment"))
    rows = [(e.entity, e.entity_id, e.action, e.at, e.after) for e in events]
    found: dict[tuple[str, str], Revision] = {}

    def bump(key: tuple[str, str], at: datetime) -> None:
        found[key] = found.get(key, Revision()).bump(at)

    for entity, entity_id, action, at, after in rows:
        if action in CREATED:
            continue
        if entity == "enrolment":
            if action in MOVES_REVIEWS:
                bump((REVIEWS, ""), at)
            listed = after.get(BULK_CANCEL[action], []) if (
                action in BULK_CANCEL and isinstance(after, dict)) else []
            for ident in listed or ():
                bump(("protected_time", str(ident)), at)
        elif entity_id is not None:
            bump((entity, entity_id), at)
    return found


def _event(uid: str, summary: str, stamp: datetime, created: datetime,
           revision: Revision, *, lost: bool = False) -> icalendar.Event:
    """An event stamped with the feed's generation time (DTSTAMP, RFC 5545 3.8.7.2), when
    it was created and last changed, and its SEQUENCE (at least 1 once cancelled, so a
    calendar that saw it confirmed sees the change)."""
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("created", created)
    event.add("last-modified", revision.last_modified or created)
    event.add("sequence", max(revision.sequence, 1 if lost else 0))
    event.add("summary", summary)
    return event


def _all_day(event: icalendar.Event, first: date, *, busy: bool, days: int = 1) -> None:
    event.add("dtstart", first)
    event.add("dtend", first + timedelta(days=days))
    event.add("transp", "OPAQUE" if busy else "TRANSPARENT")


def _timed(event: icalendar.Event, start: datetime, end: datetime, *, busy: bool) -> None:
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("transp", "OPAQUE" if busy else "TRANSPARENT")


def _local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment).replace(tzinfo=tz)


def protected_time_event(
    entry: ProtectedTime, tz: ZoneInfo, *, stamp: datetime, day_hours: float, host: str,
    revision: Revision = Revision(),
) -> icalendar.Event:
    """One booking: a full day is a busy all-day event; a half day is busy in its window
    (09:00-13:00 or 13:00-17:00 on a 7.4-hour day, as the diary refuses overlaps); timed
    hours are busy from their start; hours with no start time are a free all-day note.
    Cancelled and displaced time stays in the feed as CANCELLED and free."""
    purpose = PURPOSE_WORDS.get(entry.purpose, entry.purpose.replace("_", " "))
    if entry.length == "half_day":
        what = f"Protected time ({'morning' if entry.half == 'am' else 'afternoon'}): {purpose}"
    elif entry.length == "hours" and entry.start_time is None:
        what = f"Protected time ({entry.hours:g} h): {purpose}"
    else:
        what = f"Protected time: {purpose}"
    lost = entry.status in (ProtectedTimeStatus.cancelled.value,
                            ProtectedTimeStatus.displaced.value)
    event = _event(_uid("protected-time", entry.id, host), what, stamp, entry.created_at, revision,
                   lost=lost)
    start, end = window(entry, day_hours)
    if entry.length == "hours" and entry.start_time is not None:
        # Wall-clock arithmetic: 3 hours from 09:00 ends at 12:00 even on the day the
        # clocks change, because the booking is in local working hours.
        finish = datetime.combine(entry.day, entry.start_time) + timedelta(hours=entry.hours)
        _timed(event, _local(entry.day, entry.start_time, tz), finish.replace(tzinfo=tz),
               busy=not lost)
    elif start is not None and end is not None:
        _timed(event, _local(entry.day, start, tz), _local(entry.day, end, tz), busy=not lost)
    else:
        _all_day(event, entry.day, busy=entry.length == "full_day" and not lost)
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


def supervision_event(row: SupervisionSession, tz: ZoneInfo, supervisor: str | None, *,
                      stamp: datetime, host: str,
                      revision: Revision = Revision()) -> icalendar.Event:
    """A session: busy at its time when it has one, else a free all-day note."""
    what = KIND_WORDS.get(row.kind, "Supervision")
    event = _event(_uid("supervision", row.id, host), what, stamp, row.created_at, revision,
                   lost=row.cancelled)
    if row.start_time is not None:
        start = datetime.combine(row.day, row.start_time)
        end = start + timedelta(minutes=row.minutes)
        _timed(event, start.replace(tzinfo=tz), end.replace(tzinfo=tz), busy=not row.cancelled)
    else:
        _all_day(event, row.day, busy=False)
    lines = [f"{row.minutes} minutes" + (f" with {supervisor}." if supervisor else ".")]
    if row.cancelled:
        event.add("status", "CANCELLED")
        lines.append(f"Cancelled: {row.cancel_reason}")
    else:
        event.add("status", "CONFIRMED")
    event.add("description", "\n".join(lines))
    event.add("categories", ["Supervision"])
    return event


def review_event(enrolment: Enrolment, month: int, due: date, held: date | None, *,
                 stamp: datetime, host: str,
                 revision: Revision = Revision()) -> icalendar.Event:
    """A review's due date: a free all-day reminder (the meeting itself is arranged)."""
    event = _event(_uid("review", f"{enrolment.id}-{month}", host), f"{month}-month review due",
                   stamp, enrolment.created_at, revision)
    _all_day(event, due, busy=False)
    text = (f"Your {month}-month programme review falls due (pauses included; the next "
            "working day if the date is a weekend or bank holiday).")
    if held is not None:
        text += f" Held on {held}."
    event.add("description", text)
    event.add("status", "CONFIRMED")
    event.add("categories", ["Review"])
    return event


def build_calendar(
    session: Session, *, staff_id: int, on: date, policies: PolicySet, base_url: str
) -> icalendar.Calendar:
    """The NQSW's calendar: protected time, supervision sessions and review points;
    `base_url` (where this service is reached) makes each event's UID its own."""
    host = feed_host(base_url)
    context = load_context(session, staff_id, on)
    enrolment = context.enrolment
    tz = ZoneInfo("Europe/London")
    stamp = now_utc()
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Ringfence: {context.staff.name}")
    calendar.add("x-wr-timezone", "Europe/London")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")

    entries = diary_rows.bookings_of(session, enrolment.id)
    sessions = diary_rows.sessions_of(session, enrolment.id)
    supervisor_ids = sorted({s.supervisor_id for s in sessions})
    names = {pid: p.name for pid, p in staff_repo.people_by_id(session, supervisor_ids).items()}
    changed = revisions(session, staff_id)
    for entry in entries:
        calendar.add_component(protected_time_event(
            entry, tz, stamp=stamp, day_hours=context.day_hours, host=host,
            revision=changed.get(("protected_time", str(entry.id)), Revision()),
        ))
    for row in sessions:
        calendar.add_component(supervision_event(
            row, tz, names.get(row.supervisor_id), stamp=stamp, host=host,
            revision=changed.get(("supervision_session", str(row.id)), Revision()),
        ))
    snapshot = snapshot_for(session, context, on)
    held = {r.month: r.held_on for r in snapshot.reviews}
    for month in review_months(policies, enrolment.programme):
        due = review_due_date(snapshot, month)
        if due is not None:
            calendar.add_component(review_event(
                enrolment, month, due, held.get(month), stamp=stamp, host=host,
                revision=changed.get((REVIEWS, ""), Revision()),
            ))
    first = enrolment.start_date - timedelta(days=1)
    last = context.programme.last_day(on) + timedelta(days=400)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar


def feed(
    session: Session, *, token: str, on: date, policies: PolicySet, base_url: str
) -> bytes:
    """The iCalendar document for the NQSW this token belongs to."""
    staff_id = staff_for_token(session, token)
    return build_calendar(session, staff_id=staff_id, on=on, policies=policies,
                          base_url=base_url).to_ical()
