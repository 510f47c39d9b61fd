"""Cases and their allocations on pages: create, close, re-categorise, end, reassign.

Each form takes what the API's route takes (the same request schema, app/schemas) and
calls the same service, so a page and the API refuse the same things; a refusal is said
beside the question it is about. Who may open which page is the page access table's
(app/auth/page_access.py): managers act on the cases of the teams they answer for, the
ASYE coordinator reads them all.

Two changes show their consequences before they are saved. A change of category or
complexity is never refused, but the page first shows what it would cause for the
people on the case (`case_preview`, the engine's findings) and asks to confirm.
A reassignment grows the new worker's load, so it goes through the allocation check:
the check is the write itself, rehearsed, exactly as on the allocation page, and a firm
limit refuses it with the engine's reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.errors import Conflict, DomainError, NotFound
from app.models import Allocation, Case
from app.models.base import Role
from app.repositories import case as case_repository
from app.repositories import org as org_repository
from app.repositories import staff as staff_repository
from app.repositories.case import AllocationFilter
from app.schemas.allocation import AllocationEnd, AllocationUpdate
from app.schemas.case import CaseCloseRequest, CaseCreate, CaseUpdate
from app.schemas.common import Day, RecordId
from app.services import allocation_move, case_preview, cases
from app.services.allocation_types import PolicyBlocked, WriteResult
from app.web import outcome
from app.web.allocate import blocked, judged, refusal_in_words
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import FormErrors, as_sentence
from app.web.htmx import is_htmx
from app.web.identity import principal_of, visible_team_ids
from app.web.permits import role_may
from app.web.rehearsal import rehearse
from app.web.submit import Questions, Refusal, Refused, again, answers, submit
from app.web.summaries import titled
from app.web.templating import long_date, render
from app.web.viewer import Viewer

router = APIRouter()

PER_PAGE = 50
MANAGE_CASES = "GET /cases/new"
DONE = {"created", "closed", "changed", "ended", "reassigned"}
COMPLEXITIES = [(str(n), f"{n}{' (lowest)' if n == 1 else ' (highest)' if n == 4 else ''}")
                for n in range(1, 5)]
PROMPT = {"state": "incomplete",
          "prompt": "Choose who takes the case over to see what the policies say."}
# Who a case can be reassigned to: NQSWs and the experienced staff who hold cases.
CASE_WORKERS = (Role.nqsw.value, Role.social_worker.value, Role.advanced_practitioner.value)


class CaseChange(CaseUpdate):
    """A change of category or complexity from a date (the API's `on`), confirmed after
    its consequences were shown."""

    on: Day = Field(default_factory=today)
    confirm: Literal["yes"] | None = None


class Reassignment(AllocationUpdate):
    """A reassignment: the API's change of worker, from a date; here the worker is the
    question the page asks, so it is required."""

    worker_id: RecordId


CREATE = Questions(
    CaseCreate,
    {"reference": "Case reference", "category": "Category", "complexity": "Complexity",
     "opened_on": "Date opened", "team_id": "Team"},
    chosen={"category", "complexity", "team_id"},
    required={"team_id": "Select the team the case belongs to"},
)
CLOSE = Questions(CaseCloseRequest, {"on": "Date closed", "reason": "Reason"})
CHANGE = Questions(CaseChange, {"category": "Category", "complexity": "Complexity",
                                "on": "Date of the change", "reason": "Reason"},
                   chosen={"category", "complexity"})
END = Questions(AllocationEnd, {"on": "Date the allocation ends", "reason": "Reason"})
# A reassignment changes the worker only: the API's other changes are not asked here.
ASKED = ("worker_id", "on", "on-day", "on-month", "on-year", "override_reason")
REASSIGN = Questions(Reassignment, {"worker_id": "Who takes the case over",
                                    "on": "Date of the handover",
                                    "override_reason": "Reason for going beyond a limit"},
                     chosen={"worker_id"}, rename={"end_date": "on"},
                     wanted=lambda values: {k: values[k] for k in ASKED if k in values})


# ---- reading ----------------------------------------------------------------------------


def case_for(session: Session, case_id: int) -> Case:
    """The case in the path (already checked to be within reach by the page guard)."""
    return case_repository.case_or_404(session, case_id)


def allocation_for(session: Session, case_id: int, allocation_id: int) -> tuple[Case, Allocation]:
    """The case and the allocation in the path, which must be one of the case's."""
    case = case_for(session, case_id)
    allocation = case_repository.allocation_or_404(session, allocation_id)
    if allocation.case_id != case.id:
        raise NotFound("allocation", allocation_id)
    return case, allocation


def shown(
    request: Request, template: str, title: str, *, values: dict[str, Any],
    errors: FormErrors | None = None, status_code: int = 200, block: str | None = None,
    **more: Any,
) -> Response:
    """A page about cases: its title under the cases menu item, what was typed, why it
    was refused, and what else it shows."""
    return render(request, template, {"title": title, "nav_key": "cases", "values": values,
                                      "errors": errors or FormErrors(), **more},
                  status_code=status_code, block=block)


def beside_date(exc: DomainError, words: str | None) -> FormErrors:
    """A refusal about the date a change takes effect: the page's words when it has some
    for it, else the service's."""
    errors = FormErrors()
    errors.add("on", words or as_sentence(exc.message))
    return errors


def may_manage(viewer: Viewer) -> bool:
    return viewer.staff_id is not None and role_may(viewer.role, MANAGE_CASES)


def categories(policies: Any) -> list[tuple[str, str]]:
    from app.web.templating import humanise

    return [(c, humanise(c)) for c in cases.known_categories(policies)]


def team_choices(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    ids = visible_team_ids(viewer)
    return [(t.id, t.name) for t in org_repository.unclosed_teams(session, ids)
            if t.id is not None]


@router.get("/cases", include_in_schema=False)
def case_list(
    request: Request, session: SessionDep, viewer: ViewerDep, status: str = "open",
    team_id: int | None = None, page: int = 1,
) -> Response:
    """The cases of the teams in reach, open or closed, with who holds each and since
    when."""
    on = today()
    status = "closed" if status == "closed" else "open"
    page = max(1, min(page, 10_000))
    principal = principal_of(viewer)
    rows, count = cases.list_cases(
        session=session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, on=on,
        team_id=team_id, is_open=status == "open",
        scope=principal.reach(on) if principal is not None else None,
    )
    held = cases.current_allocations(session, [c.id for c in rows if c.id], on)
    people = staff_repository.people_by_id(
        session, [a.worker_id for allocations in held.values() for a in allocations])
    listed = []
    for case in rows:
        allocations = held.get(case.id or 0, [])
        holder = next((a for a in allocations if a.role == "holder"), None)
        listed.append({
            "case": case,
            "holder": people.get(holder.worker_id) if holder else None,
            "holder_since": holder.start_date if holder else None,
            "co_workers": [people[a.worker_id] for a in allocations
                           if a.role != "holder" and a.worker_id in people],
        })
    teams = team_choices(session, viewer)
    return shown(request, "pages/cases.html",
                 "Closed cases" if status == "closed" else "Open cases", values={},
                 rows=listed, count=count, status=status, team_id=team_id, teams=teams,
                 team_names=dict(teams), page=page, pages=max(1, -(-count // PER_PAGE)),
                 may_manage=may_manage(viewer))


# ---- creating a case --------------------------------------------------------------------


def create_page(
    request: Request, session: Session, viewer: Viewer, policies: Any, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    teams = team_choices(session, viewer)
    defaults: dict[str, Any] = {"opened_on": today().isoformat(), "complexity": "1"}
    if len(teams) == 1:
        defaults["team_id"] = teams[0][0]
    return shown(request, "pages/case_new.html", "Create a case",
                 values={**defaults, **(values or {})}, errors=errors, status_code=status_code,
                 categories=categories(policies), complexities=COMPLEXITIES, teams=teams)


@router.get("/cases/new", include_in_schema=False)
def create_form(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep
) -> Response:
    return create_page(request, session, viewer, policies)


@router.post("/cases/new", include_in_schema=False)
async def create(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep
) -> Response:
    def act(form: CaseCreate) -> Case:
        return cases.create_case(session=session, data=form,
                                 categories=cases.known_categories(policies),
                                 actor_id=viewer.staff_id)

    def done(case: Case) -> str:
        return outcome.done_url(f"/cases/{case.id}", "created", case.opened_on)

    return await submit(request, session, CREATE, act=act, done=done,
                        page=again(create_page, request, session, viewer, policies))


# ---- a case's page: after /cases/new, which it would otherwise read as a case -----


@router.get("/cases/{case_id}", include_in_schema=False)
def case_page(request: Request, session: SessionDep, viewer: ViewerDep, case_id: int) -> Response:
    """The case, who is on it now, and everyone who has held or co-worked it."""
    on = today()
    case = case_for(session, case_id)
    history, _ = case_repository.allocations_page(
        session, limit=500, offset=0, filters=AllocationFilter(case_id=case_id))
    people = staff_repository.people_by_id(
        session, [a.worker_id for a in history] + [a.allocated_by_id for a in history])
    current = cases.current_allocations(session, [case_id], on).get(case_id, [])
    current = sorted(current, key=lambda a: (a.role != "holder", a.start_date))
    done, day = outcome.done_message(request, DONE)
    return shown(request, "pages/case.html", f"Case {case.reference}", values={}, case=case,
                 team=org_repository.team(session, case.team_id), current=current,
                 history=history, people=people, done=done, done_day=day,
                 done_who=request.query_params.get("who", ""),
                 may_manage=may_manage(viewer) and case.closed_on is None)


# ---- closing a case ---------------------------------------------------------------------


def close_page(
    request: Request, session: Session, case: Case, *, values: dict[str, Any] | None = None,
    errors: FormErrors | None = None, status_code: int = 200,
) -> Response:
    on = today()
    current = cases.current_allocations(session, [case.id or 0], on).get(case.id or 0, [])
    people = staff_repository.people_by_id(session, [a.worker_id for a in current])
    return shown(request, "pages/case_close.html", f"Close case {case.reference}",
                 values={"on": on.isoformat(), **(values or {})}, errors=errors,
                 status_code=status_code, case=case,
                 on_case=[people[a.worker_id].name for a in current if a.worker_id in people])


@router.get("/cases/{case_id}/close", include_in_schema=False)
def close_form(request: Request, session: SessionDep, viewer: ViewerDep, case_id: int) -> Response:
    return close_page(request, session, case_for(session, case_id))


@router.post("/cases/{case_id}/close", include_in_schema=False)
async def close(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep, case_id: int,
) -> Response:
    case = case_for(session, case_id)

    def act(form: CaseCloseRequest) -> Case:
        return cases.close_case(session=session, case_id=case_id, on=form.on or today(),
                                policies=policies, reason=form.reason or None,
                                actor_id=viewer.staff_id)

    def refusal(exc: DomainError) -> FormErrors:
        closed = case.closed_on
        return beside_date(exc, f"Case {case.reference} was already closed on "
                                f"{long_date(closed)}"
                           if isinstance(exc, Conflict) and closed is not None else None)

    def done(closed: Case) -> str:
        assert closed.closed_on is not None
        return outcome.done_url(f"/cases/{case_id}", "closed", closed.closed_on)

    return await submit(request, session, CLOSE, act=act, done=done, refusal=refusal,
                        page=again(close_page, request, session, case))


# ---- changing category or complexity ----------------------------------------------------


def change_page(
    request: Request, session: Session, case: Case, policies: Any, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    preview: list[dict[str, Any]] | None = None, status_code: int = 200,
) -> Response:
    typed = {"category": case.category, "complexity": str(case.complexity),
             "on": today().isoformat(), **(values or {})}
    typed.pop("confirm", None)
    return shown(request, "pages/case_change.html",
                 f"Change category or complexity of case {case.reference}", values=typed,
                 errors=errors, status_code=status_code, case=case, preview=preview,
                 categories=categories(policies), complexities=COMPLEXITIES)


@router.get("/cases/{case_id}/change", include_in_schema=False)
def change_form(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep, case_id: int,
) -> Response:
    return change_page(request, session, case_for(session, case_id), policies)


@router.post("/cases/{case_id}/change", include_in_schema=False)
async def change(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep, case_id: int,
) -> Response:
    """First what the change would cause (nothing saved), then, confirmed, the change."""
    case = case_for(session, case_id)
    values = await answers(request)

    def update(form: CaseChange) -> Case:
        data = CaseUpdate.model_validate(form.model_dump(
            exclude_unset=True, exclude={"on", "confirm"}))
        return cases.update_case(session=session, case_id=case_id, data=data, on=form.on,
                                 policies=policies, actor_id=viewer.staff_id)

    def act(form: CaseChange) -> Case:
        if form.category in (None, case.category) and form.complexity in (None, case.complexity):
            errors = FormErrors()
            errors.add("category", "Choose a different category or complexity: these are "
                                   "the case's now")
            raise Refused(errors)
        if form.confirm == "yes":
            return update(form)
        rehearse(session, lambda: update(form))  # refused as the change itself would be
        raise Refused(FormErrors(), 200, preview=change_preview(session, policies, case, form))

    def page_again(refused: Refusal) -> Response:
        return change_page(request, session, case, policies, values=refused.values,
                           errors=refused.errors, preview=refused.shown.get("preview"),
                           status_code=refused.status_code)

    def done(changed: Case) -> str:
        on = CHANGE.parse(values)[0]
        return outcome.done_url(f"/cases/{case_id}", "changed", on.on if on else today())

    return await submit(request, session, CHANGE, act=act, done=done, page=page_again)


def change_preview(
    session: Session, policies: Any, case: Case, form: CaseChange
) -> list[dict[str, Any]]:
    """For each person on the case, what the new terms would cause, in the engine's words."""
    outlooks = case_preview.preview_change(
        session, policies=policies, case=case, category=form.category or case.category,
        complexity=form.complexity or case.complexity, on=form.on)
    people = staff_repository.people_by_id(session, [o.allocation.worker_id for o in outlooks])
    shown = []
    for seen in outlooks:
        findings = titled(seen.decision.finding_views(), policies)
        shown.append({
            "worker": people.get(seen.allocation.worker_id),
            "role": seen.allocation.role,
            "enrolled": seen.decision.enrolled,
            "outcome": seen.decision.outcome.value,
            "caused": [f for f in findings if f["caused_by_proposal"]],
            "others": [f for f in findings
                       if not f["caused_by_proposal"] and f["outcome"] != "ok"],
        })
    return shown


# ---- ending an allocation ---------------------------------------------------------------


def end_page(
    request: Request, session: Session, case: Case, allocation: Allocation, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    worker = staff_repository.person(session, allocation.worker_id)
    title = f"End {worker.name if worker else 'this'}'s allocation of case {case.reference}"
    return shown(request, "pages/case_end.html", title,
                 values={"on": today().isoformat(), **(values or {})}, errors=errors,
                 status_code=status_code, case=case, allocation=allocation, worker=worker)


@router.get("/cases/{case_id}/allocations/{allocation_id}/end", include_in_schema=False)
def end_form(
    request: Request, session: SessionDep, viewer: ViewerDep, case_id: int, allocation_id: int,
) -> Response:
    return end_page(request, session, *allocation_for(session, case_id, allocation_id))


@router.post("/cases/{case_id}/allocations/{allocation_id}/end", include_in_schema=False)
async def end(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep, case_id: int,
    allocation_id: int,
) -> Response:
    """End the allocation from a date: never refused by a policy, since a load only
    shrinks; the breaches it lifts are resolved."""
    case, allocation = allocation_for(session, case_id, allocation_id)
    ended_on = allocation.end_date

    def act(form: AllocationEnd) -> WriteResult:
        return allocation_move.end_allocation(
            session, policies=policies, allocation_id=allocation_id, on=form.on or today(),
            reason=form.reason or None, actor_id=viewer.staff_id)

    def refusal(exc: DomainError) -> FormErrors:
        words = None
        if isinstance(exc, Conflict) and ended_on is not None:
            words = f"This allocation already ended on {long_date(ended_on)}"
        elif "before the allocation started" in exc.message:
            words = (f"The allocation started on {long_date(allocation.start_date)}: "
                     "choose that date or a later one")
        return beside_date(exc, words)

    def done(result: WriteResult) -> str:
        assert result.allocation.end_date is not None
        return outcome.done_url(f"/cases/{case_id}", "ended", result.allocation.end_date,
                                who=result.allocation.worker_id)

    return await submit(request, session, END, act=act, done=done, refusal=refusal,
                        page=again(end_page, request, session, case, allocation))


# ---- reassigning ------------------------------------------------------------------------


def reassign_choices(session: Session, viewer: Viewer, allocation: Allocation) -> list[Any]:
    """The people of the teams in reach who hold cases, but the one who has it now."""
    teams = visible_team_ids(viewer)
    people = staff_repository.current_with_roles(session, CASE_WORKERS)
    return [(p.id, f"{p.name} ({p.role.replace('_', ' ') if p.role != 'nqsw' else 'NQSW'})")
            for p in people
            if p.id != allocation.worker_id and (teams is None or p.team_id in teams)]


def reassign_page(
    request: Request, session: Session, viewer: Viewer, case: Case, allocation: Allocation, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    result: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:
    worker = staff_repository.person(session, allocation.worker_id)
    return shown(request, "pages/case_reassign.html", f"Reassign case {case.reference}",
                 values={"on": today().isoformat(), **(values or {})}, errors=errors,
                 status_code=status_code, block="reassign_form", case=case,
                 allocation=allocation, worker=worker, result=result or PROMPT,
                 workers=reassign_choices(session, viewer, allocation))


def reassign_check(
    session: Session, viewer: Viewer, policies: Any, case: Case, allocation: Allocation,
    values: dict[str, Any],
) -> dict[str, Any]:
    """The reassignment's own verdict, rehearsed: what submitting would answer."""
    form, errors = REASSIGN.parse(values)
    if form is None:
        missing = errors.get("worker_id")
        return PROMPT if missing else {
            "state": "invalid", "messages": [m for _, m in errors.summary()]}
    worker = staff_repository.person(session, form.worker_id)
    if worker is None:
        return {"state": "unknown_worker"}
    on = form.on or today()
    return judged(session, reassignment(session, policies, viewer, allocation, form),
                  case=case, worker=worker, role=allocation.role, on=on, policies=policies,
                  viewer=viewer)


def reassignment(
    session: Session, policies: Any, viewer: Viewer, allocation: Allocation,
    form: Reassignment, reason: str | None = None,
) -> Callable[[], WriteResult]:
    def write() -> WriteResult:
        return allocation_move.update_allocation(
            session, policies=policies, allocation_id=allocation.id or 0,
            changes={"worker_id": form.worker_id}, on=form.on or today(),
            override_reason=reason, actor_id=viewer.staff_id)

    return write


@router.get("/cases/{case_id}/allocations/{allocation_id}/reassign", include_in_schema=False)
def reassign_form(
    request: Request, session: SessionDep, viewer: ViewerDep, case_id: int, allocation_id: int,
) -> Response:
    return reassign_page(request, session, viewer,
                         *allocation_for(session, case_id, allocation_id))


@router.post("/cases/{case_id}/allocations/{allocation_id}/reassign/check",
             include_in_schema=False)
async def reassign_check_page(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep, case_id: int,
    allocation_id: int,
) -> Response:
    """The policy check, refreshed as the manager chooses (never writes); without htmx,
    the whole page with the verdict filled in."""
    case, allocation = allocation_for(session, case_id, allocation_id)
    values = await answers(request)
    result = reassign_check(session, viewer, policies, case, allocation, values)
    if not is_htmx(request):
        return reassign_page(request, session, viewer, case, allocation, values=values,
                             result=result)
    return render(request, "pages/case_reassign.html", {"result": result}, block="whatif")


@router.post("/cases/{case_id}/allocations/{allocation_id}/reassign", include_in_schema=False)
async def reassign(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
    case_id: int, allocation_id: int,
) -> Response:
    """The new worker takes the case over from the date, once the same check as any
    allocation allows it; refused, nothing changes."""
    case, allocation = allocation_for(session, case_id, allocation_id)
    values = await answers(request)

    def act(form: Reassignment) -> WriteResult:
        worker = staff_repository.person(session, form.worker_id)
        errors = FormErrors()
        if worker is None:
            errors.add("worker_id", "Select someone from your teams")
            raise Refused(errors)
        on = form.on or today()
        result = reassign_check(session, viewer, policies, case, allocation, values)
        if result.get("state") == "refused":
            field = {"case_id": "worker_id", "role": "worker_id", "end_date": "on",
                     "start_date": "on"}.get(result["field"], result["field"])
            errors.add(field if field in REASSIGN.labels else "worker_id", result["message"])
            raise Refused(errors, result=result)
        reason = form.override_reason or None
        if result.get("outcome") == "warn" and reason is None:
            errors.add("override_reason", "Give a reason for going beyond the limit: it is "
                                          "recorded with the allocation")
            raise Refused(errors, result=result)
        try:
            return reassignment(session, policies, viewer, allocation, form, reason)()
        except PolicyBlocked as exc:
            refused = blocked(exc, case=case, worker=worker, role=allocation.role, on=on,
                              policies=policies, viewer=viewer, field="worker_id")
            if "reason" in refused.errors.messages:
                refused.errors.messages["override_reason"] = refused.errors.messages.pop(
                    "reason")
            raise refused from exc
        except DomainError as exc:
            field, message = refusal_in_words(session, exc, case=case, worker=worker, on=on)
            errors.add(field if field in REASSIGN.labels else "worker_id", message)
            raise Refused(errors, exc.status_code, result=result) from exc

    def page_again(refused: Refusal) -> Response:
        return reassign_page(request, session, viewer, case, allocation,
                             values=refused.values, errors=refused.errors,
                             result=refused.shown.get("result"),
                             status_code=refused.status_code)

    def done(written: WriteResult) -> str:
        return outcome.done_url(f"/cases/{case_id}", "reassigned",
                                written.allocation.start_date,
                                who=written.allocation.worker_id)

    return await submit(request, session, REASSIGN, act=act, done=done, page=page_again)

