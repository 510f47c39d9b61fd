"""Staff as the API shows them, and the input types shared by the foundation areas.

`Day` (from app.schemas.common) and `Email` are re-exported here because staff is where
they are first needed; the NQSW, case and adjustment schemas reuse them so that every
date and address is checked alike.

A working pattern is an FTE and contracted hours a week. Either may be left out: the
missing one follows from the full-time week (`RINGFENCE_FULL_TIME_HOURS`, 37 hours), so
`{"fte": 0.6}` means 22.2 hours, not a full-time 37. When both are given they must
describe a plausible full-time week (hours / FTE within 20% of the full-time week):
0.6 FTE at 37 hours is a slip that would silently undo every pro-rata cap.
"""

from __future__ import annotations

import operator
import re
from datetime import date, datetime
from typing import Annotated, Any, Self, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.models.base import Role
from app.schemas.common import (
    MAX_ID,
    Day,
    Name,
    PublicRecord,
    RecordId,
    RequestBody,
    date_order_check,
)

_Text = TypeVar("_Text", str, str | None)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def no_nul(value: _Text) -> _Text:
    """A NUL character is never meaningful in a name or a reference, and PostgreSQL refuses it."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _normalise_email(value: str) -> str:
    value = no_nul(value).strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


def id_query(description: str) -> Any:
    """A query parameter naming a record: refused when larger than any id can be."""
    return Query(le=MAX_ID, description=description)


def text_query(description: str, *, max_length: int) -> Any:
    return Query(max_length=max_length, description=description)


PersonName = Annotated[Name, AfterValidator(no_nul)]
# Free text in a query string: put after the Query(...) so its length check comes first.
NotNul = AfterValidator(no_nul)
Email = Annotated[str, Field(max_length=320), AfterValidator(_normalise_email)]
Fte = Annotated[
    float,
    Field(gt=0, le=1, allow_inf_nan=False,
          description="Full-time equivalent, in (0, 1]; default 1, or contracted hours / the "
                      "full-time week when only the hours are given."),
]
Hours = Annotated[
    float,
    Field(gt=0, le=60, allow_inf_nan=False,
          description="Contracted hours a week, in (0, 60]; default the full-time week "
                      "(RINGFENCE_FULL_TIME_HOURS, 37) x FTE."),
]

# How far a working pattern's full-time week (hours / FTE) may be from the configured
# full-time week before it is taken for a slip: 20%, e.g. 29.6 to 44.4 hours for 37.
PLAUSIBLE_SPREAD = 0.2


def full_time_hours() -> float:
    """The organisation's full-time week (RINGFENCE_FULL_TIME_HOURS)."""
    from app.settings import get_settings

    return get_settings().full_time_hours


def hours_for(fte: float) -> float:
    """Contracted hours a week for this FTE, from the full-time week."""
    return round(full_time_hours() * fte, 2)


def implausible_pattern(fte: float, hours: float) -> str | None:
    """Why `hours` a week at `fte` is not a believable working pattern; None when it is."""
    full = full_time_hours()
    week = hours / fte
    low, high = full * (1 - PLAUSIBLE_SPREAD), full * (1 + PLAUSIBLE_SPREAD)
    if low - 1e-9 <= week <= high + 1e-9:
        return None
    return (
        f"{hours:g} hours a week at FTE {fte:g} would be a full-time week of {week:.1f} "
        f"hours, but the full-time week is {full:g} hours (a full-time week between "
        f"{low:.1f} and {high:.1f} is accepted); give the hours that match the FTE, "
        "or leave the hours out to have them worked out"
    )


def check_hours_against_fte(
    value: float | None, info: ValidationInfo, *, default_fte: float | None
) -> float | None:
    """Field validator body for `contracted_hours` (declared after `fte`)."""
    if value is None or "fte" not in info.data:
        return value  # no hours, or the FTE is itself refused
    fte = info.data["fte"] if info.data["fte"] is not None else default_fte
    if fte is not None:
        problem = implausible_pattern(fte, value)
        if problem:
            raise ValueError(problem)
    return value


def complete_pattern_on_create(model: Any) -> None:
    """Fill in what was left out of a new working pattern (see the module docstring)."""
    if model.fte is None:
        model.fte = 1.0
    if model.contracted_hours is None:
        model.contracted_hours = hours_for(model.fte)


def complete_pattern_on_update(model: Any) -> None:
    """A change of FTE alone brings the hours with it, as on creation."""
    if model.fte is not None and "contracted_hours" not in model.model_fields_set:
        model.contracted_hours = hours_for(model.fte)
        model.model_fields_set.add("contracted_hours")


class NewWorkingPattern(RequestBody):
    """A body that starts a working pattern (a new staff record or NQSW): its
    `contracted_hours` checked against its `fte`, and the one left out filled in, so every
    way in to a new pattern applies the same rule."""

    @field_validator("contracted_hours", check_fields=False)
    @classmethod
    def _plausible_hours(cls, value: float | None, info: ValidationInfo) -> float | None:
        return check_hours_against_fte(value, info, default_fte=1.0)

    @model_validator(mode="after")
    def _complete_pattern(self) -> Self:
        complete_pattern_on_create(self)
        return self


class ChangedWorkingPattern(RequestBody):
    """A body that may change a working pattern (staff or NQSW corrections): the same
    checks as a new one, against the stored FTE when the change gives none."""

    @field_validator("contracted_hours", check_fields=False)
    @classmethod
    def _plausible_hours(cls, value: float | None, info: ValidationInfo) -> float | None:
        # Without an FTE in the same change the stored one applies: the service checks.
        return check_hours_against_fte(value, info, default_fte=None)

    @model_validator(mode="after")
    def _complete_pattern(self) -> Self:
        complete_pattern_on_update(self)
        return self


leave_not_before_start = date_order_check(
    "start_date", operator.lt, "leave date {value} is before the start date {other}"
)


class StaffCreate(NewWorkingPattern):
    name: PersonName
    email: Email
    role: Role
    team_id: RecordId | None = None
    # `fte` before `contracted_hours`: the hours are checked against it.
    fte: Fte | None = None
    contracted_hours: Hours | None = None
    start_date: Day
    leave_date: Day | None = None
    experienced: bool = False

    check_leave = field_validator("leave_date")(leave_not_before_start)


class StaffUpdate(ChangedWorkingPattern):
    """Corrections to a staff record; leaving is its own action (POST .../leave)."""

    name: PersonName | None = None
    email: Email | None = None
    role: Role | None = None
    team_id: RecordId | None = None
    fte: Fte | None = None
    contracted_hours: Hours | None = None
    start_date: Day | None = None
    leave_date: Day | None = None
    experienced: bool | None = None


class StaffPublic(PublicRecord):
    name: str
    email: str
    role: str
    team_id: RecordId | None
    contracted_hours: float
    fte: float
    start_date: date
    leave_date: date | None
    experienced: bool
    created_at: datetime


class LeaveRequest(RequestBody):
    """People leave on a date; their record stays because history refers to it."""

    on: Day | None = None
