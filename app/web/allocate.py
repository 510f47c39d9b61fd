"""Allocating a case: the what-if shows before the manager submits, and a refusal says why.

The what-if is the write itself, rehearsed (`app.web.rehearsal`): `allocation_write`
runs with everything the form would send and is rolled back, so what the manager is
shown (allowed, a warning, a firm limit, or a refusal such as a case that already has a
holder) is exactly what submitting answers; the write then runs for real under the
NQSW's lock. Refusals are worded for people (names and dates, never record numbers)
by `refusal_in_words`, the same for the check and the write.
Who may allocate, and to which worker, is the page table's rule (app/auth/page_access.py);
the case is named by its reference, so it is checked here, with the same decision
(`page_guard.within_reach`): a case out of reach reads as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import Session

from app.auth.page_guard import within_reach
from app.auth.reach import Reach
from app.clock import today
from app.db import SessionDep
from app.errors import Conflict, DomainError
from app.models import Staff
from app.repositories import case as case_repository
from app.repositories import staff as staff_repository
from app.repositories.staff import enrolled_nqsws
from app.services import allocation_write
from app.services.allocation_types import Decision, PolicyBlocked, WriteResult
from app.services.candidates import HOLDING_ROLES
from app.services.override_reason import require_reason
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import FormErrors, as_sentence, parse_form
from app.web.htmx import is_htmx
from app.web.identity import principal_of, visible_team_ids
from app.web.override_confirm import confirm_page
from app.web.rehearsal import rehearse
from app.web.submit import Questions, Refusal, Refused, answers, submit
from app.web.summaries import titled
from app.web.templating import long_date, render
from app.web.viewer import Viewer

router = APIRouter()

# More than the workers of any manager's teams: the list is read in one page.
WORKER_LIMIT = 2000

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


def form_options(session: Session, viewer: Viewer, on: date, role: str) -> dict[str, Any]:
    """The workers and the cases to offer: for a holder, the open cases nobody holds;
    for a co-worker, every open case with who holds it."""
    team_ids = visible_team_ids(viewer)
    nqsws, others = worker_choices(session, on, team_ids)
    return {
        "worker_groups": [("NQSWs", nqsws), ("Other workers", others)],
        "cases": case_choices(session, on, team_ids, role),
        "picker_role": role,
    }


def worker_choices(
    session: Session, on: date, team_ids: list[int] | None
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Everyone in these teams (or every team) who may take a case, in post on `on`:
    the NQSWs on the programme first, whom the policies protect, then the other
    case-holding workers, as "Who could take this case?" offers them (its "Allocate"
    link names any of them). Each group by name."""
    nqsws = enrolled_nqsws(session, on=on, team_ids=team_ids)
    enrolled = {w.id for w in nqsws}
    scope = None if team_ids is None else Reach(teams=frozenset(team_ids))
    staff, _ = staff_repository.staff_page(
        session, on=on, limit=WORKER_LIMIT, offset=0,
        filters=staff_repository.StaffFilter(active=True), scope=scope,
    )
    others = [w for w in staff if w.role in HOLDING_ROLES and w.id not in enrolled]
    return ([(w.id, w.name) for w in nqsws if w.id is not None],
            [(w.id, w.name) for w in others if w.id is not None])


def case_choices(
    session: Session, on: date, team_ids: list[int] | None, role: str
) -> list[dict[str, Any]]:
    cases = case_repository.open_cases(session, on, team_ids=team_ids)
    holders = case_repository.case_holders(session, [c.id for c in cases if c.id], on)
    choices = []
    for case in cases:
        holder = holders.get(case.id or 0)
        if role == "holder" and holder is not None:
            continue
        choices.append({"case": case, "holder": holder})
    return choices


def whatif(
    session: Session, viewer: Viewer, policies: Any, form: CheckForm
) -> dict[str, Any]:
    """The write's own verdict on the proposal (rehearsed, nothing kept), or what is
    still missing to give one."""
    if not form.case_reference or not form.worker_id:
        return {"state": "incomplete"}
    case = case_in_reach(session, viewer, form.case_reference)
    if case is None or case.id is None:
        return {"state": "unknown_case", "reference": form.case_reference}
    worker = staff_repository.person(session, form.worker_id)
    if worker is None:
        return {"state": "unknown_worker"}
    on = form.start_date or today()
    case_id = case.id

    def write() -> WriteResult:
        return allocation_write.create_allocation(
            session, policies=policies, case_id=case_id, worker_id=form.worker_id or 0,
            role=form.role, start_date=on, allocated_by_id=viewer.staff_id,
        )

    return judged(session, write, case=case, worker=worker, role=form.role, on=on,
                  policies=policies, viewer=viewer)


def judged(
    session: Session, write: Callable[[], WriteResult], *, case: Any, worker: Staff,
    role: str, on: date, policies: Any, viewer: Viewer,
) -> dict[str, Any]:
    """What `write` would answer, rehearsed: its decision, or its refusal in words beside
    the question it is about (`field`, a name of the service's)."""
    try:
        decision = rehearse(session, write).decision
    except PolicyBlocked as exc:
        decision = exc.decision
    except DomainError as exc:
        field, message = refusal_in_words(session, exc, case=case, worker=worker, on=on)
        return {"state": "refused", "field": field, "message": message}
    return decision_view(decision, case=case, worker=worker, role=role, on=on,
                         policies=policies, viewer=viewer,
                         holder=holder_of(session, case, on))


def holder_of(session: Session, case: Any, on: date) -> Staff | None:
    return case_repository.case_holders(session, [case.id], on).get(case.id)


def refusal_in_words(
    session: Session, exc: DomainError, *, case: Any, worker: Staff, on: date,
) -> tuple[str, str]:
    """The field an allocation service refused and why, said with names and dates (its
    own message names records by number, for the API). A refusal not known here keeps
    the service's words, with its dates spelled out."""
    loc = [str(part) for part in exc.loc if part not in ("body", "query", "path")]
    field = loc[-1] if loc else ""
    reference = case.reference
    if field == "role":
        holder = holder_of(session, case, on)
        who = f", {holder.name}" if holder is not None and holder.id != worker.id else ""
        return field, (f"Case {reference} already has a holder{who}. End or reassign that "
                       "allocation first, or choose co-worker")
    if field == "case_id" and isinstance(exc, Conflict):
        return field, f"{worker.name} already works on case {reference}"
    if field == "case_id" and case.closed_on is not None and case.closed_on <= on:
        return field, f"Case {reference} was closed on {long_date(case.closed_on)}"
    if field == "start_date" and on < case.opened_on:
        return field, (f"Case {reference} was opened on {long_date(case.opened_on)}: "
                       "choose a start date on or after that")
    if field == "worker_id" and worker.leave_date is not None and worker.leave_date <= on:
        return field, f"{worker.name} left on {long_date(worker.leave_date)}"
    return field, as_sentence(exc.message)


def decision_view(
    decision: Decision, *, case: Any, worker: Staff, role: str, on: date, policies: Any,
    viewer: Viewer, holder: Staff | None = None,
) -> dict[str, Any]:
    findings = titled(decision.finding_views(), policies)
    for finding in findings:
        # The check covers the allocation's whole period: say when a later date breaks it.
        if finding.get("on") not in (None, on):
            finding["reason"] = f"On {long_date(finding['on'])}: {finding['reason']}"
    caused = [f for f in findings if f["caused_by_proposal"]]
    override_roles = sorted(decision.override_roles())
    blocked_for_others = decision.outcome.value == "block" and bool(override_roles)
    return {
        "state": "checked", "enrolled": decision.enrolled, "outcome": decision.outcome.value,
        "caused": caused, "case": case, "worker": worker, "role": role, "on": on,
        "others": [f for f in findings if not f["caused_by_proposal"] and f["outcome"] != "ok"],
        "holder": holder, "override_roles": override_roles,
        "viewer_may_override": viewer.role in decision.override_roles(),
        # Someone who may not override asks one who may (only a rule someone may override).
        "override_request": override_request_url(case.id, worker.id, role, on)
        if blocked_for_others else None,
    }


def override_request_url(case_id: int, staff_id: int | None, role: str, on: date) -> str:
    return "/override-requests/new?" + urlencode({
        "case_id": case_id, "staff_id": staff_id, "role": role, "starts_on": on.isoformat()})


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
        **form_options(session, viewer, on, chosen_role(values)),
    }, status_code=status_code, block="allocate_form")


def chosen_role(values: dict[str, Any]) -> str:
    return "co_worker" if values.get("role") == "co_worker" else "holder"


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
    # The cases offered change with the role: the list travels with the verdict.
    return render(request, "pages/allocate.html", {
        "result": result,
        **form_options(session, viewer, today(), chosen_role(data)),
    }, block="whatif")


@router.post("/allocate", include_in_schema=False)
async def allocate_submit(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep
) -> Response:
    def allocate(form: AllocationForm) -> Any:
        """Check what the page itself answers for (the case, the worker, a reason for a
        warning), then write; a refusal is worded as the check words it."""
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
        if result.get("state") == "refused":
            errors.add(FIELD_NAMES.get(result["field"], result["field"]), result["message"])
            raise Refused(errors, result=result)
        if (result.get("state") == "checked" and result["outcome"] == "block"
                and result.get("viewer_may_override") and reason is not None):
            # Setting a firm limit aside is never one click from the form: say what it
            # allows and which breach it opens, and write only on "Confirm override".
            require_reason(policies, reason, field="reason")
            raise ConfirmOverride(form, case, result)
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
            raise blocked(exc, case=case, worker=worker, role=form.role,
                          on=form.start_date, policies=policies, viewer=viewer,
                          field="case_reference") from exc
        except DomainError as exc:
            field, message = refusal_in_words(session, exc, case=case, worker=worker,
                                              on=form.start_date)
            errors.add(FIELD_NAMES.get(field, field), message)
            raise Refused(errors, exc.status_code, result=result) from exc
        outcome = written.decision.outcome.value
        if not written.decision.enrolled:
            # Only an NQSW has a programme page; anyone else's allocation shows on the case.
            return f"/cases/{case.id}"
        return f"/nqsws/{form.worker_id}?allocated={case.reference}&outcome={outcome}"

    def page_again(refused: Refusal) -> Response:
        return page(request, session, viewer, values=refused.values, errors=refused.errors,
                    result=refused.shown.get("result"), status_code=refused.status_code)

    try:
        return await submit(request, session, ALLOCATION, act=allocate, done=str,
                            page=page_again)
    except ConfirmOverride as confirm:
        return confirm_page(request, confirm.form, confirm.case, confirm.result)


class ConfirmOverride(Exception):
    """The allocation breaks a firm limit the manager may override and they gave a
    reason: nothing is written until they confirm on the page this carries."""

    def __init__(self, form: AllocationForm, case: Any, result: dict[str, Any]) -> None:
        super().__init__("an override waits for its confirmation")
        self.form, self.case, self.result = form, case, result


def blocked(
    exc: PolicyBlocked, *, case: Any, worker: Staff, role: str, on: date, policies: Any,
    viewer: Viewer, field: str,
) -> Refused:
    """A firm limit refused the change: who may overrule it, beside the question they
    answer (the reason, if the manager may; otherwise `field`, what was chosen)."""
    result = decision_view(exc.decision, case=case, worker=worker, role=role, on=on,
                           policies=policies, viewer=viewer)
    errors = FormErrors()
    if result["viewer_may_override"]:
        message = ("This breaks a firm limit. To go ahead, give your reason for "
                   "overriding it")
    else:
        who = " or ".join(r.replace("_", " ") for r in result["override_roles"]) or "nobody"
        message = f"This breaks a firm limit. Only a {who} can override it"
    errors.add("reason" if result["viewer_may_override"] else field, message)
    return Refused(errors, exc.status_code, result=result)
