"""Policy versions on the audit trail: which rules were in force, and from when.

Every breach carries the content hash of the policy file that raised it. So that a
breach can always be explained by the rule as it was, each version of each policy is
written once to the audit trail, with its full source text, when a service starts on
it: an audit event `policy.version` (entity `policy`, entity id the policy id, before:
the previous version's hash or null, after: the version, the file name and the text).

Writing runs in the caller's transaction; app.jobs.policy_versions does it at start-up,
once across several workers starting together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from app.policy.policies import Policy, PolicySet
from app.repositories import audit as audit_rows
from app.services import audit

ACTION = "policy.version"


def recorded_versions(session: Session) -> dict[str, str]:
    """The latest recorded version (content hash) of each policy id."""
    found: dict[str, str] = {}
    for entity_id, after in audit_rows.every_effect(session, action=ACTION, entity="policy"):
        if entity_id is not None and isinstance(after, dict) and after.get("version"):
            found[entity_id] = str(after["version"])
    return found


def _changed(policies: Iterable[Policy], recorded: dict[str, str]) -> list[Policy]:
    return [p for p in policies if recorded.get(p.id) != p.version]


def _source(policy: Policy) -> str | None:
    if policy.path is None:
        return None
    try:
        return policy.path.read_text(encoding="utf-8")
    except OSError:
        return None


def _record(session: Session, policy: Policy, previous: str | None,
            policy_set: PolicySet) -> None:
    after: dict[str, Any] = {
        "version": policy.version,
        "file": policy.path.name if policy.path is not None else None,
        "title": policy.title,
        "programmes": list(policy_set.programmes_for(policy.id)),
        "source": _source(policy),
    }
    audit.record(session, action=ACTION, entity="policy", entity_id=policy.id,
                 before=previous, after=after)


def record_changed(session: Session, policy_set: PolicySet) -> list[str]:
    """Write a `policy.version` event for every policy in `policy_set` whose version is
    not the latest one recorded, in the caller's transaction; the policy ids written."""
    recorded = recorded_versions(session)
    changed = _changed(policy_set, recorded)
    for policy in changed:
        _record(session, policy, recorded.get(policy.id), policy_set)
    session.flush()
    return [p.id for p in changed]


def unrecorded(session: Session, policy_set: PolicySet) -> bool:
    """Whether any policy's current version is still missing from the audit trail."""
    return bool(_changed(policy_set, recorded_versions(session)))
