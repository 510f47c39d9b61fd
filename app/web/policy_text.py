"""The policy statement ("What we promise you"), as the engine renders it, per programme."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.policy.statement import describe_policy_set, programme_heading

PROGRAMMES = ("asye", "swip")


@dataclass(frozen=True)
class ProgrammePromise:
    programme: str
    heading: str
    policies: list[dict[str, Any]]


def promise_for(policies: Any, programme: str) -> ProgrammePromise:
    """Only the policies active for this programme, each with its rules' statements."""
    return ProgrammePromise(
        programme=programme,
        heading=programme_heading(programme),
        policies=describe_policy_set(policies, programme),
    )


def statements(policies: Any) -> list[ProgrammePromise]:
    return [promise_for(policies, p) for p in PROGRAMMES if policies.for_programme(p)]
