"""The entry point for the rest of the service: load the organisation's policies or refuse.

`create_app` calls `load_policy_set(settings.policy_dir)` at start-up and keeps the
result in ``app.state.policies``; a bad directory raises `PolicyFileError` listing
every problem (file, line, reason), so the service never runs on a policy it half
understood.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.policy.adjustments import validate_adjustment
from app.policy.loader import LoadResult, PolicyFileError, Problem, check_directory
from app.policy.policies import Escalation, Policy, PolicySet, Rule
from app.policy.rules import KindRegistry, discover_rule_kinds

__all__ = [
    "Escalation",
    "Policy",
    "PolicyFileError",
    "PolicySet",
    "Problem",
    "Rule",
    "check_policies",
    "load_policy_set",
    "validate_adjustment",
]

log = logging.getLogger(__name__)


def check_policies(directory: Path | str, kinds: KindRegistry | None = None) -> LoadResult:
    """Every problem in the directory (for `ringfence policies check`); never raises."""
    return check_directory(Path(directory), kinds or discover_rule_kinds())


def load_policy_set(directory: Path | str, kinds: KindRegistry | None = None) -> PolicySet:
    """The validated policy set, or `PolicyFileError` listing every problem.

    Warnings (a summary stating a number no parameter has, a plug-in no policy uses)
    do not stop the service; they are logged so that they are seen at start-up too.
    """
    result = check_policies(directory, kinds)
    if result.policy_set is None:
        raise PolicyFileError(result.problems)
    for warning in result.warnings:
        log.warning("policy warning: %s", warning)
    return result.policy_set
