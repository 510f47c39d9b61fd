"""An NQSW's protected-time diary: entitlement and whether it is on track, booking, moving,
marking time taken, rebooking lost time, a team manager's cancellation (always with a
reason; the NQSW is told and asked to rebook), and the NQSW's own calendar feed.

The feed's secret is kept only as a hash, so its address can be shown just once: the
redirect after creating (or replacing) it carries the new token, and the diary shows the
address only while that token is the live one. Replacing a live feed asks first, as the
old address stops working at once.

Who may do what is the API's rule, applied to these pages by the page access table
(app/auth/page_access.py) before a handler runs: the NQSW and their team manager book,
move, take and rebook; only a team manager cancels; only the NQSW has a calendar feed.
The buttons follow the same table (app.web.permits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models.diary import CalendarToken, ProtectedTime, ProtectedTimePurpose
from app.policy import entitlement
from app.repositories import diary as diary_rows
from app.repositories.staff import people_by_id
from app.schemas.diary import ProtectedTimeCancel, ProtectedTimeCreate, ProtectedTimeMove
from app.services import calendar as calendar_service
from app.services import diary as diary_service
from app.web import access, outcome, permits
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.errors import PageForbidden
from app.web.forms import FormErrors, as_sentence, dated
from app.web.submit import NoAnswers, Questions, Refusal, again, submit
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

PURPOSES = [(p.value, p.value.replace("_", " ").capitalize()) for p in ProtectedTimePurpose]
# One question for the length: a half day is the morning or the afternoon, so the only
# extra question left (how many hours) is revealed under its own answer.
LENGTHS = [("full_day", "A full day"), ("am", "The morning"), ("pm", "The afternoon"),
           ("hours", "A number of hours")]
LABELS = {"day": "Date", "length": "How long", "hours": "Hours",
          "purpose": "Purpose", "note": "Note", "reason": "Reason"}
# The service names its fields; the form asks fewer questions.
RENAME = {"half": "length", "start_time": "hours", "rebooked_from_id": "",
          "entry_id": "", "on": "day"}
CHOSEN = {"length", "purpose"}
DONE = {"booked", "moved", "taken", "rebooked", "cancelled", "feed"}
FEED = "POST /nqsws/{staff_id}/diary/calendar"


def service_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's "how long" answer as the service's length, half and hours."""
    choice = str(data.get("length") or "")
    fields: dict[str, Any] = {"length": choice} if choice else {}
    if choice in ("am", "pm"):
        fields.update(length="half_day", half=choice)
    if choice == "hours":
        fields["hours"] = data.get("hours", "")
    return fields


def length_choice(entry: ProtectedTime) -> str:
    """The form's answer for an existing booking."""
    return entry.half if entry.length == "half_day" and entry.half else entry.length


def booking_fields(values: dict[str, Any]) -> dict[str, Any]:
    """A booking's answers as the service's fields."""
    wanted = {k: v for k, v in values.items() if k in ("day", "purpose", "note")}
    wanted.update(service_fields(values))
    return wanted


def moving_fields(values: dict[str, Any]) -> dict[str, Any]:
    """A move asks only the new date and length."""
    return {"day": values.get("day", ""), **service_fields(values)}


BOOKING = Questions(ProtectedTimeCreate, LABELS, CHOSEN, wanted=dated(booking_fields),
                    rename=RENAME)
MOVING = Questions(ProtectedTimeMove, LABELS, CHOSEN, wanted=dated(moving_fields),
                   rename=RENAME)
# The cancellation's one question: any refusal about the booking is said beside it.
CANCELLING = Questions(
    ProtectedTimeCancel, wanted=lambda values: {"reason": values.get("reason", "")},
    rename={"entry_id": "reason", "": "reason"},
    messages={"reason": "Enter the reason for cancelling (at least 3 characters): "
                        "the NQSW is told it"},
)


def done_url(staff_id: int, done: str, day: date) -> str:
    return outcome.done_url(f"/nqsws/{staff_id}/diary", done, day)


def windows(entries: list[ProtectedTime], day_hours: float) -> dict[int, str]:
    """The times of day each booking holds, as the page shows them ("09:00 to 13:00")."""
    shown = {}
    for entry in entries:
        start, end = diary_service.window(entry, day_hours)
        if entry.id is not None and start is not None and end is not None:
            shown[entry.id] = f"{start:%H:%M} to {end:%H:%M}"
    return shown


def beyond_entitlement(summary: Mapping[str, Any] | None) -> dict[str, float] | None:
    """Hours booked ahead and taken, when together they are more than the programme's
    protected time: the service's own figures, for the warning above the booking form."""
    if summary is None:
        return None
    held = round(summary["booked"]["hours"] + summary["taken"]["hours"], 2)
    entitled = summary["entitlement"]["hours"]
    if held <= entitled:
        return None
    return {"held": held, "entitlement": entitled, "over": round(held - entitled, 2)}


def diary_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *, on: Any,
    policies: Any, values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    try:
        summary = diary_service.summary(session, staff_id=staff_id, on=on, policies=policies)
        entries, _, rebooked = diary_service.list_entries(
            session, staff_id=staff_id, limit=500, offset=0)
    except DomainError as exc:
        summary, entries, rebooked = None, [], {}
        errors = errors or FormErrors()
        errors.add("", as_sentence(exc.message))
    done, done_day = outcome.done_message(request, DONE)
    bookers = people_by_id(session, [e.cancelled_by_id for e in entries])
    day_hours = entitlement.day_hours(nqsw.contracted_hours, nqsw.fte)
    by_id = {e.id: e for e in entries}
    return render(request, "pages/diary.html", {
        **access.whose(viewer, nqsw, staff_id, "Your protected time", "Protected time",
                       own_nav="diary"),
        "summary": summary,
        "entries": entries,
        "rebooked": rebooked,
        "rebooked_on": {lost: by_id[new].day for lost, new in rebooked.items() if new in by_id},
        "days": {i: e.day for i, e in by_id.items()},
        "windows": windows(entries, day_hours),
        "people": bookers,
        "values": values or {"length": "full_day", "purpose": "study"},
        "errors": errors or FormErrors(),
        "purposes": PURPOSES,
        "lengths": LENGTHS,
        "may_book": permits.may(viewer, permits.BOOK, staff_id),
        "may_move": permits.may(viewer, permits.MOVE, staff_id),
        "may_take": permits.may(viewer, permits.TAKE, staff_id),
        "may_cancel": permits.may(viewer, permits.CANCEL, staff_id),
        "feed": feed_context(request, session, viewer, staff_id),
        "done": done,
        "done_day": done_day,
        "in_the_past": done in ("booked", "moved", "rebooked") and done_day is not None
        and done_day < today(),
        "beyond": beyond_entitlement(summary),
        "today": today(),
        "on": on,
    }, status_code=status_code)


@router.get("/nqsws/{staff_id}/diary", include_in_schema=False)
def diary(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
    policies: PoliciesDep,
) -> Response:
    return diary_page(request, session, viewer, staff_id, on=on, policies=policies)


@router.post("/nqsws/{staff_id}/diary", include_in_schema=False)
async def book(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    on = today()
    return await submit(
        request, session, BOOKING,
        act=lambda form: diary_service.book(session, staff_id=staff_id, data=form, on=on,
                                            policies=policies, actor_id=viewer.staff_id),
        done=lambda entry: done_url(staff_id, "booked", entry.day),
        page=again(diary_page, request, session, viewer, staff_id, on=on, policies=policies),
    )


# --- moving and rebooking one booking --------------------------------------------------


def entry_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, entry_id: int, *,
    mode: str, values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    """The form to move a booking (new date, perhaps new length) or rebook lost time."""
    nqsw = access.nqsw_for(session, staff_id)
    context = diary_service.load_context(session, staff_id, today())
    entry = diary_service.get_entry(session, context, entry_id)
    if mode == "move" and entry.status != "booked":
        raise PageForbidden(f"This booking is {entry.status}: only booked time can be moved.")
    if mode == "rebook" and entry.status not in diary_service.LOST:
        raise PageForbidden(f"This booking is {entry.status}: only cancelled or displaced "
                            "time is rebooked.")
    defaults: dict[str, Any] = {
        "length": length_choice(entry),
        "hours": f"{entry.hours:g}" if entry.length == "hours" else "",
        "purpose": entry.purpose,
        "note": entry.note or "",
        "day": entry.day.isoformat() if mode == "move" else "",
    }
    people = people_by_id(session, [entry.cancelled_by_id])
    return render(request, "pages/diary_entry.html", {
        "title": "Move protected time" if mode == "move" else "Rebook protected time",
        "nav_key": "diary" if viewer.staff_id == staff_id else "nqsws",
        "mode": mode,
        "nqsw": nqsw,
        "entry": entry,
        "cancelled_by": people.get(entry.cancelled_by_id) if entry.cancelled_by_id else None,
        "values": values or defaults,
        "errors": errors or FormErrors(),
        "lengths": LENGTHS,
        "purposes": PURPOSES,
    }, status_code=status_code)


@router.get("/nqsws/{staff_id}/diary/{entry_id}/move", include_in_schema=False)
def move_form(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return entry_page(request, session, viewer, staff_id, entry_id, mode="move")


@router.post("/nqsws/{staff_id}/diary/{entry_id}/move", include_in_schema=False)
async def move(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return await submit(
        request, session, MOVING,
        act=lambda form: diary_service.move(session, staff_id=staff_id, entry_id=entry_id,
                                            data=form, on=today(), actor_id=viewer.staff_id,
                                            policies=request.app.state.policies),
        done=lambda entry: done_url(staff_id, "moved", entry.day),
        page=again(entry_page, request, session, viewer, staff_id, entry_id, mode="move"),
    )


@router.get("/nqsws/{staff_id}/diary/{entry_id}/rebook", include_in_schema=False)
def rebook_form(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return entry_page(request, session, viewer, staff_id, entry_id, mode="rebook")


@router.post("/nqsws/{staff_id}/diary/{entry_id}/rebook", include_in_schema=False)
async def rebook(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    def wanted(values: dict[str, Any]) -> dict[str, Any]:
        return {**booking_fields(values), "rebooked_from_id": entry_id}

    return await submit(
        request, session, replace(BOOKING, wanted=dated(wanted)),
        act=lambda form: diary_service.book(session, staff_id=staff_id, data=form,
                                            on=today(), actor_id=viewer.staff_id,
                                            policies=request.app.state.policies),
        done=lambda entry: done_url(staff_id, "rebooked", entry.day),
        page=again(entry_page, request, session, viewer, staff_id, entry_id, mode="rebook"),
    )


@router.post("/nqsws/{staff_id}/diary/{entry_id}/taken", include_in_schema=False)
async def mark_taken(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    """One click in the diary: the time happened and was used for development."""
    on = today()

    def beside_the_button(exc: DomainError) -> FormErrors:
        errors = FormErrors()
        errors.add(f"taken-{entry_id}", as_sentence(exc.message))
        return errors

    def page(refused: Refusal) -> Response:
        return diary_page(request, session, viewer, staff_id, on=on, policies=policies,
                          errors=refused.errors, status_code=refused.status_code)

    return await submit(
        request, session, Questions(NoAnswers),
        act=lambda _: diary_service.mark_taken(session, staff_id=staff_id, entry_id=entry_id,
                                               on=on, policies=policies,
                                               actor_id=viewer.staff_id),
        done=lambda entry: done_url(staff_id, "taken", entry.day),
        page=page,
        refusal=beside_the_button,
    )


# --- cancelling (team managers only) -----------------------------------------------------


@router.get("/nqsws/{staff_id}/diary/{entry_id}/cancel", include_in_schema=False)
def cancel_form(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return cancel_page(request, session, viewer, staff_id, entry_id)


def cancel_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, entry_id: int, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    context = diary_service.load_context(session, staff_id, today())
    entry = diary_service.get_entry(session, context, entry_id)
    return render(request, "pages/diary_cancel.html", {
        "title": "Cancel protected time",
        "nav_key": "nqsws",
        "nqsw": nqsw,
        "entry": entry,
        "values": values or {},
        "errors": errors or FormErrors(),
    }, status_code=status_code)


@router.post("/nqsws/{staff_id}/diary/{entry_id}/cancel", include_in_schema=False)
async def cancel(
    staff_id: int, entry_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    assert viewer.staff_id is not None
    return await submit(
        request, session, CANCELLING,
        act=lambda form: diary_service.cancel(session, staff_id=staff_id, entry_id=entry_id,
                                              data=form, on=today(), actor_id=viewer.staff_id,
                                              policies=request.app.state.policies,
                                              base_url=request.app.state.settings.base_url),
        done=lambda entry: done_url(staff_id, "cancelled", entry.day),
        page=again(cancel_page, request, session, viewer, staff_id, entry_id),
    )


# --- the calendar feed (the NQSW only) --------------------------------------------------


def _live_feed(session: Session, staff_id: int) -> CalendarToken | None:
    live = diary_rows.live_tokens(session, staff_id)
    return max(live, key=lambda t: t.created_at) if live else None


def feed_context(
    request: Request, session: Session, viewer: Viewer, staff_id: int
) -> dict[str, Any] | None:
    """What the "Subscribe in your calendar" section shows: whether a feed is live, and
    its address when the page was reached with the feed's own, live, token (just after
    creating it). None when the section is not this person's to see."""
    if not permits.may(viewer, FEED, staff_id):
        return None
    live = _live_feed(session, staff_id)
    token = request.query_params.get("feed", "")
    url = None
    if live is not None and token and calendar_service.hash_token(token) == live.token_hash:
        url = calendar_service.feed_url(token, request.app.state.settings.base_url)
    return {
        "live": live,
        "url": url,
        "webcal": "webcal://" + url.split("://", 1)[1] if url else None,
    }


@router.get("/nqsws/{staff_id}/diary/calendar", include_in_schema=False)
def feed_form(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """The confirmation step before a new calendar address replaces the live one."""
    return feed_page(request, session, viewer, staff_id)


def feed_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    return render(request, "pages/diary_feed.html", {
        "title": "Your calendar link",
        "nav_key": "diary",
        "nqsw": nqsw,
        "live": _live_feed(session, staff_id),
        "errors": errors or FormErrors(),
    }, status_code=status_code)


@router.post("/nqsws/{staff_id}/diary/calendar", include_in_schema=False)
async def rotate_feed(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """A new secret calendar address; any previous one stops working at once."""

    def done(made: tuple[str, CalendarToken]) -> str:
        token, _ = made
        return outcome.done_url(f"/nqsws/{staff_id}/diary", "feed", today(),
                                feed=token) + "#calendar"

    return await submit(
        request, session, Questions(NoAnswers),
        act=lambda _: calendar_service.rotate_token(session, staff_id=staff_id,
                                                    actor_id=viewer.staff_id),
        done=done,
        page=again(feed_page, request, session, viewer, staff_id),
    )
