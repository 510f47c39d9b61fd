"""A date typed into the GOV.UK date input's three boxes: read as one date for the form
model the service takes, or a message in GOV.UK's words beside the question, with the
boxes shown again as they were typed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import BaseModel

from app.web.forms import parse_form, with_dates
from app.web.templating import templates


class Pause(BaseModel):
    start_date: date
    back_on: date | None = None


LABELS = {"start_date": "First day of the pause", "back_on": "First day back"}


def typed(day: str, month: str, year: str, name: str = "start_date") -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


@pytest.mark.parametrize(("day", "month", "year", "expected"), [
    ("3", "11", "2026", date(2026, 11, 3)),
    (" 03 ", "11", "2026", date(2026, 11, 3)),
    ("29", "2", "2028", date(2028, 2, 29)),
    ("3", "Nov", "2026", date(2026, 11, 3)),
    ("3", "november", "2026", date(2026, 11, 3)),
])
def test_three_boxes_make_the_date_the_form_model_takes(
    day: str, month: str, year: str, expected: date,
) -> None:
    form, errors = parse_form(Pause, typed(day, month, year), LABELS)
    assert not errors
    assert form is not None and form.start_date == expected and form.back_on is None


@pytest.mark.parametrize(("day", "month", "year", "message"), [
    ("", "", "", "Enter first day of the pause"),
    ("3", "11", "", "First day of the pause must include a year"),
    ("", "11", "", "First day of the pause must include a day and year"),
    ("", "", "2026", "First day of the pause must include a day and month"),
    ("30", "2", "2026", "First day of the pause must be a real date"),
    ("3", "13", "2026", "First day of the pause must be a real date"),
    ("x", "11", "2026", "First day of the pause must be a real date"),
    ("3", "11", "26", "Year must include 4 numbers"),
])
def test_a_date_that_is_not_whole_is_said_beside_the_question(
    day: str, month: str, year: str, message: str,
) -> None:
    form, errors = parse_form(Pause, typed(day, month, year), LABELS)
    assert form is None
    assert errors.summary() == [("start_date", message)]


def test_an_optional_date_left_empty_is_not_asked_for_but_half_typed_is_refused() -> None:
    empty, errors = parse_form(Pause, {**typed("3", "11", "2026"), **typed("", "", "", "back_on")},
                               LABELS)
    assert not errors and empty is not None and empty.back_on is None
    half, errors = parse_form(Pause, {**typed("3", "11", "2026"),
                                      **typed("", "12", "2026", "back_on")}, LABELS)
    assert half is None and errors.get("back_on") == "First day back must include a day"


def test_a_refused_date_is_shown_again_as_typed_with_only_the_wrong_box_marked() -> None:
    values = with_dates(typed("3", "11", "26"))
    form, errors = parse_form(Pause, values, LABELS)
    page = templates.env.from_string(
        '{% import "fragments/forms.html" as f %}'
        '{{ f.date_input("start_date", "First day of the pause", values.start_date, errors) }}'
    ).render(values=values, errors=errors)
    assert 'aria-describedby="start-date-hint start-date-error"' in page
    assert "For example, 27 3 2027" in page and "Year must include 4 numbers" in page
    boxes = {part: re.search(rf'<input class="([^"]*)"[^>]*name="start_date-{part}"'
                             r'[^>]*value="([^"]*)"', page).groups()  # type: ignore[union-attr]
             for part in ("day", "month", "year")}
    assert [typed for _, typed in boxes.values()] == ["3", "11", "26"]
    assert ["govuk-input--error" in classes for classes, _ in boxes.values()] == \
        [False, False, True]


def test_a_stored_date_fills_the_boxes() -> None:
    page = templates.env.from_string(
        '{% import "fragments/forms.html" as f %}{{ f.date_input("day", "Date", day) }}'
    ).render(day="2026-03-07")
    assert 'name="day-day" type="text" inputmode="numeric" spellcheck="false" value="7"' in page
    assert 'name="day-month" type="text" inputmode="numeric" spellcheck="false" value="3"' in page
    assert "govuk-input--error" not in page and "govuk-form-group--error" not in page
