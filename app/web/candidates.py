"""Who could take this case? Every worker of the team side by side, best first.

The page asks `services.candidates` the question the API asks (the what-if check's
judgement for each worker, and each one's workload on the same snapshot), and prints
the engine's figures through the same view model as the team table (`summaries.Workload`),
so a cap or a share here is the one every other page shows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.repositories import org as org_repository
from app.schemas.candidates import ORDER, supervision_status
from app.services import candidates as service
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.summaries import workload_of
from app.web.templating import render

router = APIRouter()


def row(candidate: service.Candidate) -> dict[str, Any]:
    """One worker as the table prints them."""
    measures = candidate.measures
    protected = candidate.finding_of("protected_time")
    return {
        "person": candidate.person,
        "outcome": candidate.outcome.value,
        "reasons": candidate.reasons(),
        "already": candidate.reasons(caused=False),
        "override_roles": candidate.override_roles,
        "on_case": candidate.on_case,
        "cases": candidate.cases,
        "workload": workload_of(measures, candidate.status) if measures is not None else None,
        "room": candidate.room,
        "protected": protected,
        "supervision": supervision_status(candidate.finding_of("supervision")),
    }


@router.get("/cases/{case_id}/candidates", include_in_schema=False)
def candidates_page(
    case_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
    policies: PoliciesDep,
    role: Annotated[Literal["holder", "co_worker"], Query()] = "holder",
) -> Response:
    found = service.candidates(session, policies=policies, case_id=case_id, on=on, role=role)
    case = found.case
    team = org_repository.team(session, case.team_id) if case.team_id else None
    rows = [row(c) for c in found.candidates]
    return render(request, "pages/candidates.html", {
        "title": "Who could take this case?",
        "nav_key": "allocate",
        "case": case,
        "team": team,
        "on": on,
        "role": role,
        "case_open": found.case_open,
        "rows": rows,
        "order": ORDER,
        "counts": {o: sum(1 for r in rows if r["outcome"] == o) for o in ("ok", "warn", "block")},
    })
