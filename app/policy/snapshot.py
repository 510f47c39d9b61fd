"""What the engine sees of one NQSW on one date.

A snapshot is built by `app.services.snapshots` from a few batched queries and
handed to the engine; the engine never reaches back into the database. Frozen
dataclasses (not Pydantic models) because the engine evaluates thousands of
these in a sweep and they are already validated on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

AllocationRoleName = Literal["holder", "co_worker"]
# How an agreed number applies to a part-time NQSW: as written ("as_agreed", the final
# figure), or scaled by their FTE like the policy's own figure ("pro_rata").
AppliesAs = Literal["as_agreed", "pro_rata"]
AS_AGREED: AppliesAs = "as_agreed"
PRO_RATA: AppliesAs = "pro_rata"


@dataclass(frozen=True, slots=True)
class HoursPeriod:
    """The contracted hours and FTE in force from `first` until `until` (exclusive; None:
    open-ended). A programme whose working pattern changed (part-time on return from
    maternity leave) earns each period's days at that period's hours."""

    first: date
    until: date | None
    contracted_hours: float
    fte: float


@dataclass(frozen=True, slots=True)
class CaseLoadItem:
    """One case the NQSW holds or co-works on the snapshot date."""

    case_id: int
    reference: str
    category: str
    complexity: int
    role: AllocationRoleName
    start_date: date
    allocation_id: int | None = None
    # For a co-worked case: whether the named holder is an advanced practitioner.
    holder_is_advanced_practitioner: bool = False


@dataclass(frozen=True, slots=True)
class PauseSpan:
    """A deferral; `end` is the last paused day, None while the pause is open."""

    start: date
    end: date | None
    reason: str = "other"


@dataclass(frozen=True, slots=True)
class SignOffRecord:
    kind: str
    signed_on: date


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    """An approved individual change to one parameter of one policy for this NQSW.

    `applies_as` says whether an agreed number a rule would scale by FTE (a stage cap) is
    the final figure or is scaled like the policy's own: an agreement is usually written
    with the person's hours in mind ("0.8 FTE: a cap of 10"), so as written by default.
    """

    policy_id: str
    parameter: str
    value: Any
    reason: str
    valid_from: date
    valid_to: date | None = None
    adjustment_id: int | None = None
    applies_as: AppliesAs = AS_AGREED


@dataclass(frozen=True, slots=True)
class ProtectedTimeEntry:
    """A protected-development booking (filled in by the diary)."""

    day: date
    hours: float
    status: Literal["booked", "taken", "cancelled", "displaced"]
    purpose: str = "study"
    cancelled_on: date | None = None
    rebooked: bool = False
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class SupervisionRecord:
    """A supervision session (filled in by the supervision log)."""

    day: date
    kind: str = "reflective"
    cancelled: bool = False
    minutes: int = 60


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """A completed programme review (3, 6, 9, 12 ... months)."""

    month: int
    held_on: date


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One NQSW's facts as of `as_of`. Everything a rule may look at is here."""

    staff_id: int
    enrolment_id: int
    programme: Literal["asye", "swip"]
    programme_start: date
    as_of: date
    fte: float = 1.0
    contracted_hours: float = 37.0
    # Earlier working patterns (FTE and hours before a dated change), oldest first, for
    # the entitlement; `fte` and `contracted_hours` are those in force on `as_of`.
    hours_periods: tuple[HoursPeriod, ...] = ()
    status: str = "active"
    team_id: int | None = None
    pauses: tuple[PauseSpan, ...] = ()
    sign_offs: tuple[SignOffRecord, ...] = ()
    adjustments: tuple[AdjustmentRecord, ...] = ()
    caseload: tuple[CaseLoadItem, ...] = ()
    # Median weighted load of the team's experienced workers (full-time equivalent),
    # when the caller could measure one; `workload_share` falls back to its fixed benchmark.
    benchmark_load: float | None = None
    protected_time: tuple[ProtectedTimeEntry, ...] = ()
    supervision: tuple[SupervisionRecord, ...] = ()
    reviews: tuple[ReviewRecord, ...] = ()
    # Bank holidays (England and Wales) the caller looked up for the programme span, so
    # rules that count working days stay pure.
    bank_holidays: frozenset[date] = field(default_factory=frozenset)

    def with_case(self, item: CaseLoadItem) -> Snapshot:
        """The same NQSW with one more case: how a proposed allocation is evaluated."""
        kept = tuple(c for c in self.caseload if c.case_id != item.case_id)
        return replace(self, caseload=(*kept, item))
