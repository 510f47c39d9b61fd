"""One NQSW's page: stage, caseload, what the rules find and why, and what we promise."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.db import SessionDep
from app.errors import DomainError
from app.repositories import case as case_repository
from app.repositories import org as org_repository
from app.repositories.enrolment import current_enrolment, latest_enrolment
from app.repositories.staff import people_by_id
from app.web import access, summaries
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.policy_text import promise_for
from app.web.templating import render
from app.wording import plain

router = APIRouter()


def nqsw_context(session: Session, staff_id: int, on: date, policies: Any) -> dict[str, Any]:
    """Everything the NQSW page shows, shared with the diary and allocation pages' headers."""
    staff = access.nqsw_for(session, staff_id)
    enrolment = current_enrolment(session, staff_id, on) or latest_enrolment(
        session, staff_id
    )
    team = org_repository.team(session, staff.team_id) if staff.team_id else None
    people = people_by_id(session, [
        enrolment.assessor_id if enrolment else None,
        enrolment.advanced_practitioner_id if enrolment else None,
        team.manager_id if team else None,
    ])
    workload = summaries.workloads(session, [staff_id], on, policies).get(staff_id)
    for finding in workload.findings if workload else []:
        # The engine's reasons carry ISO dates and role codes; people read them in words.
        if isinstance(finding.get("reason"), str):
            finding["reason"] = plain(finding["reason"])
    return {
        "nqsw": staff,
        "enrolment": enrolment,
        "team": team,
        "assessor": people.get(enrolment.assessor_id) if enrolment and enrolment.assessor_id
        else None,
        "ap": people.get(enrolment.advanced_practitioner_id)
        if enrolment and enrolment.advanced_practitioner_id else None,
        "workload": workload,
        "on": on,
    }


@router.get("/nqsws/{staff_id}", include_in_schema=False)
def nqsw_page(
    staff_id: int, request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep,
    policies: PoliciesDep,
) -> Response:
    context = nqsw_context(session, staff_id, on, policies)
    rows = case_repository.caseload(session, staff_id, on)
    co_worked = [c.id for a, c in rows if a.role == "co_worker" and c.id is not None]
    holders = case_repository.case_holders(session, co_worked, on)
    enrolment = context["enrolment"]
    own = viewer.staff_id == staff_id
    context.update({
        "title": "Your programme" if own else context["nqsw"].name,
        "nav_key": "nqsw" if own else "nqsws",
        "own": own,
        "caseload": rows,
        "holders": holders,
        "promise": promise_for(policies, enrolment.programme) if enrolment else None,
        "breaches": [],
        "allocated": request.query_params.get("allocated"),
        "allocated_outcome": request.query_params.get("outcome"),
    })
    context.update(extra_sections(session, context, on, policies))
    return render(request, "pages/nqsw.html", context)


def extra_sections(
    session: Session, context: dict[str, Any], on: date, policies: Any
) -> dict[str, Any]:
    """Protected time, supervision and breaches, from their services."""
    from app.services import breaches as breach_service
    from app.services import diary as diary_service
    from app.services import supervision as supervision_service
    from app.web.breaches import rule_choices

    staff_id = context["nqsw"].id
    sections: dict[str, Any] = {}
    if context["enrolment"] is not None:
        try:
            sections["protected"] = diary_service.summary(
                session, staff_id=staff_id, on=on, policies=policies)
            sections["supervision"] = {
                "schedule": supervision_service.schedule(
                    session, staff_id=staff_id, on=on, policies=policies),
                "reviews": supervision_service.reviews(
                    session, staff_id=staff_id, on=on, policies=policies)["data"],
            }
        except DomainError:
            pass  # not on a running programme on this date: nothing to measure
    rows, _ = breach_service.list_breaches(
        session, filters=breach_service.BreachFilters(staff_id=staff_id, unresolved=True),
        on=on, sort="opened_on", limit=100)
    sections["breaches"] = rows
    sections["rule_titles"] = dict(rule_choices(policies))
    sections["caption"] = "Open breaches, oldest first"
    return sections
