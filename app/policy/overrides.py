"""How overriding a firm limit is governed: how long a reason must be, and how long a
request for an override waits for a decision.

An override lets a case go past a limit set to protect an NQSW, so the reason is the
record of why that was right; a one-word reason ("ok") records nothing anyone can later
check. `policies/overrides.toml` sets the minimum length, and how many working days a
team manager's request for an override stays open before it lapses (so that a request
nobody answered does not sit as if it were still wanted). Without the file the defaults
below apply.

Pure: the services read `overrides_of(policies)`; the loader attaches the settings it
read to the policy set it built (`attach`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from pydantic import Field

from app.policy.rules.common import StrictParams

if TYPE_CHECKING:
    from app.policy.policies import PolicySet

OVERRIDES_FILE = "overrides.toml"


class OverridesSpec(StrictParams):
    """The file's keys, validated (the loader reports a wrong value at its line)."""

    min_reason_length: int = Field(default=20, ge=1, le=1000)
    request_expires_after_working_days: int = Field(default=5, ge=1, le=60)


@dataclass(frozen=True)
class OverrideSettings:
    """`min_reason_length`: characters an override's reason needs (spaces at either end
    not counted); `request_expires_after_working_days`: how long a request waits."""

    min_reason_length: int = 20
    request_expires_after_working_days: int = 5

    @classmethod
    def of(cls, spec: OverridesSpec | None) -> OverrideSettings:
        if spec is None:
            return DEFAULT_OVERRIDES
        return cls(min_reason_length=spec.min_reason_length,
                   request_expires_after_working_days=spec.request_expires_after_working_days)

    def reason_problem(self, reason: str | None) -> str | None:
        """Why this reason cannot justify an override, or None when it can."""
        given = (reason or "").strip()
        if len(given) < self.min_reason_length:
            return (f"give a reason of at least {self.min_reason_length} characters "
                    f"(this one has {len(given)}): it is the record of why the limit "
                    "was set aside")
        return None


DEFAULT_OVERRIDES = OverrideSettings()

# The settings read with each policy set, beside it rather than on it, so that a policy set
# built without files (tests, the demo) simply has the defaults.
_ATTACHED: WeakKeyDictionary[PolicySet, OverrideSettings] = WeakKeyDictionary()


def attach(policies: PolicySet, settings: OverrideSettings) -> None:
    _ATTACHED[policies] = settings


def overrides_of(policies: PolicySet | None) -> OverrideSettings:
    """The organisation's override settings (the defaults when none were read)."""
    if policies is None:
        return DEFAULT_OVERRIDES
    return _ATTACHED.get(policies, DEFAULT_OVERRIDES)
