"""The start page for each role, the list of NQSWs, and the policy statement."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.repositories.org import unclosed_teams
from app.web import summaries
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.htmx import redirect
from app.web.identity import visible_team_ids
from app.web.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(
    request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep, policies: PoliciesDep
) -> Response:
    """Team managers see their team; oversight roles the breach dashboard; an NQSW their page."""
    if viewer.role == "nqsw" and viewer.staff_id is not None:
        return redirect(request, f"/nqsws/{viewer.staff_id}")
    if viewer.role in ("senior_manager", "asye_coordinator"):
        from app.web.breaches import dashboard_response

        return dashboard_response(request, session, viewer, on=on, nav_key="home")
    return nqsw_list_response(request, session, viewer, on=on, policies=policies, nav_key="home")


@router.get("/nqsws", include_in_schema=False)
def nqsw_list(
    request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep, policies: PoliciesDep,
    team_id: int | None = None,
) -> Response:
    return nqsw_list_response(
        request, session, viewer, on=on, policies=policies, nav_key="nqsws", team_id=team_id
    )


def nqsw_list_response(
    request: Request, session: SessionDep, viewer: ViewerDep, *, on: OnDep, policies: PoliciesDep,
    nav_key: str, team_id: int | None = None,
) -> Response:
    if viewer.role == "nqsw" and viewer.staff_id is not None:
        return redirect(request, f"/nqsws/{viewer.staff_id}")
    if viewer.role == "admin":
        return render(request, "pages/admin_home.html", {"title": "Administration",
                                                          "nav_key": nav_key})
    visible = visible_team_ids(viewer)
    ap_id = viewer.staff_id if viewer.role == "advanced_practitioner" else None
    team_choices = [] if ap_id is not None else unclosed_teams(session, visible)
    if ap_id is not None:
        visible = None
    chosen = [team_id] if team_id is not None and (
        visible is None or team_id in visible) else visible
    view = summaries.team_view(
        session, on=on, policies=policies, team_ids=chosen, advanced_practitioner_id=ap_id
    )
    if viewer.role == "team_manager" and viewer.managed_team_ids:
        names = [t.name for t in team_choices if t.id in viewer.managed_team_ids]
        title = f"Your team: {', '.join(names)}" if names else "Your team's NQSWs"
    elif viewer.role == "advanced_practitioner":
        title = "NQSWs you support"
    else:
        title = "NQSWs"
    return render(request, "pages/nqsws.html", {
        "title": title,
        "nav_key": nav_key,
        "view": view,
        "on": on,
        "teams": team_choices,
        "team_id": team_id,
    }, block="team_table")


@router.get("/promise", include_in_schema=False)
def promise(request: Request, viewer: ViewerDep, policies: PoliciesDep) -> Response:
    from app.web.policy_text import statements

    return render(request, "pages/promise.html", {
        "title": "What we promise our NQSWs",
        "nav_key": "promise",
        "programmes": statements(policies),
    })
