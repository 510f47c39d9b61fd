"""Exports for reporting upwards: the breach register, a workload snapshot and compliance
by team, as CSV and XLSX.

The format is the path's suffix. Each download is streamed (app/exports/writers.py) and
holds only what the caller reaches: a team manager their team, a senior manager their
service area, the ASYE coordinator everyone (the access table's rule, and the reach the
rows are filtered by). Text that a spreadsheet could take for a formula is neutralised
(app/exports/cells.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.api.boundary import BoundaryRoute
from app.api.breaches import FiltersDep
from app.api.deps import OnDep, PoliciesDep
from app.auth import PrincipalDep
from app.auth.reach import Reach
from app.exports import reports
from app.exports.writers import FORMATS, download, download_responses, fmt_of
from app.policy.registry import PolicySet

router = APIRouter(route_class=BoundaryRoute, tags=["exports"])


def export_breach_register(
    request: Request, filters: FiltersDep, on: OnDep, policies: PoliciesDep
) -> StreamingResponse:
    """The breach register: every breach within reach matching the breach list's filters
    (status, team, service area, rule, severity...), none opened after `on`, aged as of
    `on`."""
    return download(request, reports.breach_register(filters, on, policies), fmt_of(request))


def _within_reach(
    build: Callable[[Reach, date, PolicySet], reports.Report], summary: str
) -> Callable[..., StreamingResponse]:
    """A download of a report of everyone within the caller's reach on `on`."""

    def export(
        request: Request, principal: PrincipalDep, on: OnDep, policies: PoliciesDep
    ) -> StreamingResponse:
        return download(request, build(principal.reach(on), on, policies), fmt_of(request))

    export.__doc__ = summary
    export.__name__ = f"export_{build.__name__}"
    return export


ENDPOINTS: tuple[tuple[str, Callable[..., StreamingResponse]], ...] = (
    ("breaches", export_breach_register),
    ("workload", _within_reach(
        reports.workload_snapshot,
        "A workload snapshot as of `on`: every NQSW within reach on a programme that day, "
        "with the engine's figures (the workload API's, NQSW by NQSW).")),
    ("compliance", _within_reach(
        reports.compliance_by_team,
        "Compliance by team as of `on`: NQSWs against their caps, supervision and "
        "protected time, and unresolved breaches by rule as the breach dashboard counts "
        "them, then every team together.")),
)
for _report, _endpoint in ENDPOINTS:
    for _fmt in FORMATS:
        router.add_api_route(f"/exports/{_report}.{_fmt}", _endpoint, methods=["GET"],
                             response_class=StreamingResponse,
                             responses=download_responses(_fmt))
