"""A breach's own page, where people acknowledge or except it, and an NQSW's own list of
the breaches about them (read-only: the promises broken for them, and what has been done
about each).

Who may see and do what is the page access table's rule (app/auth/page_access.py),
enforced before a handler runs; the buttons follow the same table (app.web.permits).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, StringConstraints
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.models.breach import BreachStatus
from app.repositories.staff import people_by_id
from app.services import breaches as breach_service
from app.services.escalation import ESCALATING_STATUSES
from app.web import access, permits
from app.web.breaches import PAGE_SIZE, rule_choices
from app.web.deps import OnDep, ViewerDep
from app.web.forms import FormErrors, as_sentence
from app.web.submit import Questions, again, submit
from app.web.templating import long_date, render
from app.web.viewer import Viewer

router = APIRouter()


# --- one breach -------------------------------------------------------------------------


class AcknowledgeForm(BaseModel):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ExceptionForm(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=4000)]
    expires_on: date


EXCEPTION_LABELS = {"reason": "Reason for the exception",
                    "expires_on": "Expiry date"}
# A refusal about the breach's state is said beside the form's one free-text question.
ACKNOWLEDGE = Questions(AcknowledgeForm, {"note": "A note"}, rename={"status": "note"})
EXCEPTION = Questions(ExceptionForm, EXCEPTION_LABELS, rename={"status": "reason", "": "reason"})


# What can still be done about a breach, by its status: only an open breach is acknowledged
# (acknowledging twice says nothing new); an exception is agreed on one that still climbs
# or that a manager overrode (by a second person), not again on an excepted one, and
# nothing is done to a resolved one.
EXCEPTABLE = frozenset({BreachStatus.open.value, BreachStatus.acknowledged.value,
                        BreachStatus.overridden.value})


def escalation_words(breach: dict[str, Any]) -> str | None:
    """What the escalation ladder has done or will do with this breach; None when there
    is nothing to say (resolved without having climbed).

    Only open and acknowledged breaches climb (`escalation.ESCALATING_STATUSES`): an
    overridden or excepted one has been decided about by someone with the right role,
    so no date it "goes to the senior manager" is shown for them.
    """
    status = breach["status"]
    if breach.get("escalation_level"):
        return f"Escalated to the senior manager on {long_date(breach.get('escalated_on'))}"
    if status in ESCALATING_STATUSES:
        due = breach.get("escalation_due_on")
        return (f"Goes to the senior manager on {long_date(due)} if not put right" if due
                else "Team manager told")
    if status == BreachStatus.overridden.value:
        return "Does not escalate: the limit was overridden with a recorded reason"
    if status == BreachStatus.excepted.value:
        return "Does not escalate while the exception holds"
    return None


def may_acknowledge(viewer: Viewer, breach: dict[str, Any]) -> bool:
    """Managing a team's work (as the page table has it): team and senior managers."""
    return permits.may(viewer, permits.ACKNOWLEDGE, breach["staff_id"])


def may_grant_exception(viewer: Viewer, breach: dict[str, Any]) -> bool:
    """The approver is the person granting it: a senior manager or an ASYE coordinator."""
    return permits.may(viewer, permits.GRANT_EXCEPTION, breach["staff_id"])


def detail_page(
    request: Request, session: Session, viewer: Viewer, breach_id: int, on: date, *,
    ack_errors: FormErrors | None = None, exc_errors: FormErrors | None = None,
    values: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:
    breach = breach_service.get_breach(session, breach_id, on=on)
    policies = request.app.state.policies
    titles = dict(rule_choices(policies))
    actors = people_by_id(session, [e.actor_id for e in breach["history"]] + [
        breach.get("acknowledged_by_id"), breach.get("exception_approver_id"),
        breach.get("override_by_id")])
    errors = FormErrors()
    for source in (ack_errors, exc_errors):
        for name, message in (source.summary() if source else []):
            errors.add(name, message)
    defaults = {"expires_on": (on + timedelta(days=28)).isoformat()}
    status = breach["status"]
    may_except = status in EXCEPTABLE and may_grant_exception(viewer, breach)
    # Said beside the form before anyone types a reason: the service refuses it anyway.
    refusal = breach_service.exception_refusal(
        session, breach_id=breach_id, override_by_id=breach.get("override_by_id"),
        staff_id=viewer.staff_id, separation=policies.separation,
    ) if may_except else None
    return render(request, "pages/breach.html", {
        "title": f"Breach {breach_id}",
        "nav_key": "nqsw" if viewer.staff_id == breach["staff_id"] else "breaches",
        "own": viewer.staff_id == breach["staff_id"],
        "breach": breach,
        "rule_title": titles.get(f"{breach['policy_id']}/{breach['rule_id']}",
                                 breach["rule_id"]),
        "actors": actors,
        "errors": errors,
        "ack_errors": ack_errors or FormErrors(),
        "exc_errors": exc_errors or FormErrors(),
        "values": {**defaults, **(values or {})},
        "may_except": may_except,
        "separation_note": as_sentence(refusal) if refusal else None,
        "may_acknowledge": status == BreachStatus.open.value
        and may_acknowledge(viewer, breach),
        "escalation": escalation_words(breach),
        "began_on": breach.get("began_on"),
        "done": request.query_params.get("done"),
        "on": on,
    }, status_code=status_code)


@router.get("/breaches/{breach_id}", include_in_schema=False)
def breach_page(
    breach_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep
) -> Response:
    return detail_page(request, session, viewer, breach_id, on)


@router.post("/breaches/{breach_id}/acknowledge", include_in_schema=False)
async def breach_acknowledge(
    breach_id: int, request: Request, session: SessionDep, viewer: ViewerDep
) -> Response:
    on = today()
    return await submit(
        request, session, ACKNOWLEDGE,
        act=lambda form: breach_service.acknowledge(
            session, breach_id=breach_id, note=form.note, actor_id=viewer.staff_id, on=on),
        done=lambda _: f"/breaches/{breach_id}?done=acknowledged",
        page=again(detail_page, request, session, viewer, breach_id, on, errors_as="ack_errors"),
    )


@router.post("/breaches/{breach_id}/exception", include_in_schema=False)
async def breach_exception(
    breach_id: int, request: Request, session: SessionDep, viewer: ViewerDep
) -> Response:
    on = today()
    approver_id = viewer.staff_id
    assert approver_id is not None

    return await submit(
        request, session, EXCEPTION,
        act=lambda form: breach_service.grant_exception(
            session, breach_id=breach_id, approver_id=approver_id, reason=form.reason,
            expires_on=form.expires_on, on=on,
            separation=request.app.state.policies.separation),
        done=lambda _: f"/breaches/{breach_id}?done=excepted",
        page=again(detail_page, request, session, viewer, breach_id, on, errors_as="exc_errors"),
    )


# --- an NQSW's own breaches ---------------------------------------------------------------


@router.get("/nqsws/{staff_id}/breaches", include_in_schema=False)
def own_breaches(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep
) -> Response:
    """Every breach about the NQSW, newest first: the page table lets only the NQSW
    themselves open it (their managers have the dashboard)."""
    nqsw = access.nqsw_for(session, staff_id)
    filters = breach_service.BreachFilters(staff_id=staff_id)
    rows, count = breach_service.list_breaches(session, filters=filters, on=on,
                                               sort="-opened_on", limit=PAGE_SIZE)
    return render(request, "pages/nqsw_breaches.html", {
        **access.whose(viewer, nqsw, staff_id, "Promises broken for you",
                       "Breaches"),
        "rows": rows,
        "count": count,
        "unresolved": [r for r in rows if r["status"] != "resolved"],
        "resolved": [r for r in rows if r["status"] == "resolved"],
        "rule_titles": dict(rule_choices(request.app.state.policies)),
        "on": on,
    })
