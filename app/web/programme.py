"""Programme events for one NQSW, for the managers who record them: a pause (the programme
clock stops and protected time inside the pause is displaced, to be rebooked), the return,
and the joint child-protection sign-off of a team manager and a senior manager.

The sign-off is a decision of two people: one of the two managers records it (their
approval) and the other approves it; only then does it count. Each manager sees the
sign-off awaiting them on this page, with a button to approve it, and either may revoke
it with a reason.

Who may do what is the API's rule, applied by the page access table
(app/auth/page_access.py) before a handler runs: the team manager and the ASYE
coordinator pause and resume; team and senior managers record, approve and revoke
sign-offs (the service then checks that an approver is the manager the sign-off waits
for). The forms offered follow the same table (app.web.permits).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models import ServiceArea, Team
from app.models.base import PauseReason
from app.models.enrolment import SignOff
from app.schemas.programme import (
    PauseRequest,
    ResumeRequest,
    SignOffPublic,
    SignOffRequest,
    SignOffRevokeRequest,
)
from app.services import diary as diary_service
from app.services import programme_events
from app.web import access, permits, queries
from app.web.deps import OnDep, ViewerDep
from app.web.forms import FormErrors, domain_errors, parse_form
from app.web.htmx import redirect
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

CHILD_PROTECTION = "child_protection"
PAUSE_REASONS = [(PauseReason.health.value, "Health"),
                 (PauseReason.maternity.value, "Maternity or parental leave"),
                 (PauseReason.other.value, "Another reason")]
PAUSE_LABELS = {"start_date": "First day of the pause", "reason": "Why the programme pauses",
                "note": "Note"}
RESUME_LABELS = {"on": "First day back"}
SIGN_OFF_LABELS = {"team_manager_id": "The team manager",
                   "senior_manager_id": "The senior manager",
                   "signed_on": "Date it takes effect", "note": "Note"}
REVOKE_LABELS = {"on": "First day it no longer applies", "reason": "Why it is revoked"}
APPROVE = "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve"
REVOKE = "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke"
# Each form's note has its own name on the page; the sign-off's service errors on `kind`
# (already signed off) belong to the whole form.
PAUSE_FIELDS = {"note": "pause_note"}
RESUME_FIELDS = {"on": "back_on"}
SIGN_OFF_FIELDS = {"note": "signoff_note", "kind": ""}
# Refusals about the sign-off in the path belong to the whole form.
APPROVE_FIELDS = {"sign_off_id": ""}
REVOKE_FIELDS = {"on": "revoke_on", "reason": "revoke_reason", "sign_off_id": ""}
DONE = {"paused", "resumed", "signed", "approved", "revoked"}


def _renamed(errors: FormErrors, names: dict[str, str]) -> FormErrors:
    out = FormErrors()
    for name, message in errors.summary():
        out.add(names.get(name, name), message)
    return out


def _form(request_form: Any) -> dict[str, Any]:
    return {k: v for k, v in request_form.items() if k != "csrf_token"}


def _live(views: list[SignOffPublic]) -> SignOffPublic | None:
    """The child-protection sign-off not revoked: in force, or awaiting an approval."""
    return next((v for v in views if v.kind == CHILD_PROTECTION and v.revoked_on is None), None)


def _awaits(view: SignOffPublic | None, viewer: Viewer) -> bool:
    """The live sign-off waits for this person's own approval."""
    if view is None or viewer.staff_id is None or view.awaiting is None:
        return False
    side = (view.team_manager_id if view.team_manager_approved_at is None
            else view.senior_manager_id)
    return side == viewer.staff_id


def _sign_off_defaults(
    viewer: Viewer, team_manager_id: int | None, senior_manager_id: int | None
) -> dict[str, str]:
    """The caller records their own side; the other side is the NQSW's other manager."""
    tm = viewer.staff_id if viewer.role == "team_manager" else team_manager_id
    sm = viewer.staff_id if viewer.role == "senior_manager" else senior_manager_id
    return {"team_manager_id": str(tm or ""), "senior_manager_id": str(sm or ""),
            "signed_on": today().isoformat(), "revoke_on": today().isoformat()}


def programme_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *, on: date,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    _, enrolment = programme_events.nqsw_enrolment(session, staff_id)
    assert enrolment.id is not None
    pauses = programme_events.pauses_of(session, enrolment.id)
    current = programme_events.open_pause(pauses)
    views = programme_events.sign_off_views(session, enrolment.id)
    live = _live(views)
    last_day = diary_service.load_context(session, staff_id, on).programme.last_day(on)
    team = session.get(Team, nqsw.team_id) if nqsw.team_id else None
    area = session.get(ServiceArea, team.service_area_id) if team else None
    team_manager_id = team.manager_id if team else None
    senior_manager_id = area.senior_manager_id if area else None
    people = queries.staff_by_id(
        session, [v.team_manager_id for v in views] + [v.senior_manager_id for v in views]
        + [v.recorded_by_id for v in views] + [team_manager_id, senior_manager_id])
    running = programme_events.is_open(enrolment)
    done = request.query_params.get("done")
    try:
        done_day: date | None = date.fromisoformat(request.query_params.get("day", ""))
    except ValueError:
        done_day = None
    try:
        done_count = int(request.query_params.get("count", "0"))
    except ValueError:
        done_count = 0
    own = viewer.staff_id == staff_id
    may_sign_off = running and live is None and permits.may(viewer, permits.SIGN_OFF, staff_id)
    return render(request, "pages/programme.html", {
        "title": "Your pauses and sign-off" if own else f"Pauses and sign-off: {nqsw.name}",
        "heading": "Your pauses and sign-off" if own else "Pauses and sign-off",
        "nav_key": "nqsw" if own else "nqsws",
        "own": own,
        "nqsw": nqsw,
        "enrolment": enrolment,
        "pauses": [(p, p.end_date + timedelta(days=1) if p.end_date else None)
                   for p in reversed(pauses)],
        "current_pause": current,
        "sign_offs": views,
        "live": live,
        "awaits_me": running and _awaits(live, viewer)
        and permits.may(viewer, APPROVE, staff_id),
        "may_revoke": running and live is not None and permits.may(viewer, REVOKE, staff_id),
        "last_day": last_day,
        "people": people,
        "team_managers": _choices(people, team_manager_id),
        "senior_managers": _choices(people, senior_manager_id),
        "viewer_side": viewer.role if viewer.role in ("team_manager", "senior_manager")
        else None,
        "pause_reasons": PAUSE_REASONS,
        "may_pause": running and current is None and permits.may(viewer, permits.PAUSE,
                                                                  staff_id),
        "may_resume": running and current is not None and permits.may(viewer, permits.RESUME,
                                                                       staff_id),
        "may_sign_off": may_sign_off,
        "values": {**_sign_off_defaults(viewer, team_manager_id, senior_manager_id),
                   **(values or {})},
        "errors": errors or FormErrors(),
        "done": done if done in DONE else None,
        "done_day": done_day,
        "done_count": done_count,
        "on": on,
    }, status_code=status_code)


def _choices(people: dict[int, Any], staff_id: int | None) -> list[tuple[str, str]]:
    """The manager the organisation names for this side (the form offers only them)."""
    if staff_id is None or staff_id not in people:
        return []
    return [(str(staff_id), people[staff_id].name)]


def _refused(
    request: Request, session: Session, viewer: Viewer, staff_id: int, on: date,
    data: dict[str, Any], exc: DomainError, names: dict[str, str],
) -> Response:
    """An event the service refused: nothing is kept, and the page shows why beside the
    fields (renamed to the form's own), with what was typed."""
    session.rollback()
    return programme_page(request, session, viewer, staff_id, on=on, values=data,
                          errors=domain_errors(exc, rename=names),
                          status_code=exc.status_code)


def done_url(staff_id: int, done: str, day: date, count: int = 0) -> str:
    query = {"done": done, "day": day.isoformat(), "count": count}
    return f"/nqsws/{staff_id}/programme?" + urlencode(query)


@router.get("/nqsws/{staff_id}/programme", include_in_schema=False)
def programme(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
) -> Response:
    return programme_page(request, session, viewer, staff_id, on=on)


@router.post("/nqsws/{staff_id}/programme/pause", include_in_schema=False)
async def pause(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    on = today()
    data = _form(await request.form())
    wanted = {"start_date": data.get("start_date", ""), "reason": data.get("reason", ""),
              "note": data.get("pause_note", "")}
    form, errors = parse_form(PauseRequest, wanted, PAUSE_LABELS, chosen={"reason"})
    if form is None:
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=_renamed(errors, PAUSE_FIELDS), status_code=422)
    try:
        _, record, displaced = programme_events.pause(session, staff_id=staff_id, data=form,
                                                      on=on, actor_id=viewer.staff_id)
    except DomainError as exc:
        return _refused(request, session, viewer, staff_id, on, data, exc, PAUSE_FIELDS)
    return redirect(request, done_url(staff_id, "paused", record.start_date, len(displaced)))


@router.post("/nqsws/{staff_id}/programme/resume", include_in_schema=False)
async def resume(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    on = today()
    data = _form(await request.form())
    form, errors = parse_form(ResumeRequest, {"on": data.get("back_on", "")}, RESUME_LABELS)
    if form is None:
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=_renamed(errors, RESUME_FIELDS), status_code=422)
    try:
        _, _, restored = programme_events.resume(session, staff_id=staff_id, data=form, on=on,
                                                 actor_id=viewer.staff_id)
    except DomainError as exc:
        return _refused(request, session, viewer, staff_id, on, data, exc, RESUME_FIELDS)
    return redirect(request, done_url(staff_id, "resumed", form.on, len(restored)))


@router.post("/nqsws/{staff_id}/programme/sign-off", include_in_schema=False)
async def sign_off(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """Record the sign-off with the viewer's approval; it then awaits the other manager."""
    on = today()
    data = _form(await request.form())
    wanted = {"kind": CHILD_PROTECTION,
              "team_manager_id": data.get("team_manager_id", ""),
              "senior_manager_id": data.get("senior_manager_id", ""),
              "signed_on": data.get("signed_on", ""),
              "note": data.get("signoff_note", "")}
    form, errors = parse_form(SignOffRequest, wanted, SIGN_OFF_LABELS,
                              chosen={"team_manager_id", "senior_manager_id"})
    if form is None:
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=_renamed(errors, SIGN_OFF_FIELDS), status_code=422)
    try:
        record = programme_events.sign_off(session, staff_id=staff_id, data=form, on=on,
                                           actor_id=viewer.staff_id, actor_role=viewer.role)
    except DomainError as exc:
        return _refused(request, session, viewer, staff_id, on, data, exc, SIGN_OFF_FIELDS)
    return redirect(request, done_url(staff_id, "signed", record.signed_on))


@router.post("/nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve",
             include_in_schema=False)
async def approve_sign_off(
    staff_id: int, sign_off_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """The other manager's approval: the sign-off is in force from its date."""
    on = today()
    data = _form(await request.form())
    try:
        record = programme_events.approve_sign_off(
            session, staff_id=staff_id, sign_off_id=sign_off_id, on=on,
            actor_id=viewer.staff_id,
        )
    except DomainError as exc:
        return _refused(request, session, viewer, staff_id, on, data, exc, APPROVE_FIELDS)
    return redirect(request, done_url(staff_id, "approved", record.signed_on))


@router.post("/nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke",
             include_in_schema=False)
async def revoke_sign_off(
    staff_id: int, sign_off_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """Withdraw the sign-off (or a proposal awaiting approval), with the reason."""
    on = today()
    data = _form(await request.form())
    wanted = {"on": data.get("revoke_on", ""), "reason": data.get("revoke_reason", "")}
    form, errors = parse_form(SignOffRevokeRequest, wanted, REVOKE_LABELS)
    if form is None:
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=_renamed(errors, REVOKE_FIELDS), status_code=422)
    try:
        record: SignOff = programme_events.revoke_sign_off(
            session, staff_id=staff_id, sign_off_id=sign_off_id, data=form, on=on,
            actor_id=viewer.staff_id,
        )
    except DomainError as exc:
        return _refused(request, session, viewer, staff_id, on, data, exc, REVOKE_FIELDS)
    assert record.revoked_on is not None
    return redirect(request, done_url(staff_id, "revoked", record.revoked_on))
