"""Individual adjustments: an NQSW's time-limited change to one policy parameter, recorded
directly (approved at once) or proposed and then approved, refused or withdrawn."""

from __future__ import annotations

import operator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    field_validator,
)

from app.policy.snapshot import AS_AGREED, AppliesAs
from app.schemas.common import PublicRecord, RequestBody, date_order_check
from app.schemas.staff import Day, RecordId, no_nul

APPLIES_AS_DESCRIPTION = (
    "How an agreed number the rule scales by FTE (a stage cap's band cap) applies to a "
    "part-time NQSW: as_agreed (the number as written is final: '0.8 FTE, a cap of 10' "
    "means 10) or pro_rata (scaled by FTE and rounded like the policy's own caps: 8). "
    "Any other parameter applies as agreed."
)

# Where an adjustment stands: only an approved one can be in force.
AdjustmentStatus = Literal["pending", "approved", "refused", "withdrawn"]
STATUS_DESCRIPTION = (
    "pending (proposed, waiting for the approver; not in force), approved (in force "
    "between its dates), refused (by the approver, with a reason) or withdrawn (by whoever "
    "proposed it)."
)

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
    applies_as: AppliesAs = Field(default=AS_AGREED, description=APPLIES_AS_DESCRIPTION)
    reason: Text
    valid_from: Day
    valid_to: Day | None = None

    @field_validator("value")
    @classmethod
    def _has_value(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("an adjustment needs a value")
        return value

    _ends_after_start = field_validator("valid_to")(date_order_check(
        "valid_from", operator.lt, "valid_to {value} is before valid_from {other}"
    ))


class AdjustmentEnd(RequestBody):
    """The last day the adjustment is in force."""

    on: Day | None = None


class AdjustmentRefuse(RequestBody):
    """Why the proposal is refused: the proposer is told."""

    reason: Text


class AdjustmentWithdraw(RequestBody):
    """Why the proposer takes it back (optional)."""

    reason: Text | None = None


class AdjustmentPublic(PublicRecord):
    staff_id: RecordId
    enrolment_id: RecordId
    policy_id: str
    parameter: str
    value: Any
    applies_as: AppliesAs = Field(default=AS_AGREED, description=APPLIES_AS_DESCRIPTION)
    reason: str
    status: AdjustmentStatus = Field(default="approved", description=STATUS_DESCRIPTION)
    proposed_by_id: RecordId | None = Field(
        default=None, description="Who proposed it (none when it was recorded directly)."
    )
    approved_by_id: RecordId | None = Field(
        default=None, description="Who approved it (none until it is approved)."
    )
    decided_by_id: RecordId | None = Field(
        default=None, description="Who approved, refused or withdrew it."
    )
    decided_at: datetime | None = None
    decision_reason: str | None = Field(
        default=None, description="The reason given for refusing or withdrawing it."
    )
    valid_from: date
    valid_to: date | None
    in_force: bool
    created_at: datetime
