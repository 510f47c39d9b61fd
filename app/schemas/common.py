"""Shapes shared by every API area: pages of results, pagination, ids and dates.

Dates are bounded to the years a workforce record can mean (`FIRST_DAY`..`LAST_DAY`):
a year like 9999 is a typing slip, and date arithmetic on it (a SWIP's 24 months)
would overflow, so it is refused as bad input naming the field instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from app.clock import today

T = TypeVar("T")

# The ids the database can hold (a 32-bit integer on PostgreSQL): a larger number names no
# record and is refused as bad input, not passed to the database.
MAX_ID = 2_147_483_647
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# The dates the service accepts, in bodies and in query strings alike.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
DATE_RANGE_TEXT = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"


def date_text_only(value: Any) -> Any:
    """A date arrives as text (YYYY-MM-DD); a bare number is refused, not read as a timestamp."""
    if isinstance(value, bool | int | float):
        raise ValueError("a date must be given as YYYY-MM-DD")
    return value


def within_supported_range(value: date | None) -> date | None:
    """Refuse a date outside FIRST_DAY..LAST_DAY (see the module docstring)."""
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"date {value.isoformat()} is out of range: it must be {DATE_RANGE_TEXT}")
    return value


def is_supported_day(value: date) -> bool:
    return FIRST_DAY <= value <= LAST_DAY


DateCheck = Callable[[date | None, ValidationInfo], date | None]


def date_order_check(other: str, refused: Callable[[date, date], bool], message: str) -> DateCheck:
    """A field validator comparing a date with the field `other` (declared before it):
    `refused(value, other)` true is bad input, said by `message` (formatted with `value`
    and `other`). Either date left out: nothing to compare."""

    def check(value: date | None, info: ValidationInfo) -> date | None:
        bound = info.data.get(other)
        if value is not None and bound is not None and refused(value, bound):
            raise ValueError(message.format(value=value, other=bound))
        return value

    return check


# A date in a JSON body: text only, within the supported range.
Day = Annotated[date, BeforeValidator(date_text_only), AfterValidator(within_supported_range)]
# The same check for a date in a query string (put after the Query(...)).
InRange = AfterValidator(within_supported_range)


def effective_date(
    on: Annotated[
        date | None,
        Query(description=f"Effective date (YYYY-MM-DD, Europe/London), {DATE_RANGE_TEXT}; "
                          "default today."),
        InRange,
    ] = None,
) -> date:
    """The `on=` query parameter: the day a question is asked about or a change takes effect."""
    return on or today()


OnQuery = Annotated[date, Depends(effective_date)]


def given_date(
    on: Annotated[
        date | None,
        Query(description=f"Effective date (YYYY-MM-DD, Europe/London), {DATE_RANGE_TEXT}; "
                          "may be given here or as `on` in the body; default today."),
        InRange,
    ] = None,
) -> date | None:
    """The `on=` query parameter of a change that also takes `on` in its body."""
    return on


GivenOnQuery = Annotated[date | None, Depends(given_date)]


def effective_on(
    query_on: date | None, body_on: date | None, *, event_field: str | None = None
) -> date:
    """One effective date from the query and the body: either may say it, not differently.

    Changes take `on` in the body (POST .../close, allocations) or the query (PATCH);
    routes that accept both read it from wherever the client put it. On a route whose
    event has a date of its own (`event_field`, e.g. `taken_on`), the refusal says where
    that date goes: a client that sent the event's date as `on` learns the field's name.
    """
    from app.errors import DomainError

    if query_on is not None and body_on is not None and query_on != body_on:
        elsewhere = (f"; the day the event happened goes in `{event_field}`"
                     if event_field else "")
        raise DomainError(
            f"the body says on={body_on.isoformat()} but the query says "
            f"on={query_on.isoformat()}; give one date{elsewhere}", field="on",
        )
    return body_on or query_on or today()


def request_date_in_body(event_field: str) -> Any:
    """The body's `on` on a route recording an event with a date of its own
    (`event_field`): the request's date, as on every route, never the event's. Kept for
    clients that give the request's date in the body (see `effective_on`)."""
    return Field(
        default=None,
        description="The date of this request, the same as the `on` query parameter, for "
                    "clients that give it here (in both places: the same date, else 422). "
                    f"Not the day the event happened: give that as `{event_field}`.",
    )


# Names a client might use to say who acts or who approved. None of them is an input:
# a change is always recorded in the name of the person signed in (docs/api.md), so a
# body naming one is refused with a sentence that says so, not just "extra input".
WHO_ACTS_FIELDS = frozenset({
    "actor_id", "allocated_by_id", "approver_id", "approved_by_id", "acknowledged_by_id",
    "cancelled_by_id", "recorded_by_id", "booked_by_id", "exception_approver_id",
    "override_by_id", "created_by_id", "updated_by_id", "requested_by_id",
})


class RequestBody(BaseModel):
    """The base of every request body: unknown fields are refused (422 naming the field).

    Refusing them matters beyond typos: a body cannot smuggle in who acted
    (`actor_id`, `approver_id`, ...) and have it ignored silently or, worse, honoured.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _who_acts_is_not_an_input(
        cls, data: Any, handler: ValidatorFunctionWrapHandler
    ) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not any(_names_who_acts(e) for e in errors):
                raise
            raise ValidationError.from_exception_data(
                exc.title, [_who_acts_error(e) if _names_who_acts(e) else _as_it_was(e)
                            for e in errors],
            ) from None


def _names_who_acts(error: ErrorDetails) -> bool:
    loc = error["loc"]
    return error["type"] == "extra_forbidden" and bool(loc) and loc[-1] in WHO_ACTS_FIELDS


def _who_acts_error(error: ErrorDetails) -> InitErrorDetails:
    name = str(error["loc"][-1])
    return InitErrorDetails(
        type=PydanticCustomError(
            "extra_forbidden",
            "{field} is not accepted: a change is recorded in the name of the person "
            "signed in, and an approval is made by the approver's own request",
            {"field": name},
        ),
        loc=error["loc"],
        input=error["input"],
    )


def _as_it_was(error: ErrorDetails) -> InitErrorDetails:
    """Any other error of the same body, unchanged (its type, message, context and input),
    whether Pydantic's own or one of the service's custom types."""
    context = error.get("ctx")
    return InitErrorDetails(
        type=PydanticCustomError(error["type"], error["msg"], dict(context) if context else None),
        loc=error["loc"],
        input=error["input"],
    )


class PublicRecord(BaseModel):
    """The base of every stored record the API shows: read from the row's attributes,
    `id` first."""

    model_config = ConfigDict(from_attributes=True)

    id: int


class Page(BaseModel, Generic[T]):
    """A page of results and the total that matched the filters."""

    data: list[T]
    count: int


class Pagination(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


def pagination(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Rows to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


class ErrorItem(BaseModel):
    """One thing wrong with a request: where (`loc`: "path", "query", "body" or "header",
    then the parameter or field), what (`msg`, a sentence for a person) and its kind."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The one error shape of every 4xx answer (docs/api.md, "Conventions")."""

    detail: list[ErrorItem]


class TokenError(ErrorResponse):
    """An error of `POST /auth/token`: the one error shape, with the fields RFC 6749
    section 5.2 requires of an OAuth2 token endpoint beside it."""

    error: str = Field(description="invalid_request, invalid_grant, invalid_scope, ...")
    error_description: str
