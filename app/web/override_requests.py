"""Override requests on pages: ask, see, approve or refuse; and confirming an override.

A team manager whose allocation a firm limit refuses opens `/override-requests/new`
with the allocation in the query (the allocation page links there), reads why it is
refused and who decides, and asks with a reason. The people who may override are told,
open the request from their list or the email, see it filled in with what the engine
says now, and approve or refuse it with their own reason. Whoever asked can withdraw it
while it waits.

A manager who may override a limit themselves does it on the allocation page; before the
allocation is written they confirm on `/allocate/override` what it will allow and which
breach it will open, so that an override is never one click away from the form.

Everything is decided by the same services as the API (`override_requests`,
`allocation_write`); who may open each page is the page access table's rule.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models.override import OverrideRequest, OverrideRequestStatus
from app.policy.overrides import overrides_of
from app.repositories import case as case_repository
from app.repositories import staff as staff_repository
from app.services import allocation_write
from app.services import override_requests as service
from app.services.allocation_types import PolicyBlocked
from app.services.override_reason import require_reason
from app.web.allocate import ALLOCATION, AllocationForm, CheckForm, case_in_reach, whatif
from app.web.allocate import page as allocate_page
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import FormErrors, domain_errors
from app.web.identity import principal_of
from app.web.override_confirm import confirm_page, override_page
from app.web.submit import NoAnswers, Questions, Refusal, Refused, again, answers, submit
from app.web.summaries import titled
from app.web.viewer import Viewer

router = APIRouter()

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class RequestForm(BaseModel):
    case_id: int
    staff_id: int
    role: Literal["holder", "co_worker"] = "holder"
    starts_on: date = Field(default_factory=today)
    reason: Reason = ""


class DecisionForm(BaseModel):
    reason: Reason = ""


ASK = Questions(RequestForm, {"reason": "Why the limit should be set aside for this case"},
                rename={"worker_id": "staff_id", "": "reason", "status": "reason"})
DECIDE = Questions(DecisionForm, {"reason": "Your reason"},
                   rename={"": "reason", "status": "reason", "case_id": "reason",
                           "worker_id": "reason", "role": "reason", "start_date": "reason"})
WITHDRAW = Questions(NoAnswers, rename={"": "withdraw", "status": "withdraw"})


def _reach(viewer: Viewer) -> Any:
    principal = principal_of(viewer)
    return principal.reach(today()) if principal is not None else None


def _blocked_view(session: Session, policies: Any, *, case_id: int, worker_id: int,
                  role: str, starts_on: date) -> dict[str, Any]:
    """The engine's verdict on the allocation now, as the request pages show it."""
    try:
        judged = service.judge(session, policies=policies, case_id=case_id,
                               worker_id=worker_id, role=role, starts_on=starts_on)
    except DomainError as exc:
        return {"state": "refused", "message": exc.message}
    decision = judged.decision
    caused = titled(decision.finding_views(decision.blocking), policies)
    for finding in caused:
        if finding.get("on") not in (None, starts_on):
            when = finding["on"]
            finding["reason"] = f"On {when.day} {when:%B %Y}: {finding['reason']}"
    return {
        "state": "blocked" if judged.blocked else decision.outcome.value,
        "findings": caused,
        "deciders": service.role_words(judged.override_roles),
        "override_roles": judged.override_roles,
        "case_reference": judged.case_reference,
        "worker": judged.worker,
    }


# --- asking ---------------------------------------------------------------------------------


def new_page(
    request: Request, session: Session, viewer: Viewer, policies: Any, *,
    values: dict[str, Any], errors: FormErrors | None = None, status_code: int = 200,
) -> Response:
    form, _unreadable = ASK.parse(values)
    verdict: dict[str, Any] = {"state": "incomplete"}
    if form is not None:
        case = case_repository.case_by_id(session, form.case_id)
        verdict = _blocked_view(session, policies, case_id=form.case_id,
                                worker_id=form.staff_id, role=form.role,
                                starts_on=form.starts_on) if case is not None else {
            "state": "refused", "message": f"There is no case {form.case_id}"}
        if case is not None and verdict["state"] != "refused":
            values = {**values, "case_reference": case.reference}
    settings = overrides_of(policies)
    return override_page(
        request, "pages/override_request_new.html", "Ask for an override", nav_key="allocate",
        status_code=status_code, form=form, verdict=verdict,
        values={"role": "holder", "starts_on": today().isoformat(), **values},
        viewer_may_override=viewer.role in verdict.get("override_roles", set()),
        min_length=settings.min_reason_length, errors=errors or FormErrors())


@router.get("/override-requests/new", include_in_schema=False)
def override_request_new(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
    case_id: str = "", staff_id: str = "", role: str = "holder", starts_on: str = "",
) -> Response:
    values = {"case_id": case_id, "staff_id": staff_id, "role": role or "holder",
              "starts_on": starts_on or today().isoformat()}
    return new_page(request, session, viewer, policies, values=values)


@router.post("/override-requests", include_in_schema=False)
async def override_request_create(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
) -> Response:
    def ask(form: RequestForm) -> OverrideRequest:
        return service.create_request(
            session, policies=policies, case_id=form.case_id, worker_id=form.staff_id,
            role=form.role, starts_on=form.starts_on, reason=form.reason,
            requester_id=viewer.staff_id)

    def page_again(refused: Refusal) -> Response:
        return new_page(request, session, viewer, policies, values=refused.values,
                        errors=refused.errors, status_code=refused.status_code)

    return await submit(request, session, ASK, act=ask,
                        done=lambda row: f"/override-requests/{row.id}?done=asked",
                        page=page_again)


# --- the list and one request -------------------------------------------------------------


@router.get("/override-requests", include_in_schema=False)
def override_request_list(
    request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    rows, count = service.list_requests(session, viewer_id=viewer.staff_id,
                                        reach=_reach(viewer), status=None, limit=200,
                                        offset=0)
    views = [service.view(session, row) for row in rows]
    waiting = OverrideRequestStatus.pending.value
    return override_page(
        request, "pages/override_requests.html", "Override requests",
        nav_key="override_requests", count=count,
        pending=[v for v in views if v["status"] == waiting],
        decided=[v for v in views if v["status"] != waiting])


def detail_page(
    request: Request, session: Session, viewer: Viewer, request_id: int, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    policies = request.app.state.policies
    row = service.get_request(session, request_id, viewer_id=viewer.staff_id,
                              reach=_reach(viewer))
    shown = service.view(session, row)
    pending = row.status == OverrideRequestStatus.pending.value
    person = staff_repository.person(session, viewer.staff_id)
    verdict = _blocked_view(session, policies, case_id=row.case_id, worker_id=row.worker_id,
                            role=row.role, starts_on=max(row.starts_on, today())
                            ) if pending else None
    return override_page(
        request, "pages/override_request.html", f"Override request {request_id}",
        nav_key="override_requests", status_code=status_code, req=shown, verdict=verdict,
        deciders=service.role_words(service.roles_of(row)),
        may_decide=service.may_decide(row, person),
        may_withdraw=pending and row.requested_by_id == viewer.staff_id,
        approve_from=max(row.starts_on, today()),
        min_length=overrides_of(policies).min_reason_length, values=values or {},
        errors=errors or FormErrors(), done=request.query_params.get("done"))


@router.get("/override-requests/{request_id}", include_in_schema=False)
def override_request_page(
    request_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
) -> Response:
    return detail_page(request, session, viewer, request_id)


def _decision_route(action: str) -> Any:
    async def decide(
        request_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
        policies: PoliciesDep,
    ) -> Response:
        # Out of reach reads as unknown, before anything is decided.
        service.get_request(session, request_id, viewer_id=viewer.staff_id,
                            reach=_reach(viewer))

        def act(form: Any) -> OverrideRequest:
            if action == "approve":
                return service.approve(session, policies=policies, request_id=request_id,
                                       approver_id=viewer.staff_id, reason=form.reason)
            if action == "refuse":
                return service.refuse(session, request_id=request_id,
                                      decider_id=viewer.staff_id, reason=form.reason)
            return service.withdraw(session, request_id=request_id,
                                    requester_id=viewer.staff_id)

        words = {"approve": "approved", "refuse": "refused", "withdraw": "withdrawn"}[action]
        questions: Questions[Any] = WITHDRAW if action == "withdraw" else DECIDE
        return await submit(
            request, session, questions, act=act,
            done=lambda _row: f"/override-requests/{request_id}?done={words}",
            page=again(detail_page, request, session, viewer, request_id),
        )

    decide.__name__ = f"override_request_{action}"
    return decide


for _action in ("approve", "refuse", "withdraw"):
    router.post(f"/override-requests/{{request_id}}/{_action}",
                include_in_schema=False)(_decision_route(_action))


# --- confirming an override made directly -------------------------------------------------


@router.post("/allocate/override", include_in_schema=False)
async def allocate_override(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
) -> Response:
    """The allocation form's override, in two steps: first what it will allow and which
    breach it will open, then ("Confirm override") the allocation, as the allocation page
    would write it. A reason shorter than the policy asks is said beside the reason."""
    values = await answers(request)
    form, errors = ALLOCATION.parse(values)

    def again_on_allocate(errors: FormErrors, result: Any = None,
                          status_code: int = 422) -> Response:
        return allocate_page(request, session, viewer, values=values, errors=errors,
                             result=result, status_code=status_code)

    if form is None:
        return again_on_allocate(errors)
    case = case_in_reach(session, viewer, form.case_reference)
    if case is None or case.id is None:
        errors.add("case_reference", f"There is no case with reference {form.case_reference}")
        return again_on_allocate(errors)
    result = whatif(session, viewer, policies, CheckForm(
        case_reference=form.case_reference, worker_id=form.worker_id, role=form.role,
        start_date=form.start_date))
    try:
        require_reason(policies, form.reason, field="reason")
    except DomainError as exc:
        errors.add("reason", exc.message)
        return again_on_allocate(errors, result)
    if result.get("state") != "checked" or result.get("outcome") != "block":
        errors.add("reason", "No firm limit refuses this allocation, so there is nothing "
                             "to override: select “Allocate case”")
        return again_on_allocate(errors, result)
    if not result.get("viewer_may_override"):
        errors.add("case_reference", "Only " + service.role_words(result["override_roles"])
                   + " can override this limit: ask for an override instead")
        return again_on_allocate(errors, result, 403)
    if values.get("confirmed") != "yes":
        return confirm_page(request, form, case, result)

    def allocate(_form: AllocationForm) -> str:
        try:
            allocation_write.create_allocation(
                session, policies=policies, case_id=case.id, worker_id=form.worker_id,
                role=form.role, start_date=form.start_date,
                override_reason=(form.reason or "").strip(), allocated_by_id=viewer.staff_id)
        except PolicyBlocked as exc:
            errors = FormErrors()
            errors.add("reason", exc.message)
            raise Refused(errors, exc.status_code) from exc
        except DomainError as exc:
            raise Refused(domain_errors(exc, rename={"case_id": "case_reference",
                                                     "override_reason": "reason"}),
                          exc.status_code) from exc
        return (f"/nqsws/{form.worker_id}?allocated={case.reference}&outcome=block")

    def page_again(refused: Refusal) -> Response:
        return again_on_allocate(refused.errors, result, refused.status_code)

    return await submit(request, session, ALLOCATION, act=allocate, done=str,
                        page=page_again)
