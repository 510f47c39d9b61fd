"""The iCalendar feed: a secret, rotatable URL; RFC 5545 that parses back to the same events."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.diary import SupervisionSession
from app.services import calendar as calendar_service

from .test_diary import book, make_nqsw, managed_team, signed_in_as

LONDON = ZoneInfo("Europe/London")
# ical.js, the parser in Thunderbird and many web calendars, vendored and pinned
# (tests/vendor/icaljs/VENDORED.md), and the script that prints what it reads.
ICALJS_STARTS = Path(__file__).resolve().parents[1] / "vendor" / "icaljs" / "starts.js"


def new_feed(client: TestClient, nqsw: int) -> tuple[str, str]:
    response = client.post(f"/api/v1/nqsws/{nqsw}/calendar-token")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"].endswith(f"/calendar/{body['token']}.ics")
    return body["token"], f"/calendar/{body['token']}.ics"


def events_of(text: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def icaljs_starts(text: bytes) -> dict[str, datetime | date]:
    """UID -> start (a UTC instant, or the date of an all-day event) as ical.js reads the
    feed under node. node is required, not optional: without it the check would pass
    without reading anything, and a calendar reading times an hour out would go unseen."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the calendar feed is checked with ical.js "
                    f"under node ({ICALJS_STARTS}); install Node.js 20 or later")
    done = subprocess.run([node, str(ICALJS_STARTS)], input=text, capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    found: dict[str, datetime | date] = {}
    for row in json.loads(done.stdout):
        found[row["uid"]] = (datetime.fromisoformat(row["start"]) if "start" in row
                             else date.fromisoformat(row["date"]))
    return found


def utc_start(event: icalendar.Component) -> datetime | date:
    """The event's start as icalendar reads it: a UTC instant, or an all-day date."""
    start = event.decoded("DTSTART")
    return start.astimezone(UTC) if isinstance(start, datetime) else start


def supervision_at(ident: int, moment: datetime, zone: calendar_service.FeedZone,
                   ) -> icalendar.Event:
    """A supervision session's event at a local wall-clock `moment`."""
    row = SupervisionSession(id=ident, enrolment_id=1, day=moment.date(),
                             start_time=moment.time(), supervisor_id=1, kind="reflective",
                             created_at=datetime(2026, 1, 5, tzinfo=UTC))
    return calendar_service.supervision_event(row, zone, "Sam Supervisor",
                                              stamp=datetime(2026, 1, 5, tzinfo=UTC),
                                              host="ringfence.example")


def feed_of(moments: list[datetime], zone: calendar_service.FeedZone) -> bytes:
    calendar = calendar_service.new_calendar("Ringfence: test", zone)
    for ident, moment in enumerate(moments, start=1):
        calendar.add_component(supervision_at(ident, moment, zone))
    return calendar.to_ical()


def test_the_feed_round_trips_through_icalendar(
    app: FastAPI, client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, start="2026-01-05", team_id=team)
    full = book(client, nqsw, "2026-01-14", on="2026-01-05", purpose="training")
    half = book(client, nqsw, "2026-01-15", on="2026-01-05", length="half_day", half="pm")
    # Timed bookings either side of both clock changes (29 March and 25 October 2026)
    # keep their local wall-clock times.
    timed = {
        day: book(client, nqsw, day, on="2026-01-05", length="hours", hours=3,
                  start_time="09:30:00", purpose="portfolio")
        for day in ("2026-03-27", "2026-03-30", "2026-10-23", "2026-10-26")
    }
    cancelled = book(client, nqsw, "2026-02-04", on="2026-01-05")
    as_manager = signed_in_as(client_as, db_session, manager)
    cancelling = as_manager.post(f"/api/v1/nqsws/{nqsw}/diary/{cancelled['id']}/cancel",
                                 json={"reason": "Court", "cancelled_on": "2026-01-20"})
    assert cancelling.status_code == 200, cancelling.text
    session = client.post(f"/api/v1/nqsws/{nqsw}/supervision",
                          json={"day": "2026-03-30", "start_time": "14:00:00",
                                "supervisor_id": manager, "minutes": 90},
                          params={"on": "2026-01-05"}).json()
    _, feed = new_feed(client, nqsw)

    # No login: calendar apps fetch the URL without cookies or tokens.
    asked = datetime.now(UTC)
    with TestClient(app) as anonymous:
        response = anonymous.get(feed, params={"on": "2026-01-05"})
    answered = datetime.now(UTC)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "lines are folded at 75 octets"

    calendar = icalendar.Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Ringfence//")
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]
    assert {c.name for c in zones[0].subcomponents} == {"STANDARD", "DAYLIGHT"}

    events = events_of(raw)
    for event in events.values():
        assert "UID" in event and "DTSTAMP" in event
        # DTSTAMP is when the feed was generated (RFC 5545 3.8.7.2), in UTC.
        stamp = event.decoded("DTSTAMP")
        assert stamp.tzinfo is not None
        assert asked - timedelta(seconds=1) <= stamp <= answered + timedelta(seconds=1)
        assert "CREATED" in event and "LAST-MODIFIED" in event and "SEQUENCE" in event
    assert len({e.decoded("DTSTAMP") for e in events.values()}) == 1
    assert len(events) == 7 + 1 + 4  # bookings, one session, review points at 3/6/9/12

    day_event = next(e for e in events.values() if str(e["UID"]).startswith(
        f"protected-time-{full['id']}@"))
    assert day_event.decoded("DTSTART") == date(2026, 1, 14)
    assert day_event.decoded("DTEND") == date(2026, 1, 15)
    assert str(day_event["SUMMARY"]) == "Protected time: training"
    assert str(day_event["STATUS"]) == "CONFIRMED"
    assert str(day_event["TRANSP"]) == "OPAQUE"  # protected time shows as busy
    assert int(day_event["SEQUENCE"]) == 0
    half_event = next(e for e in events.values() if f"-{half['id']}@" in str(e["UID"]))
    assert str(half_event["SUMMARY"]) == "Protected time (afternoon): study"
    # A half day is a timed event in its window, the one the diary refuses overlaps in.
    assert half_event.decoded("DTSTART") == datetime(2026, 1, 15, 13, 0, tzinfo=LONDON)
    assert half_event.decoded("DTEND") == datetime(2026, 1, 15, 17, 0, tzinfo=LONDON)
    assert str(half_event["TRANSP"]) == "OPAQUE"

    offsets = {}
    for day, entry in timed.items():
        event = next(e for e in events.values() if f"protected-time-{entry['id']}@" in
                     str(e["UID"]))
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert (start.date().isoformat(), start.time(), end.time()) == (
            day, time(9, 30), time(12, 30))
        assert start == datetime.fromisoformat(f"{day}T09:30").replace(tzinfo=LONDON)
        offsets[day] = start.utcoffset()
    assert offsets == {"2026-03-27": timedelta(0), "2026-03-30": timedelta(hours=1),
                       "2026-10-23": timedelta(hours=1), "2026-10-26": timedelta(0)}
    # ical.js, reading the feed's own VTIMEZONE, puts every event where icalendar does.
    assert icaljs_starts(raw) == {uid: utc_start(e) for uid, e in events.items()}

    lost = next(e for e in events.values() if f"protected-time-{cancelled['id']}@" in
                str(e["UID"]))
    assert str(lost["STATUS"]) == "CANCELLED"
    assert "Court" in str(lost["DESCRIPTION"])
    assert str(lost["TRANSP"]) == "TRANSPARENT"  # no longer holds the time
    assert int(lost["SEQUENCE"]) == 1
    assert lost.decoded("LAST-MODIFIED") >= lost.decoded("CREATED")

    supervision = next(e for e in events.values() if str(e["UID"]).startswith(
        f"supervision-{session['id']}@"))
    assert supervision.decoded("DTSTART") == datetime(2026, 3, 30, 14, 0, tzinfo=LONDON)
    assert supervision.decoded("DTEND") == datetime(2026, 3, 30, 15, 30, tzinfo=LONDON)
    assert str(supervision["SUMMARY"]) == "Reflective supervision"

    reviews = sorted((e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events.values()
                     if str(e["UID"]).startswith("review-"))
    # Each review on its month boundary, or the next working day: 5 April 2026 is Easter
    # Sunday and 6 April Easter Monday, so the 3-month review is due on Tuesday 7 April;
    # 5 July is a Sunday.
    assert reviews == [
        (date(2026, 4, 7), "3-month review due"),
        (date(2026, 7, 6), "6-month review due"),
        (date(2026, 10, 5), "9-month review due"),
        (date(2027, 1, 5), "12-month review due"),
    ]

    # Serialising what was parsed gives the same events back.
    again = events_of(calendar.to_ical())
    assert again.keys() == events.keys()
    for uid, event in events.items():
        for key in ("DTSTART", "DTEND", "SUMMARY", "STATUS", "TRANSP", "DTSTAMP",
                    "LAST-MODIFIED", "SEQUENCE"):
            assert again[uid].decoded(key) == event.decoded(key)


def test_a_moved_or_cancelled_booking_changes_sequence_and_last_modified(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    """Subscribed calendars notice a change by SEQUENCE and LAST-MODIFIED."""
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, start="2026-01-05", team_id=team)
    entry = book(client, nqsw, "2026-02-11", on="2026-01-05")
    _, feed = new_feed(client, nqsw)
    uid = next(u for u in events_of(client.get(feed, params={"on": "2026-01-05"}).content)
               if u.startswith(f"protected-time-{entry['id']}@"))

    def seen() -> icalendar.Event:
        return events_of(client.get(feed, params={"on": "2026-01-05"}).content)[uid]

    first = seen()
    assert int(first["SEQUENCE"]) == 0
    moved = client.post(f"/api/v1/nqsws/{nqsw}/diary/{entry['id']}/move",
                        json={"day": "2026-02-12"}, params={"on": "2026-01-05"})
    assert moved.status_code == 200, moved.text
    second = seen()
    assert int(second["SEQUENCE"]) == 1
    assert second.decoded("DTSTART") == date(2026, 2, 12)
    assert second.decoded("LAST-MODIFIED") >= first.decoded("LAST-MODIFIED")
    cancelled = signed_in_as(client_as, db_session, manager).post(
        f"/api/v1/nqsws/{nqsw}/diary/{entry['id']}/cancel", json={"reason": "Duty cover"},
        params={"on": "2026-01-06"})
    assert cancelled.status_code == 200, cancelled.text
    third = seen()
    assert (int(third["SEQUENCE"]), str(third["STATUS"])) == (2, "CANCELLED")
    assert third.decoded("LAST-MODIFIED") >= second.decoded("LAST-MODIFIED")
    # The generation time moves on with every fetch; the event's own dates do not.
    assert third.decoded("CREATED") == first.decoded("CREATED")


def test_rotating_the_token_retires_the_old_url(client: TestClient) -> None:
    nqsw = make_nqsw(client)
    _, first = new_feed(client, nqsw)
    assert client.get(first).status_code == 200
    _, second = new_feed(client, nqsw)
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404


def test_a_paused_programme_leaves_later_reviews_out(client: TestClient) -> None:
    nqsw = make_nqsw(client, start="2026-01-15")
    client.post(f"/api/v1/nqsws/{nqsw}/pause", json={"start_date": "2026-03-02",
                                                     "reason": "health"},
                params={"on": "2026-03-02"})
    _, feed = new_feed(client, nqsw)
    events = events_of(client.get(feed, params={"on": "2026-03-10"}).content)
    assert [uid for uid in events if uid.startswith("review-")] == []
    client.post(f"/api/v1/nqsws/{nqsw}/resume", json={"resumed_on": "2026-04-01"},
                params={"on": "2026-04-01"})
    events = events_of(client.get(feed, params={"on": "2026-04-01"}).content)
    starts = sorted(e.decoded("DTSTART") for uid, e in events.items() if uid.startswith("review"))
    assert starts[0] == date(2026, 4, 15) + timedelta(days=30)


def test_a_token_for_an_unknown_nqsw_is_404(client: TestClient) -> None:
    assert client.post("/api/v1/nqsws/987654/calendar-token").status_code == 404


# The last Sundays of March and October, when the clocks go forward and back (from the
# published dates, not computed, so that the test does not share the code it checks).
CLOCK_CHANGES = {
    2026: (date(2026, 3, 29), date(2026, 10, 25)),
    2027: (date(2027, 3, 28), date(2027, 10, 31)),
    2028: (date(2028, 3, 26), date(2028, 10, 29)),
    2029: (date(2029, 3, 25), date(2029, 10, 28)),
    2030: (date(2030, 3, 31), date(2030, 10, 27)),
}
ONE_DAY = timedelta(days=1)


def test_every_calendar_reads_london_times_alike_across_the_clock_changes() -> None:
    """10:00 in London is 10:00 UTC in winter (GMT) and 09:00 UTC in summer (BST), in
    ical.js, in icalendar and in icalendar reading the feed's own VTIMEZONE, either side
    of both clock changes of every year to 2030: the zone is defined for any date, not
    only the programme's span (which here ends in January 2027)."""
    expected: dict[date, datetime] = {}
    for spring, autumn in CLOCK_CHANGES.values():
        for day, hour in ((spring - ONE_DAY, 10), (spring + ONE_DAY, 9),
                          (autumn - ONE_DAY, 9), (autumn + ONE_DAY, 10)):
            expected[day] = datetime.combine(day, time(hour), tzinfo=UTC)
    # Supervision at 10:00 on 26 October and 7 December 2026, which a feed once put at
    # 09:00 UTC in ical.js.
    expected[date(2026, 12, 7)] = datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert expected[date(2026, 10, 26)] == datetime(2026, 10, 26, 10, tzinfo=UTC)
    days = sorted(expected)
    zone = calendar_service.feed_zone(LONDON, date(2026, 1, 5), date(2027, 1, 5))
    raw = feed_of([datetime.combine(day, time(10)) for day in days], zone)
    wanted = {f"supervision-{n}@ringfence.example": expected[day]
              for n, day in enumerate(days, start=1)}

    calendar = icalendar.Calendar.from_ical(raw)
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/London"
    rules = {part.name: part for part in vtimezone.subcomponents}
    assert set(rules) == {"STANDARD", "DAYLIGHT"}
    for name, start, rule, offsets in (
        ("STANDARD", datetime(1970, 10, 25, 2), "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
         (timedelta(hours=1), timedelta(0))),
        ("DAYLIGHT", datetime(1970, 3, 29, 1), "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
         (timedelta(0), timedelta(hours=1))),
    ):
        part = rules[name]
        assert "RDATE" not in part
        assert part.decoded("DTSTART") == start
        assert part["RRULE"].to_ical().decode() == rule
        assert (part.decoded("TZOFFSETFROM"), part.decoded("TZOFFSETTO")) == offsets
    assert (str(rules["STANDARD"]["TZNAME"]), str(rules["DAYLIGHT"]["TZNAME"])) == (
        "GMT", "BST")

    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert all(e["DTSTART"].params["TZID"] == "Europe/London" for e in events.values())
    # (a) icalendar: by the zone's name, and by the feed's own VTIMEZONE alone.
    assert {uid: utc_start(e) for uid, e in events.items()} == wanted
    own = vtimezone.to_tz(lookup_tzid=False)
    assert {uid: e.decoded("DTSTART").replace(tzinfo=own).astimezone(UTC)
            for uid, e in events.items()} == wanted
    # (b) ical.js, which knows only the feed's VTIMEZONE.
    assert icaljs_starts(raw) == wanted


def _around_changes(tz: ZoneInfo, years: range) -> list[date]:
    """The first of every month, and the days either side of each of the zone's changes."""
    days = {date(year, month, 1) for year in years for month in range(1, 13)}
    day = date(years.start, 1, 1)
    while day.year < years.stop:
        before = datetime.combine(day - ONE_DAY, time(12), tzinfo=tz).utcoffset()
        if datetime.combine(day, time(12), tzinfo=tz).utcoffset() != before:
            days |= {day - ONE_DAY, day, day + ONE_DAY}
        day += ONE_DAY
    return sorted(days)


@pytest.mark.parametrize(("key", "local"), [
    ("Europe/London", True),  # last Sunday of March and of October
    ("Europe/Dublin", True),  # the zone database calls winter the exception
    ("America/New_York", True),  # second Sunday of March, first of November
    ("Australia/Sydney", True),  # summer time across the new year
    ("Asia/Tokyo", True),  # no clock changes
    ("Africa/Casablanca", False),  # changes around Ramadan: no yearly rule, so UTC
])
def test_a_configured_time_zone_reads_alike_in_every_calendar(key: str, local: bool) -> None:
    """Any zone the service may be configured with: the feed's times, local with yearly
    rules where the zone has them and in UTC where it has not, are the instants the zone
    database gives, in ical.js and in icalendar."""
    tz = ZoneInfo(key)
    days = _around_changes(tz, range(2026, 2031))
    zone = calendar_service.feed_zone(tz, date(2026, 1, 5), date(2027, 1, 5))
    raw = feed_of([datetime.combine(day, time(10)) for day in days], zone)
    wanted = {f"supervision-{n}@ringfence.example":
              datetime.combine(day, time(10), tzinfo=tz).astimezone(UTC)
              for n, day in enumerate(days, start=1)}

    calendar = icalendar.Calendar.from_ical(raw)
    vtimezones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in vtimezones] == ([key] if local else [])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    if local:
        own = vtimezones[0].to_tz(lookup_tzid=False)
        assert {uid: e.decoded("DTSTART").replace(tzinfo=own).astimezone(UTC)
                for uid, e in events.items()} == wanted
    else:
        assert all(e["DTSTART"].to_ical().endswith(b"Z") and "TZID" not in e["DTSTART"].params
                   for e in events.values())
    assert {uid: utc_start(e) for uid, e in events.items()} == wanted
    assert icaljs_starts(raw) == wanted
