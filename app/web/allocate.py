"""Allocating a case: the what-if shows before the manager submits, and a refusal says why.

The page asks the allocation services the same question the API does (`allocation_judge`
to check, then `allocation_write` to write under the NQSW's lock), so what the manager
is shown is exactly what will be enforced.
Who may allocate, and to which worker, is the page table's rule (app/auth/page_access.py);
the case is named by its reference, so it is checked here, with the same decision
(`page_guard.within_reach`): a case out of reach reads as one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import Session

from app.auth.page_guard import within_reach
from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models import Staff
from app.repositories import case as case_repository
from app.repositories import staff as staff_repository
from app.repositories.staff import enrolled_nqsws
from app.services import allocation_judge, allocation_write
from app.services.allocation_types import PolicyBlocked
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import FormErrors, domain_errors, parse_form
from app.web.htmx import is_htmx
from app.web.identity import principal_of, visible_team_ids
from app.web.submit import Questions, Refusal, Refused, answers, submit
from app.web.summaries import titled
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

LABELS = {
    "case_reference": "Case reference",
    "worker_id": "Worker",
    "role": "Role on the case",
    "start_date": "Start date",
    "reason": "Reason",
}
FIELD_NAMES = {"case_id": "case_reference", "override_reason": "reason"}


class AllocationForm(BaseModel):
    case_reference: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    worker_id: int
    role: Literal["holder", "co_worker"] = "holder"
    start_date: date = Field(default_factory=today)
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


ALLOCATION = Questions(AllocationForm, LABELS, rename=FIELD_NAMES)


class CheckForm(BaseModel):
    """The what-if only needs what has been chosen so far."""

    case_reference: str | None = None
    worker_id: int | None = None
    role: Literal["holder", "co_worker"] = "holder"
    start_date: date | None = None


def case_in_reach(session: Session, viewer: Viewer, reference: str) -> Any | None:
    """The case with this reference, if the person reaches it (as the API's allocation
    rule requires); otherwise None, exactly as for a reference that does not exist."""
    case = case_repository.case_by_reference(session, reference)
    if case is None or case.id is None:
        return None
    if not within_reach(session, principal_of(viewer), "case", case.id):
        return None
    return case


def form_options(session: Session, viewer: Viewer, on: date) -> dict[str, Any]:
    team_ids = visible_team_ids(viewer)
    workers = enrolled_nqsws(session, on=on, team_ids=team_ids)
    return {
        "workers": [(w.id, w.name) for w in workers],
        "cases": case_repository.open_cases(session, on, team_ids=team_ids),
    }


def whatif(
    session: Session, viewer: Viewer, policies: Any, form: CheckForm
) -> dict[str, Any]:
    """The engine's verdict on the proposal, or what is still missing to give one."""
    if not form.case_reference or not form.worker_id:
        return {"state": "incomplete"}
    case = case_in_reach(session, viewer, form.case_reference)
    if case is None or case.id is None:
        return {"state": "unknown_case", "reference": form.case_reference}
    worker = staff_repository.person(session, form.worker_id)
    if worker is None:
        return {"state": "unknown_worker"}
    on = form.start_date or today()
    try:
        decision = allocation_judge.check_allocation(
            session, policies=policies, case_id=case.id, worker_id=form.worker_id,
            role=form.role, on=on,
        )
    except DomainError as exc:
        return {"state": "refused", "message": exc.message}
    return decision_view(decision, case=case, worker=worker, role=form.role, on=on,
                         policies=policies, viewer=viewer)


def decision_view(
    decision: Any, *, case: Any, worker: Staff, role: str, on: date, policies: Any,
    viewer: Viewer,
) -> dict[str, Any]:
    findings = titled(decision.finding_views(), policies)
    for finding in findings:
        # The check covers the allocation's whole period: say when a later date breaks it.
        if finding.get("on") not in (None, on):
            when = finding["on"]
            finding["reason"] = f"On {when.day} {when:%B %Y}: {finding['reason']}"
    caused = [f for f in findings if f["caused_by_proposal"]]
    return {
        "state": "checked",
        "enrolled": decision.enrolled,
        "outcome": decision.outcome.value,
        "caused": caused,
        "others": [f for f in findings if not f["caused_by_proposal"] and f["outcome"] != "ok"],
        "case": case,
        "worker": worker,
        "role": role,
        "on": on,
        "override_roles": sorted(decision.override_roles()),
        "viewer_may_override": viewer.role in decision.override_roles(),
    }


def page(
    request: Request, session: Session, viewer: Viewer, *, values: dict[str, Any],
    errors: FormErrors | None = None, result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    on = today()
    return render(request, "pages/allocate.html", {
        "title": "Allocate a case",
        "nav_key": "allocate",
        "values": values,
        "errors": errors or FormErrors(),
        "result": result or {"state": "incomplete"},
        "today": on,
        **form_options(session, viewer, on),
    }, status_code=status_code, block="allocate_form")


@router.get("/allocate", include_in_schema=False)
def allocate_page(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
    worker_id: int | None = None, case_reference: str | None = None,
) -> Response:
    values = {"worker_id": worker_id or "", "case_reference": case_reference or "",
              "role": "holder", "start_date": today().isoformat()}
    check, _ = parse_form(CheckForm, values)
    result = whatif(session, viewer, policies, check) if check else None
    return page(request, session, viewer, values=values, result=result)


@router.post("/allocate/check", include_in_schema=False)
async def allocate_check(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep
) -> Response:
    """The what-if panel, refreshed as the manager picks (never writes); without htmx,
    the whole page with the panel filled in."""
    data = await answers(request)
    check, errors = parse_form(CheckForm, data, LABELS)
    result = whatif(session, viewer, policies, check) if check else {
        "state": "invalid", "messages": [m for _, m in errors.summary()]}
    if not is_htmx(request):
        return page(request, session, viewer, values=data, result=result)
    return render(request, "pages/allocate.html", {"result": result}, block="whatif")


@router.post("/allocate", include_in_schema=False)
async def allocate_submit(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep
) -> Response:
    def allocate(form: AllocationForm) -> Any:
        """Check what the page itself answers for (the case, the worker, a reason for a
        warning), then write; a firm limit's refusal is shown with the engine's verdict."""
        errors = FormErrors()
        case = case_in_reach(session, viewer, form.case_reference)
        worker = staff_repository.person(session, form.worker_id)
        if case is None or case.id is None:
            errors.add("case_reference",
                       f"There is no case with reference {form.case_reference}")
        if worker is None:
            errors.add("worker_id", "Select a worker from your teams")
        if errors:
            raise Refused(errors)
        assert case is not None and case.id is not None and worker is not None
        reason = (form.reason or "").strip() or None
        check = CheckForm(case_reference=form.case_reference, worker_id=form.worker_id,
                          role=form.role, start_date=form.start_date)
        result = whatif(session, viewer, policies, check)
        if result.get("state") == "checked" and result["outcome"] == "warn" and reason is None:
            errors.add("reason", "Give a reason for going beyond the limit: it is recorded "
                                 "with the allocation")
            raise Refused(errors, result=result)
        try:
            written = allocation_write.create_allocation(
                session, policies=policies, case_id=case.id, worker_id=form.worker_id,
                role=form.role, start_date=form.start_date, override_reason=reason,
                allocated_by_id=viewer.staff_id,
            )
        except PolicyBlocked as exc:
            raise blocked(exc, case=case, worker=worker, form=form, policies=policies,
                          viewer=viewer) from exc
        except DomainError as exc:
            raise Refused(domain_errors(exc, rename=FIELD_NAMES), exc.status_code,
                          result=result) from exc
        outcome = written.decision.outcome.value
        return f"/nqsws/{form.worker_id}?allocated={case.reference}&outcome={outcome}"

    def page_again(refused: Refusal) -> Response:
        return page(request, session, viewer, values=refused.values, errors=refused.errors,
                    result=refused.shown.get("result"), status_code=refused.status_code)

    return await submit(request, session, ALLOCATION, act=allocate, done=str, page=page_again)


def blocked(
    exc: PolicyBlocked, *, case: Any, worker: Staff, form: AllocationForm, policies: Any,
    viewer: Viewer,
) -> Refused:
    """A firm limit refused the allocation: who may overrule it, beside the question they
    answer (the reason, if the manager may; otherwise the case)."""
    result = decision_view(exc.decision, case=case, worker=worker, role=form.role,
                           on=form.start_date, policies=policies, viewer=viewer)
    errors = FormErrors()
    if result["viewer_may_override"]:
        message = ("This allocation breaks a firm limit. To go ahead, give your reason "
                   "for overriding it")
    else:
        who = " or ".join(r.replace("_", " ") for r in result["override_roles"]) or "nobody"
        message = f"This allocation breaks a firm limit. Only a {who} can override it"
    errors.add("reason" if result["viewer_may_override"] else "case_reference", message)
    return Refused(errors, exc.status_code, result=result)
