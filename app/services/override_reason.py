"""The one check every override's reason passes: long enough to be a record.

The organisation sets the minimum in `policies/overrides.toml` (`min_reason_length`,
default 20 characters). Every way a firm limit is set aside asks it: an override made
directly with an allocation (the API and the allocation page), a team manager's request
for one, and the approval that makes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import DomainError
from app.policy.overrides import overrides_of

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


def require_reason(policies: PolicySet | None, reason: str | None, *, field: str) -> str:
    """The reason, stripped, or a 422 on `field` when it is shorter than the policy asks."""
    problem = overrides_of(policies).reason_problem(reason)
    if problem is not None:
        raise DomainError(problem[:1].upper() + problem[1:], field=field)
    return (reason or "").strip()
