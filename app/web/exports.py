"""The exports page: breach register, workload snapshot and compliance by team.

The page offers each report as CSV or XLSX for a date; the downloads are the API's own
reports (app/exports), served here for a page session. The breach register takes the
dashboard's filters as the dashboard reads them (app/web/breaches.py), so a download
from the page holds the rows the dashboard would list for the same filters.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app.auth.principal import Principal
from app.db import SessionDep
from app.exports import reports
from app.exports.writers import FORMATS, download, fmt_of
from app.web.breaches import STATUS_CHOICES, DashboardQuery, scoped_filters
from app.web.deps import OnDep, PoliciesDep, ViewerDep
from app.web.identity import principal_of
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

REPORTS = (
    ("breaches", "Breach register",
     "Every breach with the status chosen above, opened on or before the date: its NQSW, "
     "team, rule, severity, status, age and what has been done about it."),
    ("workload", "Workload snapshot",
     "Every NQSW on a programme on the date: cases, cap, points, share of an experienced "
     "worker's load, protected time and supervision."),
    ("compliance", "Compliance by team",
     "For each team: NQSWs within their cap, supervision overdue, protected time not on "
     "track, and breaches not resolved on the date, rule by rule."),
)
FORMAT_LABELS = (("xlsx", "Excel (XLSX)"), ("csv", "CSV"))


def _principal(viewer: Viewer) -> Principal:
    principal = principal_of(viewer)
    assert principal is not None  # the page guard signed someone in
    return principal


@router.get("/exports", include_in_schema=False)
def exports_page(request: Request, viewer: ViewerDep, on: OnDep) -> Response:
    status = request.query_params.get("status", "unresolved")
    if status not in dict(STATUS_CHOICES):
        status = "unresolved"
    downloads = []
    for key, title, text in REPORTS:
        params = {"on": on.isoformat(), **({"status": status} if key == "breaches" else {})}
        downloads.append({
            "key": key, "title": title, "text": text,
            "links": [(f"/exports/{key}.{fmt}?{urlencode(params)}", label)
                      for fmt, label in FORMAT_LABELS],
        })
    return render(request, "pages/exports.html", {
        "title": "Exports", "nav_key": "exports", "on": on, "status": status,
        "status_choices": STATUS_CHOICES, "downloads": downloads,
    })


@router.get("/exports/breaches.csv", include_in_schema=False)
@router.get("/exports/breaches.xlsx", include_in_schema=False)
def breach_register(
    request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep, policies: PoliciesDep
) -> StreamingResponse:
    """The breach register with the dashboard's filters, as the dashboard narrows them."""
    filters, _ = scoped_filters(session, viewer, DashboardQuery.from_request(request), on=on)
    return download(request, reports.breach_register(filters, on, policies), fmt_of(request))


def _within_reach(request: Request, viewer: ViewerDep, on: OnDep,
                  policies: PoliciesDep) -> StreamingResponse:
    """The workload snapshot or compliance by team (by the path) of everyone the person
    reaches on `on`, as the API's download of the same report."""
    build = (reports.workload_snapshot if request.url.path.startswith("/exports/workload")
             else reports.compliance_by_team)
    return download(request, build(_principal(viewer).reach(on), on, policies),
                    fmt_of(request))


for _report in ("workload", "compliance"):
    for _fmt in FORMATS:
        router.add_api_route(f"/exports/{_report}.{_fmt}", _within_reach, methods=["GET"],
                             include_in_schema=False, response_class=StreamingResponse,
                             name=f"export_{_report}_{_fmt}")
