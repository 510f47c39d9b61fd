"""Typing a date as a person does into the GOV.UK date input: its Day, Month and Year."""

from __future__ import annotations

from datetime import date
from typing import Any


def date_group(page: Any, legend: str) -> Any:
    """The date input whose question (its fieldset's legend) is `legend`."""
    return page.get_by_role("group", name=legend, exact=True)


def fill_date(page: Any, legend: str, day: date | str) -> None:
    """Type `day` (a date, an ISO date, or "" to clear the boxes) into the date input."""
    when = date.fromisoformat(day) if isinstance(day, str) and day else day
    group = date_group(page, legend)
    for part in ("Day", "Month", "Year"):
        typed = str(getattr(when, part.lower())) if isinstance(when, date) else ""
        group.get_by_label(part, exact=True).fill(typed)

