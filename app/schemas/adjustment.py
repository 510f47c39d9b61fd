"""Individual adjustments: an NQSW's approved, time-limited change to one policy parameter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.schemas.common import RequestBody
from app.schemas.staff import Day, RecordId, no_nul

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(no_nul),
]


class AdjustmentCreate(RequestBody):
    policy_id: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        AfterValidator(no_nul),
    ]
    parameter: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(no_nul),
    ]
    value: Any
    reason: Text
    valid_from: Day
    valid_to: Day | None = None

    @field_validator("value")
    @classmethod
    def _has_value(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("an adjustment needs a value")
        return value

    @field_validator("valid_to")
    @classmethod
    def _ends_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise ValueError(f"valid_to {value} is before valid_from {start}")
        return value


class AdjustmentEnd(RequestBody):
    """The last day the adjustment is in force."""

    on: Day | None = None


class AdjustmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: RecordId
    enrolment_id: RecordId
    policy_id: str
    parameter: str
    value: Any
    reason: str
    approved_by_id: RecordId
    valid_from: date
    valid_to: date | None
    in_force: bool
    created_at: datetime
