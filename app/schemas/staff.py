"""Staff as the API shows them, and the input types shared by the foundation areas.

`Day` and `Email` live here because staff is where they are first needed; the NQSW,
case and adjustment schemas reuse them so that every date and address is checked alike.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from app.models.base import Role
from app.schemas.common import MAX_ID, Name, RecordId

_Text = TypeVar("_Text", str, str | None)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _date_text_only(value: Any) -> Any:
    """A date arrives as text (YYYY-MM-DD); a bare number is refused, not read as a timestamp."""
    if isinstance(value, bool | int | float):
        raise ValueError("a date must be given as YYYY-MM-DD")
    return value


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


Day = Annotated[date, BeforeValidator(_date_text_only)]
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
    float, Field(gt=0, le=1, allow_inf_nan=False, description="Full-time equivalent, in (0, 1].")
]
Hours = Annotated[
    float,
    Field(gt=0, le=60, allow_inf_nan=False, description="Contracted hours a week, in (0, 60]."),
]


def leave_not_before_start(value: date | None, info: ValidationInfo) -> date | None:
    start = info.data.get("start_date")
    if value is not None and start is not None and value < start:
        raise ValueError(f"leave date {value} is before the start date {start}")
    return value


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    email: Email
    role: Role
    team_id: RecordId | None = None
    contracted_hours: Hours = 37.0
    fte: Fte = 1.0
    start_date: Day
    leave_date: Day | None = None
    experienced: bool = False

    check_leave = field_validator("leave_date")(leave_not_before_start)


class StaffUpdate(BaseModel):
    """Corrections to a staff record; leaving is its own action (POST .../leave)."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    email: Email | None = None
    role: Role | None = None
    team_id: RecordId | None = None
    contracted_hours: Hours | None = None
    fte: Fte | None = None
    start_date: Day | None = None
    leave_date: Day | None = None
    experienced: bool | None = None


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
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


class LeaveRequest(BaseModel):
    """People leave on a date; their record stays because history refers to it."""

    model_config = ConfigDict(extra="forbid")

    on: Day | None = None
