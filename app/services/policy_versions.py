"""Policy versions on the audit trail: which rules were in force, and from when.

Every breach carries the content hash of the policy file that raised it. So that a
breach can always be explained by the rule as it was, each version of each policy is
written once to the audit trail, with its full source text, when a service starts on
it: an audit event `policy.version` (entity `policy`, entity id the policy id, before:
the previous version's hash or null, after: the version, the file name and the text).

Several workers start at once (`ringfence serve --workers 4`), so the check and the
write run in one short transaction of their own, serialised across workers: a
transaction-level advisory lock on PostgreSQL, the database's write lock (BEGIN
IMMEDIATE) on SQLite. The second worker finds the version recorded and writes nothing.
Start-up never fails for this: a database that cannot be written is logged, and the
next start records the version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from app.db import is_sqlite, write_bind
from app.models import AuditEvent
from app.policy.policies import Policy, PolicySet
from app.services import audit

log = logging.getLogger(__name__)

ACTION = "policy.version"
# The advisory lock that serialises starting workers on PostgreSQL ("ringfence policy").
_ADVISORY_KEY = 0x52465056


def recorded_versions(session: Session) -> dict[str, str]:
    """The latest recorded version (content hash) of each policy id."""
    rows = session.exec(
        select(AuditEvent.entity_id, AuditEvent.after)
        .where(col(AuditEvent.action) == ACTION, col(AuditEvent.entity) == "policy")
        .order_by(col(AuditEvent.id))
    ).all()
    found: dict[str, str] = {}
    for entity_id, after in rows:
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


def record_policy_versions(engine: Engine, policy_set: PolicySet) -> list[str]:
    """Write a `policy.version` event for every loaded policy whose version is not the
    latest one recorded; returns the policy ids written. Never raises."""
    try:
        with Session(engine) as session:
            if not _changed(policy_set, recorded_versions(session)):
                return []  # the common start: one read, no write, no lock
        with Session(write_bind(engine)) as session:
            if not is_sqlite(engine):
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": _ADVISORY_KEY})
            recorded = recorded_versions(session)  # again, now that this worker holds the lock
            changed = _changed(policy_set, recorded)
            for policy in changed:
                _record(session, policy, recorded.get(policy.id), policy_set)
            session.commit()
            return [p.id for p in changed]
    except SQLAlchemyError as exc:
        log.warning("policy versions not recorded on the audit trail (will retry at the next "
                    "start): %s", exc)
        return []
