"""Breaches for the dashboards: lists, aggregates, trend, CSV, and acting on one."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PageDep, PoliciesDep
from app.auth import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.models.breach import BreachStatus
from app.policy.findings import Severity
from app.schemas.breach import (
    AcknowledgeRequest,
    BreachDetail,
    BreachPublic,
    BreachSummary,
    BreachTrend,
    ExceptionRequest,
    SweepRequest,
    SweepSummary,
)
from app.schemas.common import MAX_ID, GivenOnQuery, Page, PathId, QueryId, effective_on
from app.services import breaches as service
from app.services import sweep
from app.services.reconcile import Cause

router = APIRouter(route_class=BoundaryRoute, tags=["breaches"])


def breach_filters(
    principal: PrincipalDep,
    on: OnDep,
    status: Annotated[
        list[BreachStatus] | None, Query(description="One or more statuses.")
    ] = None,
    unresolved: Annotated[
        bool | None, Query(description="true: open, acknowledged, excepted or overridden.")
    ] = None,
    team_id: QueryId = None,
    service_area_id: QueryId = None,
    policy_id: str | None = None,
    rule_id: str | None = None,
    kind: str | None = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    staff_id: QueryId = None,
    nqsw_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Alias of `staff_id` (the audit API's name)."),
    ] = None,
    resolution_cause: Annotated[
        list[Cause] | None,
        Query(description="Only breaches resolved for one of these reasons."),
    ] = None,
    min_age_days: Annotated[
        int | None,
        Query(ge=0, description="Began at least this many calendar days before `on`."),
    ] = None,
    open_on: Annotated[
        date | None, Query(description="Only breaches open on this date.")
    ] = None,
) -> service.BreachFilters:
    if staff_id is not None and nqsw_id is not None and staff_id != nqsw_id:
        raise DomainError("staff_id and nqsw_id name different people",
                          field=["query", "nqsw_id"])
    return service.BreachFilters(
        status=tuple(s.value for s in status or ()),
        unresolved=unresolved,
        team_id=team_id,
        service_area_id=service_area_id,
        policy_id=policy_id,
        rule_id=rule_id,
        kind=kind,
        severity=tuple(s.value for s in severity or ()),
        staff_id=staff_id if staff_id is not None else nqsw_id,
        resolution_cause=tuple(c.value for c in resolution_cause or ()),
        min_age_days=min_age_days,
        open_on=open_on,
        scope=principal.reach(on),
    )


FiltersDep = Annotated[service.BreachFilters, Depends(breach_filters)]
SortQuery = Annotated[
    str,
    Query(description="opened_on, -opened_on, began_on, -began_on, age (youngest first), -age "
          "(oldest first), severity, -severity, status, rule, nqsw, team, id, -id"),
]
MinWorkingAge = Annotated[
    int | None,
    Query(ge=0, le=2000, description="Began at least this many working days before `on` "
          "(bank holidays excluded), as `age_working_days` counts them."),
]


@router.get("/breaches")
def list_breaches(
    session: SessionDep, page: PageDep, filters: FiltersDep, on: OnDep,
    sort: SortQuery = "-opened_on", min_age_working_days: MinWorkingAge = None,
) -> Page[BreachPublic]:
    """Breaches with filters and sorting; age is measured as of `on`, from the day each
    breach's problem began."""
    rows, count = service.list_breaches(
        session, filters=filters, on=on, sort=sort, limit=page.limit, offset=page.offset,
        min_age_working_days=min_age_working_days,
    )
    return Page(data=[BreachPublic.model_validate(r) for r in rows], count=count)


@router.get("/breaches.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def export_breaches(
    session: SessionDep, filters: FiltersDep, on: OnDep, sort: SortQuery = "-opened_on",
    min_age_working_days: MinWorkingAge = None,
) -> Response:
    """Every breach matching the filters, as CSV."""
    body = service.export_rows(session, filters=filters, on=on, sort=sort,
                               min_age_working_days=min_age_working_days)
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="breaches-{on.isoformat()}.csv"'},
    )


@router.get("/breaches/summary")
def breach_summary(
    session: SessionDep, filters: FiltersDep, on: OnDep,
    min_age_working_days: MinWorkingAge = None,
) -> BreachSummary:
    """Breaches open on `on`: by team x rule, status, severity, and age in working days
    from the day each problem began."""
    return BreachSummary.model_validate(service.summary(
        session, filters=filters, on=on, min_age_working_days=min_age_working_days))


@router.get("/breaches/trend")
def breach_trend(
    session: SessionDep, filters: FiltersDep, on: OnDep,
    weeks: Annotated[int, Query(ge=1, le=260)] = 12,
) -> BreachTrend:
    """Weekly series: breaches open at each week's end, opened and resolved in the week."""
    return BreachTrend.model_validate(service.trend(session, filters=filters, on=on,
                                                    weeks=weeks))


@router.post("/breaches/sweep")
def run_sweep(
    session: SessionDep, policies: PoliciesDep, body: SweepRequest | None = None
) -> SweepSummary:
    """Run the daily check now, as of a date (default today), in this request."""
    as_of = (body.as_of if body else None) or today()
    report = sweep.sweep_in_session(session, as_of=as_of, policies=policies)
    return SweepSummary.model_validate(report.as_dict())


@router.get("/breaches/{breach_id}")
def get_breach(breach_id: PathId, session: SessionDep, on: OnDep) -> BreachDetail:
    """One breach: the evidence at detection, the latest evidence, and every change."""
    return BreachDetail.model_validate(service.get_breach(session, breach_id, on=on))


@router.post("/breaches/{breach_id}/acknowledge")
def acknowledge_breach(
    breach_id: PathId, body: AcknowledgeRequest, session: SessionDep, principal: PrincipalDep,
    given_on: GivenOnQuery,
) -> BreachDetail:
    """Record that the breach has been seen and what is being done (a note is required),
    in the name of the person signed in, on `on` (query or body; default today)."""
    on = effective_on(given_on, body.on)
    service.acknowledge(session, breach_id=breach_id, note=body.note,
                        actor_id=principal.staff_id, on=on)
    return BreachDetail.model_validate(service.get_breach(session, breach_id, on=on))


@router.post(
    "/breaches/{breach_id}/exception",
    responses={403: {"description": "You may not approve it: not a senior manager or "
                                    "coordinator, or you overrode this limit yourself and the "
                                    "organisation asks for a second person."}},
)
def grant_exception(
    breach_id: PathId, body: ExceptionRequest, session: SessionDep, policies: PoliciesDep,
    principal: PrincipalDep, given_on: GivenOnQuery,
) -> BreachDetail:
    """An agreed exception until `expires_on`: the approver is the person signed in (a
    senior manager or coordinator); `on` in the query or the body, default today."""
    on = effective_on(given_on, body.on)
    service.grant_exception(session, breach_id=breach_id, approver_id=principal.staff_id,
                            reason=body.reason, expires_on=body.expires_on, on=on,
                            separation=policies.separation)
    return BreachDetail.model_validate(service.get_breach(session, breach_id, on=on))
