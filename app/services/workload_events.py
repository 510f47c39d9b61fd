"""Hooks that re-evaluate an NQSW after a change to facts their load depends on.

Placeholder with the agreed signatures: the allocation/breach owner replaces the bodies
with the policy check and breach reconciliation. Callers (case updates, programme
events, diary changes) call these inside the same transaction as their change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session


def staff_changed(
    session: Session, *, staff_ids: Iterable[int], on: date, actor_id: int | None = None,
    reason: str = "",
) -> None:
    """Re-evaluate these workers as of `on` and reconcile their breaches."""


def case_changed(
    session: Session, *, case_id: int, on: date, actor_id: int | None = None, reason: str = ""
) -> None:
    """A case's category, complexity or status changed: re-evaluate everyone on it."""
