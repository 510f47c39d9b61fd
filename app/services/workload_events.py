"""Hooks that re-evaluate an NQSW after a change to facts their load depends on.

Callers (case updates, programme events, adjustments, diary and supervision changes)
call these inside the same transaction as their change. A change of facts is never
refused: it is reconciled, so a case escalated to a child protection plan opens a
breach instead of failing the update.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.models import Allocation, Case
from app.services.reconcile import (
    Cause,
    ReconcileResult,
    cause_from_trigger,
    lock_staff,
    reconcile_staff,
)

_by_database: dict[str, Any] = {}
_loaded: dict[Path, Any] = {}


def _database_key(bind: Any) -> str | None:
    engine = getattr(bind, "engine", bind)
    url = getattr(engine, "url", None)
    return url.render_as_string(hide_password=True) if url is not None else None


def use_policies(policies: Any, *, engine: Any) -> None:
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
    session: Session, *, staff_ids: Iterable[int], on: date, actor_id: int | None = None,
    reason: str = "", policies: Any = None, cause: str | None = None,
) -> ReconcileResult:
    """Re-evaluate these workers as of `on` and reconcile their breaches.

    `cause`: what kind of change this was (a `reconcile.Cause`), recorded on the breaches
    it resolves; by default read from `reason` ("protected time booked": diary), else
    "changed".
    """
    ids = sorted({int(i) for i in staff_ids if i is not None})
    if not ids:
        return ReconcileResult()
    policies = policies if policies is not None else current_policies(session)
    lock_staff(session, ids)
    why = cause or cause_from_trigger(reason) or Cause.changed
    return reconcile_staff(session, staff_ids=ids, on=on, policies=policies, trigger=reason,
                           actor_id=actor_id, cause=why)


def workers_on_case(session: Session, case_id: int, on: date) -> list[int]:
    """Everyone with an allocation on the case that has started and not ended before `on`.

    A case closed on `on` still counts its workers: they are the people whose breaches
    the closure may resolve.
    """
    rows = session.exec(
        select(Allocation.worker_id).where(
            col(Allocation.case_id) == case_id,
            col(Allocation.start_date) <= on,
            (col(Allocation.end_date).is_(None)) | (col(Allocation.end_date) > on),
        )
    ).all()
    return sorted(set(rows))


def case_changed(
    session: Session, *, case_id: int, on: date, actor_id: int | None = None, reason: str = "",
    policies: Any = None,
) -> ReconcileResult:
    """A case's category, complexity or status changed: re-evaluate everyone on it.

    A case closed by `on` resolves breaches as *case_closed*; any other change of facts
    as *changed*, whatever words the person used to describe it.
    """
    case = session.get(Case, case_id)
    closed = case is not None and case.closed_on is not None and case.closed_on <= on
    return staff_changed(session, staff_ids=workers_on_case(session, case_id, on), on=on,
                         actor_id=actor_id, reason=reason, policies=policies,
                         cause=Cause.case_closed if closed else Cause.changed)
