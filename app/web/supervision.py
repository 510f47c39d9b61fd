"""An NQSW's supervision log and review points: what is due, what is overdue, and the forms
to record a session, cancel one (with the reason) and record a review as held.

Supervision is the first thing to slip under pressure, so an overdue gap is the first
thing on the page. Who may record follows the API, applied by the page access table
(app/auth/page_access.py) before a handler runs: the team manager, and the advanced
practitioner for the joint sessions they share with the manager (that last condition is
about the session itself: app.services.supervision applies it, for the API and here).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models import Staff
from app.models.diary import SupervisionKind, SupervisionSession
from app.repositories.staff import people_by_id
from app.schemas.supervision import ReviewCreate, SupervisionCancel, SupervisionCreate
from app.services import diary as diary_service
from app.services import supervision as supervision_service
from app.web import access, outcome, permits
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.errors import PageForbidden
from app.web.forms import FormErrors, as_sentence, dated, domain_errors
from app.web.submit import Questions, again, submit
from app.web.templating import humanise, long_date, render
from app.web.viewer import Viewer

router = APIRouter()

KINDS = [
    (SupervisionKind.reflective.value, "Reflective supervision"),
    (SupervisionKind.case.value, "Case supervision"),
    (SupervisionKind.joint_with_ap.value, "Joint supervision with the advanced practitioner"),
]
SESSION_LABELS = {"day": "Date", "kind": "Kind of supervision", "minutes": "Minutes",
                  "supervisor_id": "The supervisor", "note": "Note",
                  "non_working_day": "This session really is on that day"}
REVIEW_LABELS = {"month": "Which review", "held_on": "Date held", "review_note": "Note"}
DONE = {"recorded", "cancelled", "review"}
# The schema's default length is for API callers; on the form it is a question.
SESSION = Questions(SupervisionCreate, SESSION_LABELS, {"kind", "supervisor_id"},
                    required={"minutes": "Enter how long the session lasted, in minutes"})
REVIEW = Questions(
    ReviewCreate, {**REVIEW_LABELS, "note": "Note"}, {"month"},
    wanted=dated(lambda values: {"month": values.get("month", ""),
                                 "held_on": values.get("held_on", ""),
                                 "note": values.get("review_note", "")}),
    rename={"note": "review_note"},
)
# The cancellation's one question: any refusal about the session is said beside it.
CANCELLING = Questions(
    SupervisionCancel, wanted=lambda values: {"reason": values.get("reason", "")},
    rename={"session_id": "reason", "": "reason"},
    messages={"reason": "Enter the reason the session is cancelled (at least 3 characters)"},
)


def joint_only(viewer: Viewer) -> bool:
    """An advanced practitioner records (and cancels) only the joint sessions they attend
    (the service's rule, so that the page and the API agree)."""
    return supervision_service.joint_only(viewer.role)


def may_cancel(viewer: Viewer, staff_id: int, row: SupervisionSession, ap_id: int | None
               ) -> bool:
    if row.cancelled or not permits.may(viewer, permits.CANCEL_SUPERVISION, staff_id):
        return False
    return supervision_service.may_cancel(viewer.role, viewer.staff_id, row, ap_id)


def page_errors(exc: DomainError) -> FormErrors:
    """The service's refusal on the form's questions, in the form's own words."""
    errors = FormErrors()
    for name, message in domain_errors(exc).summary():
        errors.add(name, message.replace(supervision_service.CONFIRM_HINT,
                                         "tick “This session really is on that day”"))
    return errors


def supervisors(session: Session, viewer: Viewer, nqsw: Staff, ap_id: int | None) -> list[Staff]:
    """Who can have led a session: the team's manager, the AP, and the person recording."""
    ids = [viewer.staff_id, supervision_service.team_manager_of(session, nqsw), ap_id]
    people = people_by_id(session, ids)
    return [people[i] for i in dict.fromkeys(ids) if i is not None and i in people]


def done_url(staff_id: int, done: str, day: date) -> str:
    return outcome.done_url(f"/nqsws/{staff_id}/supervision", done, day)


def supervision_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *, on: date,
    policies: Any, values: dict[str, Any] | None = None,
    session_errors: FormErrors | None = None, review_errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    context = diary_service.load_context(session, staff_id, on)
    errors = FormErrors()
    schedule: dict[str, Any] | None = None
    reviews: list[dict[str, Any]] = []
    try:
        schedule = supervision_service.schedule(session, staff_id=staff_id, on=on,
                                                policies=policies)
        reviews = supervision_service.reviews(session, staff_id=staff_id, on=on,
                                              policies=policies)["data"]
    except DomainError as exc:
        errors.add("", as_sentence(exc.message))
    rows, _ = supervision_service.list_sessions(session, staff_id=staff_id, limit=200, offset=0)
    for source in (session_errors, review_errors):
        for name, message in source.summary() if source else []:
            errors.add(name, message)
    choices = supervisors(session, viewer, nqsw, context.enrolment.advanced_practitioner_id)
    people = people_by_id(session, [r.supervisor_id for r in rows]
                                 + [r.cancelled_by_id for r in rows])
    due_by = None
    if schedule and schedule.get("overdue_from"):
        due_by = date.fromisoformat(schedule["overdue_from"]) - timedelta(days=1)
    unheld = [r for r in reviews if not r.get("held_on")]
    defaults = {
        "day": today().isoformat(),
        "kind": SupervisionKind.joint_with_ap.value if joint_only(viewer)
        else SupervisionKind.reflective.value,
        "minutes": "60",
        "supervisor_id": str(viewer.staff_id or ""),
        "held_on": today().isoformat(),
        "month": str(unheld[0]["month"]) if unheld else "",
    }
    done, done_day = outcome.done_message(request, DONE)
    return render(request, "pages/supervision.html", {
        **access.whose(viewer, nqsw, staff_id, "Your supervision and reviews",
                       "Supervision and reviews"),
        "schedule": schedule,
        "due_by": due_by,
        "reviews": reviews,
        "reviews_overdue": [r for r in reviews if r.get("overdue")],
        "review_choices": [
            (str(r["month"]), f"{r['month']}-month review"
             + (f" (due {long_date(r['due'])})" if r.get("due") else ""))
            for r in unheld
        ],
        "sessions": rows,
        "people": people,
        "supervisors": [(str(p.id), f"{p.name} ({humanise(p.role)})") for p in choices],
        "kinds": KINDS,
        "joint_only": joint_only(viewer),
        "may_record": permits.may(viewer, permits.RECORD_SUPERVISION, staff_id),
        "may_review": permits.may(viewer, permits.RECORD_REVIEW, staff_id),
        "cancellable": {r.id for r in rows if may_cancel(
            viewer, staff_id, r, context.enrolment.advanced_practitioner_id)},
        "values": {**defaults, **(values or {})},
        "errors": errors,
        "session_errors": session_errors or FormErrors(),
        "review_errors": review_errors or FormErrors(),
        "done": done,
        "done_day": done_day,
        "done_month": request.query_params.get("month", "")[:3],
        "today": today(),
        "on": on,
    }, status_code=status_code)


@router.get("/nqsws/{staff_id}/supervision", include_in_schema=False)
def supervision(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
    policies: PoliciesDep,
) -> Response:
    return supervision_page(request, session, viewer, staff_id, on=on, policies=policies)


@router.post("/nqsws/{staff_id}/supervision", include_in_schema=False)
async def record(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    on = today()

    def wanted(values: dict[str, Any]) -> dict[str, Any]:
        chosen = {k: v for k, v in values.items() if k in SESSION_LABELS}
        if joint_only(viewer):
            chosen["kind"] = SupervisionKind.joint_with_ap.value
        return chosen

    return await submit(
        request, session, replace(SESSION, wanted=dated(wanted)),
        act=lambda form: supervision_service.record(session, staff_id=staff_id, data=form,
                                                    on=on, policies=policies,
                                                    actor_id=viewer.staff_id),
        done=lambda row: done_url(staff_id, "recorded", row.day),
        page=again(supervision_page, request, session, viewer, staff_id, on=on,
                   policies=policies, errors_as="session_errors"),
        refusal=page_errors,
    )


@router.post("/nqsws/{staff_id}/reviews", include_in_schema=False)
async def record_review(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    on = today()
    return await submit(
        request, session, REVIEW,
        act=lambda form: supervision_service.record_review(
            session, staff_id=staff_id, data=form, on=on, policies=policies,
            actor_id=viewer.staff_id),
        done=lambda row: done_url(staff_id, "review", row.held_on) + f"&month={row.month}",
        page=again(supervision_page, request, session, viewer, staff_id, on=on,
                   policies=policies, errors_as="review_errors"),
    )


# --- cancelling a session ---------------------------------------------------------------


def cancel_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, session_id: int, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    context = diary_service.load_context(session, staff_id, today())
    row = supervision_service.get_session_row(session, context, session_id)
    if not may_cancel(viewer, staff_id, row, context.enrolment.advanced_practitioner_id):
        raise PageForbidden("This session cannot be cancelled by you: it is already cancelled, "
                            "or it is not a joint session you attend.")
    people = people_by_id(session, [row.supervisor_id])
    return render(request, "pages/supervision_cancel.html", {
        "title": "Cancel a supervision session",
        "nav_key": "nqsws",
        "nqsw": nqsw,
        "row": row,
        "supervisor": people.get(row.supervisor_id),
        "kinds": dict(KINDS),
        "values": values or {},
        "errors": errors or FormErrors(),
    }, status_code=status_code)


@router.get("/nqsws/{staff_id}/supervision/{session_id}/cancel", include_in_schema=False)
def cancel_form(
    staff_id: int, session_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return cancel_page(request, session, viewer, staff_id, session_id)


@router.post("/nqsws/{staff_id}/supervision/{session_id}/cancel", include_in_schema=False)
async def cancel(
    staff_id: int, session_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    context = diary_service.load_context(session, staff_id, today())
    if not may_cancel(viewer, staff_id,
                      supervision_service.get_session_row(session, context, session_id),
                      context.enrolment.advanced_practitioner_id):
        raise PageForbidden("This session cannot be cancelled by you.")

    return await submit(
        request, session, CANCELLING,
        act=lambda form: supervision_service.cancel(
            session, staff_id=staff_id, session_id=session_id, data=form, on=today(),
            policies=request.app.state.policies, actor_id=viewer.staff_id),
        done=lambda row: done_url(staff_id, "cancelled", row.day),
        page=again(cancel_page, request, session, viewer, staff_id, session_id),
    )
