"""Hooks that re-evaluate an NQSW after a change to facts their load depends on.

Callers (case updates, programme events, adjustments, diary and supervision changes)
call these inside the same transaction as their change, passing the PolicySet their
application loaded. A change of facts is never refused: it is reconciled, so a case
escalated to a child protection plan opens a breach instead of failing the update.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

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


def staff_changed(
    session: Session, *, staff_ids: Iterable[int], on: date, trigger: Trigger,
    policies: PolicySet, actor_id: int | None = None,
) -> ReconcileResult:
    """Re-evaluate these workers as of `on` and reconcile their breaches.

    `policies`: the set the caller's application loaded; there is no fallback, so two
    applications in one process never evaluate with each other's rules.
    `trigger`: the change in words, with its cause (a `ResolutionCause`) recorded on the
    breaches it resolves. A change of facts that names no cause of its own is recorded
    as *changed*: here something was changed by someone, time alone did not move.
    """
    ids = sorted({int(i) for i in staff_ids if i is not None})
    if not ids:
        return ReconcileResult()
    lock_staff(session, ids)
    if trigger.cause is None:
        trigger = replace(trigger, cause=Cause.changed)
    return reconcile_staff(session, staff_ids=ids, on=on, policies=policies, trigger=trigger,
                           actor_id=actor_id)


def case_changed(
    session: Session, *, case_id: int, on: date, policies: PolicySet,
    actor_id: int | None = None, reason: str = "",
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
