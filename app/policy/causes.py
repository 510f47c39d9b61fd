"""Why a breach resolved, as a code that dashboards count and filter by.

The values are stored in ``breach.resolution_cause`` and are part of the data, not of
the wording: a message may be reworded freely, a value here may not change without a
migration of the stored rows. The enum lives with the engine (which is pure) so that a
rule kind can say which cause lifts its own breaches (`RuleKind.diary_cause`).
"""

from __future__ import annotations

from enum import StrEnum


class ResolutionCause(StrEnum):
    """What happened that lifted a breach (the stored ``breach.resolution_cause``)."""

    case_closed = "case_closed"
    allocation_ended = "allocation_ended"
    stage_moved_on = "stage_moved_on"
    adjustment = "adjustment"
    sign_off = "sign_off"
    programme_ended = "programme_ended"
    paused = "paused"
    diary = "diary"
    supervision = "supervision"
    policy_changed = "policy_changed"
    changed = "changed"
