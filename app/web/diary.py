"""An NQSW's protected-time diary: entitlement and whether it is on track, booking, and a
team manager's cancellation (always with a reason; the NQSW is told and asked to rebook)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models.diary import ProtectedTimePurpose
from app.schemas.diary import ProtectedTimeCancel, ProtectedTimeCreate
from app.services import diary as diary_service
from app.web import access
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.errors import PageForbidden
from app.web.forms import FormErrors, domain_errors, parse_form
from app.web.htmx import redirect
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

PURPOSES = [(p.value, p.value.replace("_", " ").capitalize()) for p in ProtectedTimePurpose]
LENGTHS = [("full_day", "A full day"), ("half_day", "Half a day"), ("hours", "A number of hours")]
LABELS = {"day": "Date", "length": "How long", "half": "Morning or afternoon",
          "hours": "Hours", "purpose": "Purpose", "note": "Note", "reason": "Reason"}


def may_book(viewer: Viewer, staff_id: int) -> bool:
    """The NQSW books their own time; their team manager may book it with them."""
    return viewer.staff_id == staff_id or viewer.role == "team_manager"


def may_cancel(viewer: Viewer) -> bool:
    return viewer.role == "team_manager"


def diary_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *, on: Any,
    policies: Any, values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, viewer, staff_id)
    try:
        summary = diary_service.summary(session, staff_id=staff_id, on=on, policies=policies)
        entries, _, rebooked = diary_service.list_entries(
            session, staff_id=staff_id, limit=500, offset=0)
    except DomainError as exc:
        summary, entries, rebooked = None, [], {}
        errors = errors or FormErrors()
        errors.add("", exc.message)
    own = viewer.staff_id == staff_id
    return render(request, "pages/diary.html", {
        "title": "Your protected time" if own else f"Protected time: {nqsw.name}",
        "nav_key": "diary" if own else "nqsws",
        "nqsw": nqsw,
        "own": own,
        "summary": summary,
        "entries": entries,
        "rebooked": rebooked,
        "values": values or {"length": "full_day", "purpose": "study"},
        "errors": errors or FormErrors(),
        "purposes": PURPOSES,
        "lengths": LENGTHS,
        "may_book": may_book(viewer, staff_id),
        "may_cancel": may_cancel(viewer),
        "booked": request.query_params.get("booked"),
        "cancelled": request.query_params.get("cancelled"),
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
    access.nqsw_for(session, viewer, staff_id)
    if not may_book(viewer, staff_id):
        raise PageForbidden("Only the NQSW or their team manager books protected time.")
    on = today()
    data = {k: v for k, v in (await request.form()).items() if k != "csrf_token"}
    wanted = {k: v for k, v in data.items() if k in ProtectedTimeCreate.model_fields}
    if wanted.get("length") != "half_day":
        wanted.pop("half", None)
    if wanted.get("length") != "hours":
        wanted.pop("hours", None)
    form, errors = parse_form(ProtectedTimeCreate, wanted, LABELS)
    if form is None:
        return diary_page(request, session, viewer, staff_id, on=on, policies=policies,
                          values=data, errors=errors, status_code=422)
    try:
        entry = diary_service.book(session, staff_id=staff_id, data=form, on=on,
                                   actor_id=viewer.staff_id)
    except DomainError as exc:
        session.rollback()
        return diary_page(request, session, viewer, staff_id, on=on, policies=policies,
                          values=data, errors=domain_errors(exc), status_code=exc.status_code)
    return redirect(request, f"/nqsws/{staff_id}/diary?booked={entry.day.isoformat()}")


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
    nqsw = access.nqsw_for(session, viewer, staff_id)
    if not may_cancel(viewer):
        raise PageForbidden("Only a team manager cancels protected time.")
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
    access.nqsw_for(session, viewer, staff_id)
    if not may_cancel(viewer) or viewer.staff_id is None:
        raise PageForbidden("Only a team manager cancels protected time.")
    data = {k: v for k, v in (await request.form()).items() if k != "csrf_token"}
    errors = FormErrors()
    try:
        body = ProtectedTimeCancel(cancelled_by_id=viewer.staff_id,
                                   reason=str(data.get("reason", "")))
    except ValidationError:
        errors.add("reason", "Enter the reason for cancelling: the NQSW is told it")
        return cancel_page(request, session, viewer, staff_id, entry_id, values=data,
                           errors=errors, status_code=422)
    try:
        entry = diary_service.cancel(session, staff_id=staff_id, entry_id=entry_id, data=body,
                                     on=today(), actor_id=viewer.staff_id)
    except DomainError as exc:
        session.rollback()
        return cancel_page(request, session, viewer, staff_id, entry_id, values=data,
                           errors=domain_errors(exc, rename={"entry_id": "reason",
                                                             "cancelled_by_id": "reason"}),
                           status_code=exc.status_code)
    return redirect(request, f"/nqsws/{staff_id}/diary?cancelled={entry.day.isoformat()}")
