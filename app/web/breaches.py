"""The breach dashboard: where it is worst, by team and rule, which teams got worse over
the last twelve weeks, and the filtered list, each breach aged from when its problem began.

A breach's own page and an NQSW's own list are in app/web/breach_detail.py.

Who may see and do what is the page access table's rule (app/auth/page_access.py),
enforced before a handler runs; the buttons follow the same table (app.web.permits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.repositories.org import unclosed_teams
from app.services import breaches as breach_service
from app.web.deps import OnDep, ViewerDep
from app.web.identity import visible_team_ids
from app.web.templating import humanise, render
from app.web.viewer import Viewer

router = APIRouter()

PAGE_SIZE = 50
TREND_WEEKS = 12
STATUS_CHOICES = [
    ("unresolved", "Not resolved"),
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("excepted", "Excepted"),
    ("overridden", "Overridden"),
    ("resolved", "Resolved"),
    ("all", "Any status"),
]
SEVERITY_CHOICES = [(s, s.capitalize()) for s in reversed(breach_service.SEVERITY_ORDER)]
# Ages in working days since the problem began (bank holidays excluded), as the list shows.
AGE_CHOICES = [("5", "5 working days or more"), ("10", "10 working days or more"),
               ("20", "20 working days or more"), ("40", "40 working days or more")]
# The list's orders: the value in the address bar, its words, the service's sort.
ORDER_CHOICES = [("oldest", "Longest running first", "-age"),
                 ("newest", "Most recently begun first", "age"),
                 ("severity", "Most severe first", "-severity")]
ORDER_SORTS = {value: sort for value, _, sort in ORDER_CHOICES}
SORT_DIRECTIONS = {"asc": "ascending", "desc": "descending"}


@dataclass
class DashboardQuery:
    """The filters as typed in the address bar; bad values are ignored, not fatal."""

    status: str = "unresolved"
    team_id: int | None = None
    rule: str = ""
    severity: str = ""
    min_age: str = ""
    nqsw_id: int | None = None
    page: int = 1
    on: str = ""
    sort: str = "team"
    dir: str = "asc"
    order: str = "oldest"

    @classmethod
    def from_request(cls, request: Request) -> DashboardQuery:
        params = request.query_params

        def as_int(name: str) -> int | None:
            try:
                return int(params.get(name, ""))
            except ValueError:
                return None

        status = params.get("status", "unresolved")
        direction = params.get("dir", "asc")
        return cls(
            status=status if status in dict(STATUS_CHOICES) else "unresolved",
            team_id=as_int("team_id"),
            rule=params.get("rule", ""),
            severity=params.get("severity", "") if params.get("severity") in dict(
                SEVERITY_CHOICES) else "",
            min_age=params.get("min_age", "") if params.get("min_age") in dict(
                AGE_CHOICES) else "",
            nqsw_id=as_int("nqsw_id"),
            page=max(as_int("page") or 1, 1),
            on=params.get("on", ""),  # a bad date never gets here: the page refuses it
            sort=params.get("sort", "") or "team",
            dir=direction if direction in SORT_DIRECTIONS else "asc",
            order=params.get("order", "") if params.get("order") in ORDER_SORTS else "oldest",
        )

    @property
    def min_age_working_days(self) -> int | None:
        return int(self.min_age) if self.min_age else None

    def params(self, **changes: Any) -> str:
        return urlencode(self.pairs(**changes))

    def pairs(self, **changes: Any) -> list[tuple[str, Any]]:
        """The query's non-default values (with `changes`), for a link or hidden fields."""
        values = {
            "status": self.status, "team_id": self.team_id, "rule": self.rule,
            "severity": self.severity, "min_age": self.min_age, "nqsw_id": self.nqsw_id,
            "page": self.page, "on": self.on, "sort": self.sort, "dir": self.dir,
            "order": self.order,
        }
        values.update(changes)
        defaults = {"sort": "team", "dir": "asc", "order": "oldest"}
        return [(k, v) for k, v in values.items()
                if (v not in (None, "", 1) or (k == "status" and v)) and defaults.get(k) != v]


def scoped_filters(
    session: Session, viewer: Viewer, query: DashboardQuery, *, on: date
) -> tuple[breach_service.BreachFilters, list[Any]]:
    """The service's filters, narrowed to what this person may see.

    Who may see the dashboard, and that an NQSW to filter on (`nqsw_id`) is within reach,
    is the page table's rule (app/auth/page_access.py); the rows are narrowed here to the
    person's teams or service area, so a filter can never widen what they see.
    """
    visible = visible_team_ids(viewer)
    team_choices = unclosed_teams(session, visible)
    team_id = query.team_id
    area_id: int | None = None
    if visible is not None:
        if team_id not in visible:
            team_id = None
        if team_id is None:
            if len(viewer.service_area_ids) == 1 and viewer.role == "senior_manager":
                area_id = viewer.service_area_ids[0]
            elif visible:
                team_id = visible[0]
            else:
                team_id = -1  # sees no team: an empty dashboard, never everyone's
    policy_id, _, rule_id = query.rule.partition("/")
    status: tuple[str, ...] = ()
    unresolved: bool | None = None
    open_on: date | None = None
    if query.status == "unresolved" and on < today():
        open_on = on  # those open on that day, though some may be resolved since
    elif query.status == "unresolved":
        unresolved = True
    elif query.status != "all":
        status = (query.status,)
    filters = breach_service.BreachFilters(
        status=status,
        unresolved=unresolved,
        team_id=team_id,
        service_area_id=area_id,
        policy_id=policy_id or None,
        rule_id=rule_id or None,
        severity=(query.severity,) if query.severity else (),
        staff_id=query.nqsw_id,
        # At least 0 days old: never a breach opened after the dashboard's date. The age
        # filter itself is in working days since the problem began (`min_age_working_days`).
        min_age_days=0,
        open_on=open_on,
    )
    return filters, team_choices


def rule_choices(policies: Any) -> list[tuple[str, str]]:
    choices = []
    for policy in policies:
        for rule in policy.rules:
            choices.append((f"{policy.id}/{rule.id}", rule.title or policy.title))
    return sorted(choices, key=lambda c: c[1])


def width_class(value: int, largest: int) -> str:
    """A bar's width as one of the 5% steps in ringfence.css (no inline styles)."""
    if largest <= 0 or value <= 0:
        return "rf-w-0"
    step = max(5, int(math.ceil(100 * value / largest / 5) * 5))
    return f"rf-w-{min(step, 100)}"


def trend_chart(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Bar geometry for the server-drawn SVG of open breaches at each week's end."""
    width, height, left, bottom, top = 640, 200, 36, 28, 12
    plot_h = height - bottom - top
    largest = max((p["open"] for p in series), default=0)
    scale_max = max(largest, 1)
    slot = (width - left - 8) / max(len(series), 1)
    bars = []
    for index, point in enumerate(series):
        h = 0 if scale_max == 0 else plot_h * point["open"] / scale_max
        x = left + index * slot + slot * 0.15
        bars.append({
            "x": round(x, 1), "y": round(top + plot_h - h, 1), "w": round(slot * 0.7, 1),
            "h": round(h, 1), "value": point["open"], "label": point["week_ending"],
            "label_x": round(x + slot * 0.35, 1),
        })
    return {"width": width, "height": height, "bars": bars, "max": largest,
            "baseline": top + plot_h, "left": left, "top": top}


def sort_columns(rules: dict[str, str], sort: str, query: DashboardQuery) -> list[dict[str, Any]]:
    """The team x rule table's column headings, each a link that sorts by it: the sorted
    column's link turns the order round; another column's sorts counts largest first
    (team names from A). `aria_sort` is said on the sorted column only."""
    columns: list[dict[str, Any]] = [{"key": "team", "title": "Team"}]
    columns += [{"key": key, "title": title} for key, title in rules.items()]
    columns.append({"key": "total", "title": "Total"})
    for column in columns:
        here = column["key"] == sort
        column["aria_sort"] = SORT_DIRECTIONS[query.dir] if here else None
        if here:
            direction = "desc" if query.dir == "asc" else "asc"
        else:
            direction = "asc" if column["key"] == "team" else "desc"
        column["href"] = "/breaches?" + query.params(sort=column["key"], dir=direction, page=1)
    return columns


def team_rule_matrix(
    counts: list[dict[str, Any]], rule_titles: dict[str, str], query: DashboardQuery
) -> dict[str, Any]:
    """The service's team x rule counts laid out as a table, with a total for each team
    and each rule (sums of the service's counts, nothing recounted), sorted as asked.

    `query.sort` names a column: "team", "total" or a rule's "policy/rule" key; a key not
    in the table falls back to the team's name.
    """
    rules: dict[str, str] = {}
    teams: dict[Any, dict[str, Any]] = {}
    for item in counts:
        key = f"{item['policy_id']}/{item['rule_id']}"
        rules[key] = rule_titles.get(key) or humanise(item["rule_id"])
        team = teams.setdefault(item["team_id"], {
            "name": item["team_name"] or "No team", "cells": {}, "total": 0})
        team["cells"][key] = team["cells"].get(key, 0) + item["count"]
        team["total"] += item["count"]
    sort = query.sort if query.sort in ("team", "total", *rules) else "team"
    descending = query.dir == "desc"
    rows = sorted(teams.values(), key=lambda t: t["name"].lower())
    if sort != "team":  # a stable sort: teams with equal counts stay in name order
        rows.sort(key=lambda t: t["total"] if sort == "total" else t["cells"].get(sort, 0),
                  reverse=descending)
    elif descending:
        rows.reverse()
    return {
        "rules": rules,
        "rows": rows,
        "columns": sort_columns(rules, sort, query),
        "rule_totals": {key: sum(t["cells"].get(key, 0) for t in rows) for key in rules},
        "total": sum(t["total"] for t in rows),
    }


def dashboard_context(
    request: Request, session: Session, viewer: Viewer, *, on: date
) -> dict[str, Any]:
    policies = request.app.state.policies
    query = DashboardQuery.from_request(request)
    filters, team_choices = scoped_filters(session, viewer, query, on=on)
    offset = (query.page - 1) * PAGE_SIZE
    min_age = query.min_age_working_days
    rows, count = breach_service.list_breaches(
        session, filters=filters, on=on, sort=ORDER_SORTS[query.order], limit=PAGE_SIZE,
        offset=offset, min_age_working_days=min_age,
    )
    summary = breach_service.summary(session, filters=filters, on=on,
                                     min_age_working_days=min_age)
    series = breach_service.trend(session, filters=filters, on=on, weeks=TREND_WEEKS)["series"]
    change = breach_service.team_change(session, filters=filters, on=on, weeks=TREND_WEEKS)
    rules = rule_choices(policies)
    rule_titles = dict(rules)
    largest_age = max((b["count"] for b in summary["ageing"]), default=0)
    for bucket in summary["ageing"]:
        bucket["width"] = width_class(bucket["count"], largest_age)
    return {
        "title": "Breaches",
        "query": query,
        "rows": rows,
        "count": count,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
        "summary": summary,
        "matrix": team_rule_matrix(summary["by_team_rule"], rule_titles, query),
        "trend": trend_chart(series),
        "series": series,
        "change": change,
        "order_choices": [(value, words) for value, words, _ in ORDER_CHOICES],
        "caption": next(words for value, words, _ in ORDER_CHOICES if value == query.order),
        "on": on,
        "past": on < today(),
        "teams": team_choices,
        "rules": rules,
        "rule_titles": rule_titles,
        "status_choices": STATUS_CHOICES,
        "severity_choices": SEVERITY_CHOICES,
        "age_choices": AGE_CHOICES,
        "export_url": "/breaches/export.csv?" + query.params(page=1),
    }


def dashboard_response(
    request: Request, session: Session, viewer: Viewer, *, on: date, nav_key: str = "breaches"
) -> Response:
    context = dashboard_context(request, session, viewer, on=on)
    context["nav_key"] = nav_key
    return render(request, "pages/breaches.html", context, block="results")


@router.get("/breaches", include_in_schema=False)
def breach_dashboard(
    request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep
) -> Response:
    return dashboard_response(request, session, viewer, on=on)


@router.get("/breaches/export.csv", include_in_schema=False)
def breach_export(request: Request, session: SessionDep, viewer: ViewerDep, on: OnDep) -> Response:
    """The filtered dashboard as CSV, for a senior manager's own analysis."""
    query = DashboardQuery.from_request(request)
    filters, _ = scoped_filters(session, viewer, query, on=on)
    body = breach_service.export_rows(session, filters=filters, on=on,
                                      sort=ORDER_SORTS[query.order],
                                      min_age_working_days=query.min_age_working_days)
    return Response(
        body, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="breaches-{on}.csv"'},
    )
