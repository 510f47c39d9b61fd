"""A per-NQSW iCalendar feed of protected time, supervision and review points.

NQSWs say they need "permission" to take protected time; seeing it in the calendar they
already live in (Outlook, Google) is the cheapest way to make it real. Calendar apps
subscribe to a URL without logging in, so the URL carries a secret token: only its
SHA-256 is stored, and the NQSW can rotate it (revoking the old URL) at any time. The URL
is a credential like any other: it stops working (404) when the NQSW's account is switched
off or they leave, and it is revoked with their other credentials when the account is
switched off, its password is reset or their role changes (app.auth.accounts).

Times are local wall-clock times in the organisation's time zone (the `timezone` setting,
Europe/London unless configured otherwise), so a 09:30 booking stays at 09:30 either side
of the clocks changing; all-day items are DATE values. The feed defines that zone itself
with a conventional VTIMEZONE: one STANDARD and one DAYLIGHT observance, each repeating
yearly from 1970 (for London, back to GMT at 02:00 BST on the last Sunday of October and
on to BST at 01:00 GMT on the last Sunday of March). Such a definition is valid for any
date, which is what every calendar expects: a list of dated changes covering only the
programme's span (what icalendar's `add_missing_timezones` writes) puts events an hour out
in ical.js, the parser in Thunderbird and many web calendars (tests/api/test_calendar.py
reads the feed with it and with icalendar across the clock changes of 2026 to 2030).

The yearly rules are not written by hand: they are read from the zone database, by finding
each clock change in a 28-year stretch from the feed's first year (long enough to see
every weekday and leap-year combination, so "last Sunday" and "fourth Sunday" are told
apart) and expressing it as "the n-th (or last) weekday of a month at a local time". A
zone that keeps one offset gets a single STANDARD observance. A zone whose changes do not
follow one such pattern in every one of those years (rules that change within the
stretch, changes tied to another calendar) cannot be described that way, and a
description that is wrong in some year would move events silently; there the feed writes
every time in UTC instead, which every calendar places correctly and shows in its own
local time. Europe/London, the zone the service is built for, always has yearly rules.

Protected time is busy (OPAQUE) so that colleagues' schedulers see it; DTSTAMP is when the
feed was generated, and SEQUENCE and LAST-MODIFIED follow the audit trail so that a moved
or cancelled booking updates in a subscribed calendar.
"""

from __future__ import annotations

import hashlib
import secrets
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
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
from app.settings import get_settings

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


# How many years of the zone database a feed's yearly rules are checked against: a full
# cycle of weekdays and leap years, so that each way of naming a day is seen to hold.
RULE_YEARS = 28
# The year the yearly observances start from: before any event, as is conventional.
RULES_FROM = 1970
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Onset:
    """A clock change that recurs every year: on the `week`-th `weekday` (Monday 0) of
    `month`, or the last one when `week` is -1, at `at` local time (the time just before
    the change, as RFC 5545 3.6.5 reads an observance's DTSTART), from one UTC offset to
    another. A zone that keeps one offset all year has one onset with `month` 0."""

    month: int
    week: int
    weekday: int
    at: time
    offset_from: timedelta
    offset_to: timedelta
    name: str

    @property
    def daylight(self) -> bool:
        return self.offset_to > self.offset_from

    def first(self) -> datetime:
        """The onset in `RULES_FROM`, the observance's DTSTART."""
        if self.month == 0:
            return datetime(RULES_FROM, 1, 1)
        return datetime.combine(_nth_weekday(RULES_FROM, self.month, self.weekday,
                                             self.week), self.at)

    def observance(self) -> icalendar.TimezoneStandard | icalendar.TimezoneDaylight:
        part = icalendar.TimezoneDaylight() if self.daylight else icalendar.TimezoneStandard()
        part.add("dtstart", self.first())
        if self.month:
            part.add("rrule", {"freq": "yearly", "bymonth": self.month,
                               "byday": f"{self.week}{WEEKDAYS[self.weekday]}"})
        part.add("tzoffsetfrom", self.offset_from)
        part.add("tzoffsetto", self.offset_to)
        if self.name:
            part.add("tzname", self.name)
        return part


def _nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The `week`-th `weekday` of the month, or the last one when `week` is -1."""
    if week == -1:
        last = date(year, month, monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def _offset(tz: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _changes_in(tz: ZoneInfo, year: int) -> list[datetime]:
    """The UTC instants in `year` at which the zone's offset changes, to the second:
    each day's offset at midnight UTC finds the day, halving finds the instant."""
    changes = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    before = _offset(tz, day)
    while day.year == year:
        following = day + timedelta(days=1)
        after = _offset(tz, following)
        if after != before:
            low, high = day, following  # the offset is `before` at low, `after` at high
            while high - low > SECOND:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _offset(tz, middle) == before:
                    low = middle
                else:
                    high = middle
            changes.append(high)
        day, before = following, after
    return changes


def _onset(tz: ZoneInfo, change: datetime) -> tuple[Onset, bool]:
    """The change as the n-th weekday of its month (and whether it is also the last)."""
    offset_from, offset_to = _offset(tz, change - SECOND), _offset(tz, change)
    local = (change + offset_from).replace(tzinfo=None)
    days = monthrange(local.year, local.month)[1]
    onset = Onset(month=local.month, week=(local.day - 1) // 7 + 1, weekday=local.weekday(),
                  at=local.time(), offset_from=offset_from, offset_to=offset_to,
                  name=change.astimezone(tz).tzname() or "")
    return onset, local.day + 7 > days


def _one_rule(seen: list[tuple[Onset, bool]]) -> Onset | None:
    """The yearly rule that gives every one of these changes, if there is one."""
    first = seen[0][0]
    if any((o.month, o.weekday, o.at, o.offset_from, o.offset_to, o.name) !=
           (first.month, first.weekday, first.at, first.offset_from, first.offset_to,
            first.name) for o, _ in seen):
        return None
    if len({o.week for o, _ in seen}) == 1:
        return first
    if all(last for _, last in seen):
        return Onset(first.month, -1, first.weekday, first.at, first.offset_from,
                     first.offset_to, first.name)
    return None


@lru_cache(maxsize=32)
def yearly_onsets(tz: ZoneInfo, first_year: int, last_year: int) -> tuple[Onset, ...] | None:
    """The zone's clock changes as yearly rules that hold in every year from `first_year`
    to `last_year` (at least `RULE_YEARS` of them), or None when no such rules exist."""
    years = range(first_year, max(last_year, first_year + RULE_YEARS - 1) + 1)
    changes = [_changes_in(tz, year) for year in years]
    if not any(changes):
        start = datetime(first_year, 1, 1, tzinfo=UTC)
        offset = _offset(tz, start)
        return (Onset(0, 0, 0, time(0), offset, offset, start.astimezone(tz).tzname() or ""),)
    if any(len(found) != 2 for found in changes):
        return None
    rules = []
    for index in (0, 1):
        rule = _one_rule([_onset(tz, found[index]) for found in changes])
        if rule is None:
            return None
        rules.append(rule)
    earlier, later = rules
    if (earlier.offset_to, later.offset_to) != (later.offset_from, earlier.offset_from):
        return None
    return tuple(rules)


@dataclass(frozen=True)
class FeedZone:
    """How the feed writes times: local to `tz` with the zone's VTIMEZONE when its clock
    changes follow yearly rules (`onsets`), else in UTC (see the module's docstring)."""

    tz: ZoneInfo
    onsets: tuple[Onset, ...] | None

    def at(self, moment: datetime) -> datetime:
        """A naive local wall-clock `moment` as the feed writes it."""
        local = moment.replace(tzinfo=self.tz)
        return local if self.onsets is not None else local.astimezone(UTC)

    def on(self, day: date, moment: time) -> datetime:
        return self.at(datetime.combine(day, moment))

    def timezone(self) -> icalendar.Timezone | None:
        """The VTIMEZONE that defines the zone for any date, or None when times are UTC."""
        if self.onsets is None:
            return None
        zone = icalendar.Timezone()
        zone.add("tzid", self.tz.key)
        for onset in self.onsets:
            zone.add_component(onset.observance())
        return zone


def feed_zone(tz: ZoneInfo, first: date, last: date) -> FeedZone:
    """How a feed with events from `first` to `last` writes times in `tz`."""
    return FeedZone(tz, yearly_onsets(tz, first.year, last.year))


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


def protected_time_event(
    entry: ProtectedTime, zone: FeedZone, *, stamp: datetime, day_hours: float, host: str,
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
        _timed(event, zone.on(entry.day, entry.start_time), zone.at(finish), busy=not lost)
    elif start is not None and end is not None:
        _timed(event, zone.on(entry.day, start), zone.on(entry.day, end), busy=not lost)
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


def supervision_event(row: SupervisionSession, zone: FeedZone, supervisor: str | None, *,
                      stamp: datetime, host: str,
                      revision: Revision = Revision()) -> icalendar.Event:
    """A session: busy at its time when it has one, else a free all-day note."""
    what = KIND_WORDS.get(row.kind, "Supervision")
    event = _event(_uid("supervision", row.id, host), what, stamp, row.created_at, revision,
                   lost=row.cancelled)
    if row.start_time is not None:
        start = datetime.combine(row.day, row.start_time)
        end = start + timedelta(minutes=row.minutes)
        _timed(event, zone.at(start), zone.at(end), busy=not row.cancelled)
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


def new_calendar(name: str, zone: FeedZone) -> icalendar.Calendar:
    """An empty feed called `name`, with the VTIMEZONE its local times refer to."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.tz.key)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    timezone = zone.timezone()
    if timezone is not None:
        calendar.add_component(timezone)
    return calendar


def build_calendar(
    session: Session, *, staff_id: int, on: date, policies: PolicySet, base_url: str,
    tz: ZoneInfo | None = None,
) -> icalendar.Calendar:
    """The NQSW's calendar: protected time, supervision sessions and review points;
    `base_url` (where this service is reached) makes each event's UID its own, and times
    are local to `tz` (by default the organisation's time zone, as for "today")."""
    host = feed_host(base_url)
    context = load_context(session, staff_id, on)
    enrolment = context.enrolment
    stamp = now_utc()
    entries = diary_rows.bookings_of(session, enrolment.id)
    sessions = diary_rows.sessions_of(session, enrolment.id)
    days = [enrolment.start_date, context.programme.last_day(on)]
    days += [entry.day for entry in entries] + [row.day for row in sessions]
    zone = feed_zone(tz or get_settings().tz, min(days), max(days))
    calendar = new_calendar(f"Ringfence: {context.staff.name}", zone)

    supervisor_ids = sorted({s.supervisor_id for s in sessions})
    names = {pid: p.name for pid, p in staff_repo.people_by_id(session, supervisor_ids).items()}
    changed = revisions(session, staff_id)
    for entry in entries:
        calendar.add_component(protected_time_event(
            entry, zone, stamp=stamp, day_hours=context.day_hours, host=host,
            revision=changed.get(("protected_time", str(entry.id)), Revision()),
        ))
    for row in sessions:
        calendar.add_component(supervision_event(
            row, zone, names.get(row.supervisor_id), stamp=stamp, host=host,
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
    return calendar


def feed(
    session: Session, *, token: str, on: date, policies: PolicySet, base_url: str,
    tz: ZoneInfo | None = None,
) -> bytes:
    """The iCalendar document for the NQSW this token belongs to."""
    staff_id = staff_for_token(session, token)
    return build_calendar(session, staff_id=staff_id, on=on, policies=policies,
                          base_url=base_url, tz=tz).to_ical()
