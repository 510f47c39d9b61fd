"""Hooks that re-evaluate an NQSW after a change to facts their load depends on.

Callers (case updates, programme events, adjustments, diary and supervision changes)
call these inside the same transaction as their change. A change of facts is never
refused: it is reconciled, so a case escalated to a child protection plan opens a
breach instead of failing the update.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.repositories import case as case_repository
from app.services.reconcile import (
    Cause,
    ReconcileResult,
    Trigger,
    lock_staff,
    reconcile_staff,
)

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


_by_database: dict[str, Any] = {}
_loaded: dict[Path, Any] = {}


def _database_key(bind: Any) -> str | None:
    engine = getattr(bind, "engine", bind)
    url = getattr(engine, "url", None)
    return url.render_as_string(hide_password=True) if url is not None else None


def use_policies(policies: PolicySet, *, engine: Any) -> None:
    """Register the PolicySet an app loaded for its database (create_app's lifespan calls
    this), so hooks called from any service evaluate with the app's own policies."""
    key = _database_key(engine)
    if key is not None and policies is not None:
        _by_database[key] = policies


def current_policies(session: Session | None = None) -> Any:
    """The PolicySet to evaluate with: the session's (``session.info["policies"]``), the
    one registered for the session's database, else the configured directory's."""
    if session is not None:
        if session.info.get("policies") is not None:
            return session.info["policies"]
        key = _database_key(session.get_bind())
        if key in _by_database:
            return _by_database[key]
    from app.policy.registry import load_policy_set
    from app.settings import get_settings

    directory = Path(get_settings().policy_dir)
    if directory not in _loaded:
        _loaded[directory] = load_policy_set(directory)
    return _loaded[directory]


def staff_changed(
    session: Session, *, staff_ids: Iterable[int], on: date, trigger: Trigger,
    actor_id: int | None = None, policies: PolicySet | None = None,
) -> ReconcileResult:
    """Re-evaluate these workers as of `on` and reconcile their breaches.

    `trigger`: the change in words, with its cause (a `ResolutionCause`) recorded on the
    breaches it resolves. A change of facts that names no cause of its own is recorded
    as *changed*: here something was changed by someone, time alone did not move.
    """
    ids = sorted({int(i) for i in staff_ids if i is not None})
    if not ids:
        return ReconcileResult()
    policies = policies if policies is not None else current_policies(session)
    lock_staff(session, ids)
    if trigger.cause is None:
        trigger = replace(trigger, cause=Cause.changed)
    return reconcile_staff(session, staff_ids=ids, on=on, policies=policies, trigger=trigger,
                           actor_id=actor_id)


def case_changed(
    session: Session, *, case_id: int, on: date, actor_id: int | None = None, reason: str = "",
    policies: PolicySet | None = None,
) -> ReconcileResult:
    """A case's category, complexity or status changed: re-evaluate everyone on it.

    A case closed by `on` resolves breaches as *case_closed*; any other change of facts
    as *changed*, whatever words the person used to describe it.
    """
    case = case_repository.case_by_id(session, case_id)
    closed = case is not None and case.closed_on is not None and case.closed_on <= on
    workers = case_repository.workers_on_case(session, case_id, on)
    cause = Cause.case_closed if closed else Cause.changed
    return staff_changed(session, staff_ids=workers, on=on, trigger=Trigger(reason, cause),
                         actor_id=actor_id, policies=policies)
