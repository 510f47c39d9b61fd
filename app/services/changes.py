"""Applying a set of field changes to a record, keeping what they replaced for the audit."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel


def apply_changes(row: SQLModel, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the given fields on `row`; return the previous values for the audit trail."""
    before = {key: getattr(row, key) for key in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    return before
