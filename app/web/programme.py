"""Programme events for one NQSW, for the managers who record them: a pause (the programme
clock stops and protected time inside the pause is displaced, to be rebooked), the return,
the end of the programme (a withdrawal with its reason, or completion with its outcome),
and the joint child-protection sign-off of a team manager and a senior manager.

The sign-off is a decision of two people: one of the two managers records it (their
approval) and the other approves it; only then does it count. Each manager sees the
sign-off awaiting them on this page, with a button to approve it, and either may revoke
it with a reason.

Who may do what is the API's rule, applied by the page access table
(app/auth/page_access.py) before a handler runs: the team manager and the ASYE
coordinator pause, resume, withdraw and complete; team and senior managers record,
approve and revoke sign-offs (the service then checks that an approver is the manager
the sign-off waits for). The forms offered follow the same table (app.web.permits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.models.base import PauseReason
from app.models.enrolment import Enrolment, SignOff
from app.repositories import org
from app.repositories.staff import people_by_id
from app.schemas.programme import (
    CompleteRequest,
    PauseRequest,
    ProgrammeOutcome,
    ResumeRequest,
    SignOffPublic,
    SignOffRequest,
    SignOffRevokeRequest,
    WithdrawReason,
    WithdrawRequest,
)
from app.services import diary as diary_service
from app.services import programme_events
from app.web import access, outcome, permits
from app.web.deps import OnDep, ViewerDep
from app.web.forms import FormErrors, with_dates
from app.web.submit import NoAnswers, Questions, again, submit
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

CHILD_PROTECTION = "child_protection"
PAUSE_REASONS = [(PauseReason.health.value, "Health"),
                 (PauseReason.maternity.value, "Maternity or parental leave"),
                 (PauseReason.other.value, "Another reason")]
PAUSE_LABELS = {"start_date": "First day of the pause", "reason": "Why the programme pauses",
                "note": "Note"}
RESUME_LABELS = {"resumed_on": "First day back"}
SIGN_OFF_LABELS = {"team_manager_id": "The team manager",
                   "senior_manager_id": "The senior manager",
                   "signed_on": "Date it takes effect", "note": "Note"}
REVOKE_LABELS = {"revoked_on": "First day it no longer applies",
                 "reason": "Why it is revoked"}
WITHDRAW_REASONS = [(WithdrawReason.health.value, "Health"),
                    (WithdrawReason.maternity.value, "Maternity or parental leave"),
                    (WithdrawReason.left_employer.value, "Leaving the organisation"),
                    (WithdrawReason.other.value, "Another reason")]
OUTCOMES = [(ProgrammeOutcome.passed.value, "Passed"),
            (ProgrammeOutcome.failed.value, "Not passed")]
WITHDRAW_LABELS = {"ended_on": "Last day on the programme",
                   "reason": "Why they leave the programme", "note": "Note"}
COMPLETE_LABELS = {"ended_on": "Last day on the programme", "outcome": "The outcome",
                   "note": "Note"}
APPROVE = "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve"
REVOKE = "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke"
# Each form's note has its own name on the page; the sign-off's service errors on `kind`
# (already signed off) belong to the whole form.
PAUSE_FIELDS = {"note": "pause_note"}
RESUME_FIELDS = {"resumed_on": "back_on"}
SIGN_OFF_FIELDS = {"note": "signoff_note", "kind": ""}
# Refusals about the sign-off in the path belong to the whole form.
APPROVE_FIELDS = {"sign_off_id": ""}
REVOKE_FIELDS = {"revoked_on": "revoke_on", "reason": "revoke_reason", "sign_off_id": ""}
# The two ways a programme ends each have their own last day and note on the page.
WITHDRAW_FIELDS = {"ended_on": "withdraw_on", "reason": "withdraw_reason",
                   "note": "withdraw_note"}
COMPLETE_FIELDS = {"ended_on": "complete_on", "note": "complete_note"}
DONE = {"paused", "resumed", "signed", "approved", "revoked", "withdrawn", "completed",
        "enrolled"}
# Who agrees an NQSW's individual adjustments (on their own page, /nqsws/{id}/adjustments).
ADJUSTERS = ("asye_coordinator", "team_manager")
WITHDRAW = "POST /nqsws/{staff_id}/programme/withdraw"
COMPLETE = "POST /nqsws/{staff_id}/programme/complete"

class DatedQuestions(Questions[M]):
    """Questions with dates typed in the three boxes of the GOV.UK date input: each date
    is read as one answer before anything else looks at the answers, so `wanted` picks
    it by name and `required` sees whether it was given."""

    def parse(self, values: dict[str, Any]) -> tuple[M | None, FormErrors]:
        return super().parse(with_dates(values))


PAUSE = DatedQuestions(
    PauseRequest, PAUSE_LABELS, {"reason"}, rename=PAUSE_FIELDS,
    wanted=lambda values: {"start_date": values.get("start_date", ""),
                           "reason": values.get("reason", ""),
                           "note": values.get("pause_note", "")},
)
RESUME = DatedQuestions(ResumeRequest, RESUME_LABELS, rename=RESUME_FIELDS,
                   wanted=lambda values: {"resumed_on": values.get("back_on", "")})
SIGN_OFF = DatedQuestions(
    SignOffRequest, SIGN_OFF_LABELS, {"team_manager_id", "senior_manager_id"},
    rename=SIGN_OFF_FIELDS,
    wanted=lambda values: {"kind": CHILD_PROTECTION,
                           "team_manager_id": values.get("team_manager_id", ""),
                           "senior_manager_id": values.get("senior_manager_id", ""),
                           "signed_on": values.get("signed_on", ""),
                           "note": values.get("signoff_note", "")},
)
APPROVAL = Questions(NoAnswers, rename=APPROVE_FIELDS)


def _ending(model: type[M], labels: dict[str, str], choice: str,
            fields: dict[str, str]) -> Questions[M]:
    """The questions of one way a programme ends: its last day, `choice` (why, or the
    outcome) and a note, each named on the page by `fields`. The last day is asked (the
    API defaults it to today; the page fills today in)."""
    return DatedQuestions(
        model, labels, {choice}, rename=fields,
        wanted=lambda values: {name: values.get(fields.get(name, name), "")
                               for name in ("ended_on", choice, "note")},
        required={fields["ended_on"]: "Enter the last day on the programme"},
    )


WITHDRAWAL = _ending(WithdrawRequest, WITHDRAW_LABELS, "reason", WITHDRAW_FIELDS)
COMPLETION = _ending(CompleteRequest, COMPLETE_LABELS, "outcome", COMPLETE_FIELDS)
REVOCATION = DatedQuestions(
    SignOffRevokeRequest, REVOKE_LABELS, rename=REVOKE_FIELDS,
    wanted=lambda values: {"revoked_on": values.get("revoke_on", ""),
                           "reason": values.get("revoke_reason", "")},
)


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
            "signed_on": today().isoformat(), "revoke_on": today().isoformat(),
            "withdraw_on": today().isoformat(), "complete_on": today().isoformat()}


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
    team = org.team(session, nqsw.team_id) if nqsw.team_id else None
    area = org.area(session, team.service_area_id) if team else None
    team_manager_id = team.manager_id if team else None
    senior_manager_id = area.senior_manager_id if area else None
    people = people_by_id(
        session, [v.team_manager_id for v in views] + [v.senior_manager_id for v in views]
        + [v.recorded_by_id for v in views] + [team_manager_id, senior_manager_id])
    running = programme_events.is_open(enrolment)
    done, done_day = outcome.done_message(request, DONE)
    try:
        done_count = int(request.query_params.get("count", "0"))
    except ValueError:
        done_count = 0
    may_sign_off = running and live is None and permits.may(viewer, permits.SIGN_OFF, staff_id)
    return render(request, "pages/programme.html", {
        **access.whose(viewer, nqsw, staff_id, "Your pauses and sign-off",
                       "Pauses and sign-off"),
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
        "may_withdraw": running and permits.may(viewer, WITHDRAW, staff_id),
        "may_adjust": viewer.role in ADJUSTERS and viewer.staff_id != staff_id,
        "may_complete": running and permits.may(viewer, COMPLETE, staff_id),
        "withdraw_reasons": WITHDRAW_REASONS,
        "outcomes": OUTCOMES,
        "values": {**_sign_off_defaults(viewer, team_manager_id, senior_manager_id),
                   **(values or {})},
        "errors": errors or FormErrors(),
        "done": done,
        "done_day": done_day,
        "done_count": done_count,
        "on": on,
    }, status_code=status_code)


def _choices(people: dict[int, Any], staff_id: int | None) -> list[tuple[str, str]]:
    """The manager the organisation names for this side (the form offers only them)."""
    if staff_id is None or staff_id not in people:
        return []
    return [(str(staff_id), people[staff_id].name)]


def done_url(staff_id: int, done: str, day: date, count: int = 0) -> str:
    return outcome.done_url(f"/nqsws/{staff_id}/programme", done, day, count=count)


@router.get("/nqsws/{staff_id}/programme", include_in_schema=False)
def programme(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
) -> Response:
    return programme_page(request, session, viewer, staff_id, on=on)


def _submit(
    request: Request, session: Session, viewer: Viewer, staff_id: int, on: date,
    questions: Questions[M], act: Callable[[M], T], done: Callable[[T], str],
) -> Awaitable[Response]:
    """Every programme event the same way: a refusal keeps nothing and shows why beside
    the fields (renamed to the form's own), with what was typed."""
    page = again(programme_page, request, session, viewer, staff_id, on=on)
    return submit(request, session, questions, act=act, done=done, page=page)


@router.post("/nqsws/{staff_id}/programme/pause", include_in_schema=False)
async def pause(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    on = today()
    return await _submit(
        request, session, viewer, staff_id, on, PAUSE,
        act=lambda form: programme_events.pause(session, staff_id=staff_id, data=form, on=on,
                                                policies=request.app.state.policies,
                                                actor_id=viewer.staff_id),
        done=lambda paused: done_url(staff_id, "paused", paused[1].start_date, len(paused[2])),
    )


@router.post("/nqsws/{staff_id}/programme/resume", include_in_schema=False)
async def resume(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    on = today()

    def act(form: ResumeRequest) -> tuple[date, int]:
        _, _, restored = programme_events.resume(session, staff_id=staff_id, data=form, on=on,
                                                 policies=request.app.state.policies,
                                                 actor_id=viewer.staff_id)
        return form.resumed_on, len(restored)

    return await _submit(
        request, session, viewer, staff_id, on, RESUME, act=act,
        done=lambda resumed: done_url(staff_id, "resumed", *resumed),
    )


@router.post("/nqsws/{staff_id}/programme/sign-off", include_in_schema=False)
async def sign_off(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """Record the sign-off with the viewer's approval; it then awaits the other manager."""
    on = today()
    return await _submit(
        request, session, viewer, staff_id, on, SIGN_OFF,
        act=lambda form: programme_events.sign_off(
            session, staff_id=staff_id, data=form, on=on, actor_id=viewer.staff_id,
            actor_role=viewer.role, policies=request.app.state.policies),
        done=lambda record: done_url(staff_id, "signed", record.signed_on),
    )


@router.post("/nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve",
             include_in_schema=False)
async def approve_sign_off(
    staff_id: int, sign_off_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """The other manager's approval: the sign-off is in force from its date."""
    on = today()
    return await _submit(
        request, session, viewer, staff_id, on, APPROVAL,
        act=lambda _: programme_events.approve_sign_off(
            session, staff_id=staff_id, sign_off_id=sign_off_id, on=on,
            actor_id=viewer.staff_id, policies=request.app.state.policies),
        done=lambda record: done_url(staff_id, "approved", record.signed_on),
    )


@router.post("/nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke",
             include_in_schema=False)
async def revoke_sign_off(
    staff_id: int, sign_off_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """Withdraw the sign-off (or a proposal awaiting approval), with the reason."""
    on = today()

    def act(form: SignOffRevokeRequest) -> date:
        record: SignOff = programme_events.revoke_sign_off(
            session, staff_id=staff_id, sign_off_id=sign_off_id, data=form, on=on,
            actor_id=viewer.staff_id, policies=request.app.state.policies,
        )
        assert record.revoked_on is not None
        return record.revoked_on

    return await _submit(
        request, session, viewer, staff_id, on, REVOCATION, act=act,
        done=lambda revoked_on: done_url(staff_id, "revoked", revoked_on),
    )


def _end(
    request: Request, session: Session, viewer: Viewer, staff_id: int,
    questions: Questions[M], service: Callable[..., tuple[Enrolment, list[Any]]], done: str,
) -> Awaitable[Response]:
    """Withdraw or complete: the programme ends on the day given and protected time booked
    after it is cancelled; the page says how many bookings that was."""
    on = today()

    def act(form: M) -> tuple[date, int]:
        enrolment, cancelled = service(session, staff_id=staff_id, data=form, on=on,
                                       policies=request.app.state.policies,
                                       actor_id=viewer.staff_id)
        assert enrolment.ended_on is not None
        return enrolment.ended_on, len(cancelled)

    return _submit(request, session, viewer, staff_id, on, questions, act=act,
                   done=lambda ended: done_url(staff_id, done, *ended))


@router.post("/nqsws/{staff_id}/programme/withdraw", include_in_schema=False)
async def withdraw(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """The NQSW leaves the programme, with the reason."""
    return await _end(request, session, viewer, staff_id, WITHDRAWAL,
                      programme_events.withdraw, "withdrawn")


@router.post("/nqsws/{staff_id}/programme/complete", include_in_schema=False)
async def complete(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    """The programme is finished, with its outcome."""
    return await _end(request, session, viewer, staff_id, COMPLETION,
                      programme_events.complete, "completed")
