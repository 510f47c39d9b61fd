"""Individual adjustments on pages: a team manager proposes, the named role approves.

An NQSW's adjustments page lists their agreements (in force, waiting for a decision,
and the rest: ended, refused, withdrawn), each saying plainly whether its number is the
final figure (as agreed) or scaled by their FTE (pro rata), and what it means for them
today: the engine's own figure (app.services.adjustments.todays_meanings), never worked
out here. A team manager proposes one; the ASYE coordinator (or a senior manager)
records one directly; the role the policy names approves or refuses a proposal on its
own page, where its proposer may withdraw it and an approved one may be ended.

Every form calls the service the API calls, so the checks are the same; who may use
each form is the API route's rule, applied by the page access table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.models import Adjustment
from app.policy.adjustment_approval import approver_roles
from app.policy.adjustments import adjustable_figures, parameter_words
from app.repositories.staff import people_by_id
from app.schemas.adjustment import (
    AdjustmentCreate,
    AdjustmentEnd,
    AdjustmentRefuse,
    AdjustmentWithdraw,
)
from app.services import adjustments as service
from app.services import programme_events
from app.web import access, outcome, permits
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.forms import FormErrors, dated
from app.web.submit import NoAnswers, Questions, again, submit
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

LIST = "GET /nqsws/{staff_id}/adjustments"
PROPOSE = "POST /nqsws/{staff_id}/adjustments/propose"
RECORD = "POST /nqsws/{staff_id}/adjustments/new"
APPROVE = "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/approve"
REFUSE = "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/refuse"
WITHDRAW = "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw"
END = "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/end"

DONE = {"proposed", "recorded", "approved", "refused", "withdrawn", "ended"}
APPLIES_AS = [
    ("as_agreed", "As agreed: the number is their final figure, whatever their hours"),
    ("pro_rata", "Pro rata: scale the number by their FTE, as the policy's own figures are"),
]
LABELS = {"figure": "What to change", "value": "The agreed number",
          "applies_as": "How the number applies", "reason": "Why it was agreed",
          "valid_from": "The first day it applies", "valid_to": "The last day it applies"}
# The service names the policy and the parameter; the page asks for both in one question.
FIELDS = {"policy_id": "figure", "parameter": "figure"}


def _number(text: Any) -> Any:
    """What was typed as a number when it is one (the engine checks what kind it needs)."""
    if not isinstance(text, str):
        return text
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text.strip() or None


def _agreement_fields(values: dict[str, Any]) -> dict[str, Any]:
    policy_id, _, parameter = str(values.get("figure", "")).partition("|")
    return {"policy_id": policy_id, "parameter": parameter,
            "value": _number(values.get("value", "")),
            "applies_as": values.get("applies_as", ""), "reason": values.get("reason", ""),
            "valid_from": values.get("valid_from", ""), "valid_to": values.get("valid_to", "")}


AGREEMENT = Questions(
    AdjustmentCreate, {**LABELS, "policy_id": LABELS["figure"],
                       "parameter": LABELS["figure"]},
    {"policy_id", "parameter", "applies_as"}, wanted=dated(_agreement_fields), rename=FIELDS,
    messages={"figure": "Select what to change", "value": "Enter the agreed number"},
)
REFUSAL = Questions(AdjustmentRefuse, {"reason": "Why it is refused"})
WITHDRAWAL = Questions(AdjustmentWithdraw, {"reason": "Why you are withdrawing it"})
ENDING = Questions(AdjustmentEnd, {"on": "The last day it applies"}, wanted=dated(
    lambda values: {"on": values.get("on", "")}))


def _programme(session: Session, staff_id: int) -> str:
    _, enrolment = programme_events.nqsw_enrolment(session, staff_id)
    return enrolment.programme


def _view(row: Adjustment, policies: Any, on: date) -> dict[str, Any]:
    """One adjustment in words: which policy, which figure, where it stands on `on`."""
    title = (policies.policy(row.policy_id).title if row.policy_id in policies
             else row.policy_id)
    noun = ("allowance" if row.parameter.endswith(".max_points")
            else "cap" if row.parameter.endswith(".cap") else "figure")
    if row.status == service.Status.approved:
        if service.in_force_on(row, on):
            status, tag = "In force", "govuk-tag--green"
        elif row.valid_from > on:
            status, tag = "Begins later", "govuk-tag--blue"
        else:
            status, tag = "Ended", "govuk-tag--grey"
    else:
        status, tag = {
            service.Status.pending: ("Waiting for a decision", "govuk-tag--yellow"),
            service.Status.refused: ("Refused", "govuk-tag--red"),
        }.get(service.Status(row.status), ("Withdrawn", "govuk-tag--grey"))
    return {
        "row": row,
        "policy_title": title,
        "what": parameter_words(policies, row.policy_id, row.parameter),
        "pro_rata": row.applies_as == "pro_rata",
        "noun": noun,
        "status": status,
        "tag": tag,
    }


def _sorted(rows: list[Adjustment], on: date) -> dict[str, list[Adjustment]]:
    """In force on the date, waiting for a decision, and the rest (ended, not yet begun,
    refused, withdrawn)."""
    groups: dict[str, list[Adjustment]] = {"in_force": [], "pending": [], "other": []}
    for row in rows:
        if service.in_force_on(row, on):
            groups["in_force"].append(row)
        elif row.status == service.Status.pending:
            groups["pending"].append(row)
        else:
            groups["other"].append(row)
    return groups


@router.get("/nqsws/{staff_id}/adjustments", include_in_schema=False)
def adjustments(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
    policies: PoliciesDep,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    rows = service.list_adjustments(session=session, staff_id=staff_id, on=on)
    measures, meanings = service.todays_meanings(session, policies=policies,
                                                 staff_id=staff_id, on=on, rows=rows)
    people = people_by_id(session, [r.proposed_by_id for r in rows]
                          + [r.decided_by_id for r in rows])
    groups = _sorted(rows, on)
    done, done_day = outcome.done_message(request, DONE)
    return render(request, "pages/adjustments.html", {
        **access.whose(viewer, nqsw, staff_id, "Your individual adjustments",
                       "Individual adjustments"),
        "groups": {key: [_view(r, policies, on) for r in value]
                   for key, value in groups.items()},
        "meanings": meanings,
        "measures": measures,
        "people": people,
        "may_propose": permits.may(viewer, PROPOSE, staff_id),
        "may_record": permits.may(viewer, RECORD, staff_id),
        "approvers": sorted({service.roles_words(approver_roles(policies, pid)) for pid, _, _, _
                             in adjustable_figures(policies, _programme(session, staff_id))}),
        "done": done,
        "done_day": done_day,
        "on": on,
        "is_today": on == today(),
    })


# ---- proposing, or recording directly ----------------------------------------------------


def form_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, *, policies: Any,
    direct: bool, values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    figures = adjustable_figures(policies, _programme(session, staff_id))
    heading = "Record an individual adjustment" if direct else "Propose an individual adjustment"
    return render(request, "pages/adjustment_form.html", {
        "title": f"{heading}: {nqsw.name}",
        "heading": heading,
        "nav_key": "nqsws",
        "nqsw": nqsw,
        "direct": direct,
        "action": f"/nqsws/{staff_id}/adjustments/{'new' if direct else 'propose'}",
        "figures": [(f"{pid}|{param}", f"{words} (the policy says {value})")
                    for pid, param, words, value in figures],
        "applies_as": APPLIES_AS,
        "approvers": sorted({service.roles_words(approver_roles(policies, pid))
                             for pid, _, _, _ in figures}),
        "values": {"applies_as": "as_agreed", "valid_from": today().isoformat(),
                   **(values or {})},
        "errors": errors or FormErrors(),
    }, status_code=status_code)


def _done(staff_id: int, done: str) -> Callable[[Adjustment], str]:
    def url(row: Adjustment) -> str:
        return outcome.done_url(f"/nqsws/{staff_id}/adjustments/{row.id}", done, today())

    return url


async def _agree(
    request: Request, session: Session, viewer: Viewer, staff_id: int, policies: Any, *,
    direct: bool,
) -> Response:
    """Propose it (it waits, not in force, for the role the policy names, who is told), or
    record it directly with the caller's approval (in force between its dates from now)."""

    def act(form: AdjustmentCreate) -> Adjustment:
        if direct:
            return service.create_adjustment(session=session, staff_id=staff_id, data=form,
                                             policies=policies, on=today(),
                                             actor_id=viewer.staff_id)
        return service.propose_adjustment(
            session=session, staff_id=staff_id, data=form, policies=policies,
            actor_id=viewer.staff_id, base_url=request.app.state.settings.base_url)

    return await submit(request, session, AGREEMENT, act=act,
                        done=_done(staff_id, "recorded" if direct else "proposed"),
                        page=again(form_page, request, session, viewer, staff_id,
                                   policies=policies, direct=direct))


def _direct(request: Request) -> bool:
    """Recording directly (`.../new`) rather than proposing (`.../propose`)."""
    return request.url.path.endswith("/new")


@router.get("/nqsws/{staff_id}/adjustments/propose", include_in_schema=False)
@router.get("/nqsws/{staff_id}/adjustments/new", include_in_schema=False)
def agreement_form(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    return form_page(request, session, viewer, staff_id, policies=policies,
                     direct=_direct(request))


@router.post("/nqsws/{staff_id}/adjustments/propose", include_in_schema=False)
@router.post("/nqsws/{staff_id}/adjustments/new", include_in_schema=False)
async def agree(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
    policies: PoliciesDep,
) -> Response:
    return await _agree(request, session, viewer, staff_id, policies, direct=_direct(request))


# ---- one adjustment: deciding, withdrawing, ending ---------------------------------------


def detail_page(
    request: Request, session: Session, viewer: Viewer, staff_id: int, adjustment_id: int, *,
    on: date, policies: Any, values: dict[str, Any] | None = None,
    errors: FormErrors | None = None, status_code: int = 200,
) -> Response:
    nqsw = access.nqsw_for(session, staff_id)
    row = service.get_adjustment(session=session, staff_id=staff_id,
                                 adjustment_id=adjustment_id)
    measures, meanings = service.todays_meanings(session, policies=policies,
                                                 staff_id=staff_id, on=on, rows=[row])
    people = people_by_id(session, [row.proposed_by_id, row.decided_by_id,
                                    row.approved_by_id])
    pending = row.status == service.Status.pending
    roles = approver_roles(policies, row.policy_id)
    mine = viewer.staff_id is not None and viewer.staff_id == row.proposed_by_id
    decides = (pending and not mine and viewer.role in roles
               and permits.may(viewer, APPROVE, staff_id))
    done, done_day = outcome.done_message(request, DONE)
    return render(request, "pages/adjustment.html", {
        "title": f"Individual adjustment: {nqsw.name}",
        "nav_key": "nqsws" if viewer.staff_id != staff_id else "nqsw",
        "nqsw": nqsw,
        "view": _view(row, policies, on),
        "meaning": meanings.get(adjustment_id),
        "measures": measures,
        "people": people,
        "approvers": service.roles_words(roles),
        "in_force": service.in_force_on(row, on),
        "may_decide": decides,
        "may_withdraw": pending and mine and permits.may(viewer, WITHDRAW, staff_id),
        "may_end": (row.status == service.Status.approved
                    and (row.valid_to is None or row.valid_to >= on)
                    and permits.may(viewer, END, staff_id)),
        "values": {"on": on.isoformat(), **(values or {})},
        "errors": errors or FormErrors(),
        "done": done,
        "done_day": done_day,
        "on": on,
    }, status_code=status_code)


@router.get("/nqsws/{staff_id}/adjustments/{adjustment_id}", include_in_schema=False)
def adjustment(
    staff_id: int, adjustment_id: int, request: Request, session: SessionDep,
    viewer: ViewerDep, on: OnDep, policies: PoliciesDep,
) -> Response:
    return detail_page(request, session, viewer, staff_id, adjustment_id, on=on,
                       policies=policies)


def _again(request: Request, session: Session, viewer: Viewer, staff_id: int,
           adjustment_id: int, policies: Any) -> Callable[..., Response]:
    return again(detail_page, request, session, viewer, staff_id, adjustment_id, on=today(),
                 policies=policies)


# Each decision's past tense (what the page then says was done).
DECISIONS = {"approve": "approved", "refuse": "refused", "withdraw": "withdrawn",
             "end": "ended"}


@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/approve", include_in_schema=False)
@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/refuse", include_in_schema=False)
@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw", include_in_schema=False)
@router.post("/nqsws/{staff_id}/adjustments/{adjustment_id}/end", include_in_schema=False)
async def decide(
    staff_id: int, adjustment_id: int, request: Request, session: SessionDep,
    viewer: ViewerDep, policies: PoliciesDep,
) -> Response:
    """Approve or refuse a proposal, withdraw one's own, or end an approved adjustment
    after the day given (its last day in force; the record stays): the service the API's
    route of the same name calls, in the signed-in person's name."""
    decision = request.url.path.rsplit("/", 1)[-1]
    ids = {"session": session, "staff_id": staff_id, "adjustment_id": adjustment_id,
           "policies": policies, "actor_id": viewer.staff_id}
    base_url = request.app.state.settings.base_url
    acts: dict[str, tuple[Questions[Any], Callable[[Any], Adjustment]]] = {
        "approve": (Questions(NoAnswers), lambda _: service.approve_adjustment(
            **ids, on=today(), base_url=base_url)),
        "refuse": (REFUSAL, lambda form: service.refuse_adjustment(
            **ids, reason=form.reason, base_url=base_url)),
        "withdraw": (WITHDRAWAL, lambda form: service.withdraw_adjustment(
            **ids, reason=form.reason)),
        "end": (ENDING, lambda form: service.end_adjustment(
            **ids, last_day=form.on or today(), on=today())),
    }
    questions, act = acts[decision]
    return await submit(request, session, questions, act=act,
                        done=_done(staff_id, DECISIONS[decision]),
                        page=_again(request, session, viewer, staff_id, adjustment_id, policies))
