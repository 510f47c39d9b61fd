"""Form input for pages: parse into a Pydantic model, or a message beside each bad field.

Pages never show a raw 422: a person gets an error summary at the top and the reason
next to the field, in words ("Enter a date"), and the values they typed are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import DomainError

M = TypeVar("M", bound=BaseModel)

DATE_PARTS = ("day", "month", "year")
MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"), start=1)}


class DateAnswer(str):
    """A date asked as three boxes (the GOV.UK date input), as one answer.

    It reads as the ISO date when the boxes make one, so a form model's `date` field and
    the service behind it see a date as if it had been typed whole; otherwise it reads as
    what was typed, and `problem` says in words what is wrong with it. It keeps the boxes
    as typed, so a refused form shows them again, and `wrong` names the boxes to mark.
    """

    day: str
    month: str
    year: str
    problem: str | None
    wrong: tuple[str, ...]

    def __new__(cls, day: str = "", month: str = "", year: str = "") -> DateAnswer:
        parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
        problem, wrong, iso = _read_parts(parts)
        text = iso or ("" if not any(parts.values()) else
                       "-".join((parts["year"], parts["month"], parts["day"])))
        answer = super().__new__(cls, text)
        answer.day, answer.month, answer.year = parts["day"], parts["month"], parts["year"]
        answer.problem, answer.wrong = problem, wrong
        return answer

    @classmethod
    def of(cls, value: object) -> DateAnswer:
        """An answer already given (a date, or an ISO date as stored) in its three boxes."""
        if isinstance(value, DateAnswer):
            return value
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return cls()
        if isinstance(value, date):
            return cls(str(value.day), str(value.month), str(value.year))
        return cls()


def _read_parts(parts: Mapping[str, str]) -> tuple[str | None, tuple[str, ...], str]:
    """(what is wrong, the boxes it is wrong in, the ISO date): GOV.UK's date messages.

    Nothing typed is not a problem here: the form model says whether the date is needed.
    """
    missing = tuple(p for p in DATE_PARTS if not parts[p])
    if len(missing) == len(DATE_PARTS):
        return None, (), ""
    if missing:
        return "must include a " + " and ".join(missing), missing, ""
    day, month, year = parts["day"], parts["month"].lower(), parts["year"]
    month_number = MONTHS.get(month) or next(
        (n for name, n in MONTHS.items() if len(month) >= 3 and name.startswith(month)), None)
    if month_number is None and month.isdigit():
        month_number = int(month)
    if not year.isdigit() or len(year) != 4:
        return "year must include 4 numbers", ("year",), ""
    if not day.isdigit() or month_number is None:
        wrong = tuple(p for p, ok in (("day", day.isdigit()), ("month", month_number))
                      if not ok)
        return "must be a real date", wrong, ""
    try:
        return None, (), date(int(year), month_number, int(day)).isoformat()
    except ValueError:
        return "must be a real date", DATE_PARTS, ""


def with_dates(values: Mapping[str, Any], *, boxes: bool = True) -> dict[str, Any]:
    """The answers with each date asked in three boxes (`name-day`, `name-month`,
    `name-year`) as one answer under `name`. The boxes stay unless `boxes` is false (a
    form model refuses answers it does not know)."""
    combined = dict(values)
    names = {key[: -len(part) - 1] for key in values for part in DATE_PARTS
             if isinstance(key, str) and key.endswith("-" + part)}
    for name in names:
        combined[name] = DateAnswer(*(str(values.get(f"{name}-{p}") or "") for p in DATE_PARTS))
        if not boxes:
            for part in DATE_PARTS:
                combined.pop(f"{name}-{part}", None)
    return combined


Answers = dict[str, Any]


def dated(wanted: Callable[[Answers], Answers]) -> Callable[[Answers], Answers]:
    """A page's `wanted` (the answers as a service's fields) given each date typed in
    three boxes as one answer, so it can pick a date by its own name."""

    def read(values: Answers) -> Answers:
        return wanted(with_dates(values))

    return read


def date_message(answer: DateAnswer, label: str) -> str | None:
    """What is wrong with a date answer, in GOV.UK's words ("Start date must include a
    year", "Year must include 4 numbers")."""
    if answer.problem is None:
        return None
    if answer.problem.startswith("year "):
        return answer.problem[:1].upper() + answer.problem[1:]
    return f"{label} {answer.problem}"


@dataclass
class FormErrors:
    """Messages keyed by form field; `None` key holds a message about the whole form."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.messages.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def get(self, name: str) -> str | None:
        return self.messages.get(name)

    def summary(self) -> list[tuple[str, str]]:
        """(field, message) in form order, for the error summary's links."""
        return list(self.messages.items())


def _message(error: Mapping[str, Any], label: str, *, chosen: bool = False) -> str:
    kind = error.get("type", "")
    given = error.get("input")
    if isinstance(given, DateAnswer) and given.problem:
        return date_message(given, label) or ""
    if kind == "missing" or (kind == "string_too_short" and error.get("input") in ("", None)):
        return f"{'Select' if chosen else 'Enter'} {label.lower()}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{label} must be a real date"
    if kind.startswith("int") or kind.startswith("float"):
        return f"{label} must be a number"
    if kind in ("enum", "literal_error"):
        return f"Select {label.lower()}"
    ctx = error.get("ctx") or {}
    bounds = {"greater_than": "more than", "greater_than_equal": "at least",
              "less_than": "less than", "less_than_equal": "at most"}
    if kind in bounds and len(ctx) == 1:
        bound = next(iter(ctx.values()))
        shown = f"{bound:g}" if isinstance(bound, float) else bound
        return f"{label} must be {bounds[kind]} {shown}"
    if kind == "string_too_short":
        return f"{label} must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer"
    msg = str(error.get("msg", "is not valid"))
    return msg.removeprefix("Value error, ").rstrip(".")


def parse_form(
    model: type[M], data: Mapping[str, Any], labels: Mapping[str, str] | None = None,
    *, chosen: Collection[str] = (),
) -> tuple[M | None, FormErrors]:
    """Validate `data`; empty strings count as "not given" so optional fields stay optional.

    `chosen` names the fields answered by picking (radios, selects): "Select ..." rather
    than "Enter ..." when they are missing. A date asked in three boxes is read as one
    answer first, so the model sees `name` whichever way the date was asked.
    """
    labels = labels or {}
    data = with_dates(data, boxes=False)
    cleaned = {k: (v.strip() if isinstance(v, str) and not isinstance(v, DateAnswer) else v)
               for k, v in data.items()}
    cleaned = {k: v for k, v in cleaned.items() if v != ""}
    errors = FormErrors()
    try:
        return model.model_validate(cleaned), errors
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else ""
            label = labels.get(name, name.replace("_", " ").capitalize() or "This form")
            errors.add(name, _message(error, label, chosen=name in chosen))
        return None, errors


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def as_sentence(message: str) -> str:
    """A service's message as a person reads it: a capital letter, dates in words."""

    def spelled(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return f"{day.day} {day:%B %Y}"

    text = ISO_DATE.sub(spelled, message)
    return text[:1].upper() + text[1:]


def domain_errors(exc: DomainError, *, rename: Mapping[str, str] | None = None) -> FormErrors:
    """A service's refusal as a message beside the field it names."""
    rename = rename or {}
    loc = [str(part) for part in exc.loc if part not in ("body", "query", "path")]
    name = loc[-1] if loc else ""
    errors = FormErrors()
    errors.add(rename.get(name, name), as_sentence(exc.message))
    return errors
