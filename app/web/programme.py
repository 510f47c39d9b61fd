"""Programme events for one NQSW, for the managers who record them: a pause (the programme
clock stops and protected time inside the pause is displaced, to be rebooked), the return,
and the joint child-protection sign-off of a team manager and a senior manager.

Who may do what is the API's rule, applied by the page access table
(app/auth/page_access.py) before a handler runs: the team manager and the ASYE
coordinator pause and resume; team and senior managers record a sign-off. The forms
offered follow the same table (app.web.permits).
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
from app.schemas.programme import PauseRequest, ResumeRequest, SignOffRequest
from app.services import diary as diary_service
from app.services import enrolments, programme_events
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
                   "signed_on": "Date agreed", "note": "Note"}
# Each form's note has its own name on the page; the sign-off's service errors on `kind`
# (already signed off) belong to the whole form.
PAUSE_FIELDS = {"note": "pause_note"}
RESUME_FIELDS = {"on": "back_on"}
SIGN_OFF_FIELDS = {"note": "signoff_note", "kind": ""}
DONE = {"paused", "resumed", "signed"}


def _renamed(errors: FormErrors, names: dict[str, str]) -> FormErrors:
    out = FormErrors()
    for name, message in errors.summary():
        out.add(names.get(name, name), message)
    return out


def _form(request_form: Any) -> dict[str, Any]:
    return {k: v for k, v in request_form.items() if k != "csrf_token"}


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
    sign_offs = enrolments.sign_offs_for(session, enrolment.id)
    signed = next((s for s in sign_offs if s.kind == CHILD_PROTECTION and s.revoked_on is None),
                  None)
    last_day = diary_service.load_context(session, staff_id, on).programme.last_day(on)
    team = session.get(Team, nqsw.team_id) if nqsw.team_id else None
    area = session.get(ServiceArea, team.service_area_id) if team else None
    team_managers = queries.staff_with_roles(session, ["team_manager"])
    senior_managers = queries.staff_with_roles(session, ["senior_manager"])
    people = queries.staff_by_id(
        session, [s.team_manager_id for s in sign_offs] + [s.senior_manager_id for s in sign_offs])
    running = programme_events.is_open(enrolment)
    defaults = {
        "team_manager_id": str(viewer.staff_id if viewer.role == "team_manager"
                               else (team.manager_id if team and team.manager_id else "")),
        "senior_manager_id": str(viewer.staff_id if viewer.role == "senior_manager"
                                 else (area.senior_manager_id
                                       if area and area.senior_manager_id else "")),
        "signed_on": today().isoformat(),
    }
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
        "sign_offs": sign_offs,
        "signed": signed,
        "last_day": last_day,
        "people": people,
        "team_managers": [(str(p.id), p.name) for p in team_managers],
        "senior_managers": [(str(p.id), p.name) for p in senior_managers],
        "pause_reasons": PAUSE_REASONS,
        "may_pause": running and current is None and permits.may(viewer, permits.PAUSE,
                                                                  staff_id),
        "may_resume": running and current is not None and permits.may(viewer, permits.RESUME,
                                                                       staff_id),
        "may_sign_off": running and signed is None and permits.may(viewer, permits.SIGN_OFF,
                                                                    staff_id),
        "values": {**defaults, **(values or {})},
        "errors": errors or FormErrors(),
        "done": done if done in DONE else None,
        "done_day": done_day,
        "done_count": done_count,
        "on": on,
    }, status_code=status_code)


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
        session.rollback()
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=domain_errors(exc, rename=PAUSE_FIELDS),
                              status_code=exc.status_code)
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
        session.rollback()
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=domain_errors(exc, rename=RESUME_FIELDS),
                              status_code=exc.status_code)
    return redirect(request, done_url(staff_id, "resumed", form.on, len(restored)))


@router.post("/nqsws/{staff_id}/programme/sign-off", include_in_schema=False)
async def sign_off(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
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
                                           actor_id=viewer.staff_id)
    except DomainError as exc:
        session.rollback()
        return programme_page(request, session, viewer, staff_id, on=on, values=data,
                              errors=domain_errors(exc, rename=SIGN_OFF_FIELDS),
                              status_code=exc.status_code)
    return redirect(request, done_url(staff_id, "signed", record.signed_on))
