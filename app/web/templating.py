"""One Jinja2 environment for every page, and the rule that picks page or fragment.

A page template names the blocks that htmx swaps; a handler renders the whole page for
a normal request and only the named block for an htmx one, so a fragment can never
drift from the page it lives in (it is the same file).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from app.settings import PROJECT_ROOT, get_settings
from app.web.forms import DateAnswer, with_dates
from app.web.htmx import is_htmx
from app.wording import evidence_rows, role_words

TEMPLATE_DIR = PROJECT_ROOT / "templates"

OUTCOME_TAGS: dict[str, tuple[str, str]] = {
    "ok": ("Allowed", "govuk-tag--green"),
    "warn": ("Warning", "govuk-tag--yellow"),
    "block": ("Blocked", "govuk-tag--red"),
}
# A breach's severity and its status never share a colour, so one is never read as the
# other: severity runs red to turquoise, a breach's status blue, purple, grey and green.
SEVERITY_TAGS: dict[str, str] = {
    "info": "govuk-tag--turquoise",
    "low": "govuk-tag--light-blue",
    "medium": "govuk-tag--yellow",
    "high": "govuk-tag--orange",
    "severe": "govuk-tag--red",
}
STATUS_TAGS: dict[str, str] = {
    "open": "govuk-tag--blue",
    "acknowledged": "govuk-tag--purple",
    "excepted": "govuk-tag--grey",
    "overridden": "govuk-tag--grey",
    "resolved": "govuk-tag--green",
    "booked": "govuk-tag--blue",
    "taken": "govuk-tag--green",
    "cancelled": "govuk-tag--grey",
    "displaced": "govuk-tag--orange",
    "active": "govuk-tag--green",
    "paused": "govuk-tag--yellow",
    "withdrawn": "govuk-tag--grey",
    "completed": "govuk-tag--blue",
}
ROLE_LABELS: dict[str, str] = {
    "nqsw": "NQSW",
    "advanced_practitioner": "Advanced practitioner",
    "social_worker": "Social worker",
    "team_manager": "Team manager",
    "senior_manager": "Senior manager",
    "asye_coordinator": "ASYE coordinator",
    "admin": "Administrator",
    "holder": "Case holder",
    "co_worker": "Co-worker",
}
ACRONYMS = {"asye": "ASYE", "swip": "SWIP", "cp": "CP", "ap": "AP", "nqsw": "NQSW"}


def humanise(value: object) -> str:
    """`child_protection_plan` -> `Child protection plan`, keeping the sector's acronyms."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(getattr(value, "value", value))
    if text in ROLE_LABELS:
        return ROLE_LABELS[text]
    words = [ACRONYMS.get(w.lower(), w) for w in text.replace("-", " ").split("_")]
    sentence = " ".join(words)
    return sentence[:1].upper() + sentence[1:]


def _as_date(value: object) -> object:
    """ISO strings (as JSON-shaped service answers carry them) become dates."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _day_month_year(value: date | datetime | str | None, month: str) -> str:
    """A date as the day, the month in `month`'s strftime form and the year; timestamps
    in the organisation's time zone, so that the long and short forms never disagree
    about which day a late-evening change fell on."""
    value = _as_date(value)  # type: ignore[assignment]
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, datetime):
        value = value.astimezone(get_settings().tz).date()
    return f"{value.day} {value:{month} %Y}"


def long_date(value: date | datetime | str | None) -> str:
    """GOV.UK style: 23 November 2026 (timestamps shown in the organisation's time zone)."""
    return _day_month_year(value, "%B")


def short_date(value: date | datetime | str | None) -> str:
    """23 Nov 2026, for tables."""
    return _day_month_year(value, "%b")


def date_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(get_settings().tz)
    return f"{local.day} {local:%b %Y} {local:%H:%M}"


def date_answer(value: object) -> DateAnswer:
    """A date as the three boxes of the GOV.UK date input show it."""
    return DateAnswer.of(value)


def _typed_dates(value: Any) -> Any:
    """Answers sent back to a page, with each date typed in three boxes as one answer,
    so a refused form shows the boxes as they were typed under the date's own name."""
    if isinstance(value, dict) and any(
            isinstance(k, str) and k.endswith(("-day", "-month", "-year")) for k in value):
        return with_dates(value)
    return value


def number(value: float | int | None, places: int = 1) -> str:
    """Whole numbers without a decimal point, others to `places`."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{places}f}"


def outcome_label(outcome: object) -> str:
    return OUTCOME_TAGS.get(str(getattr(outcome, "value", outcome)), ("", ""))[0]


def outcome_class(outcome: object) -> str:
    return OUTCOME_TAGS.get(str(getattr(outcome, "value", outcome)), ("", "govuk-tag--grey"))[1]


def severity_class(severity: object) -> str:
    return SEVERITY_TAGS.get(str(getattr(severity, "value", severity)), "govuk-tag--grey")


def status_class(status: object) -> str:
    return STATUS_TAGS.get(str(getattr(status, "value", status)), "govuk-tag--grey")


templates = Jinja2Blocks(directory=str(TEMPLATE_DIR))
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
# Each filter is known to the templates by its function's name.
templates.env.filters.update({f.__name__: f for f in (
    humanise, long_date, short_date, date_time, number, outcome_label, outcome_class,
    severity_class, status_class, date_answer, evidence_rows, role_words,
)})


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The full page, or only `block` when htmx asked for it."""
    ctx: dict[str, Any] = {"request": request,
                           **{k: _typed_dates(v) for k, v in (context or {}).items()}}
    ctx.setdefault("viewer", getattr(request.state, "viewer", None))
    ctx.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    ctx.setdefault("unread_count", getattr(request.state, "unread_count", 0))
    if block is not None and is_htmx(request):
        response: Response = templates.TemplateResponse(
            request, template, ctx, status_code=status_code, headers=headers, block_name=block
        )
    else:
        response = templates.TemplateResponse(
            request, template, ctx, status_code=status_code, headers=headers
        )
    response.headers.setdefault("Vary", "HX-Request")
    return response


def render_block(request: Request, template: str, block: str, context: Mapping[str, Any]) -> str:
    """One block as a string, e.g. to put a fragment inside another response."""
    from jinja2_fragments import render_block as _render_block

    ctx: dict[str, Any] = {"request": request,
                           **{k: _typed_dates(v) for k, v in context.items()}}
    return _render_block(templates.env, template, block, ctx)


def html(content: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status_code)
