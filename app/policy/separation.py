"""Separation of duties: the decisions the organisation wants agreed by a second person.

A senior manager may override a firm limit to allocate a case, with a reason. If the same
person could then agree the exception on the breach that override opened, or approve an
individual adjustment that raises the very limit they went past, one person would decide
and sign off their own decision, and the breach would vanish from the escalation ladder
without anyone else seeing it. `policies/separation.toml` names which of these decisions
need a second person; when the file is absent every one of them does (the safe default).

This module is pure (no database): the services ask `Separation.requires(duty)` and do
the looking-up themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Duty(StrEnum):
    """A decision that may need a second person (the names used in `separation.toml`)."""

    # Agreeing an exception on a breach you overrode (allocated past) yourself.
    breach_exception_after_override = "breach_exception_after_override"
    # Approving an individual adjustment to a policy you overrode, for the same NQSW,
    # while that override's breach is still unresolved.
    adjustment_after_override = "adjustment_after_override"


DUTY_WORDS: dict[Duty, str] = {
    Duty.breach_exception_after_override:
        "agreeing an exception on a breach you overrode yourself",
    Duty.adjustment_after_override:
        "approving an adjustment to a limit you overrode yourself for the same NQSW",
}


@dataclass(frozen=True)
class Separation:
    """Which decisions need a second person (default: all of them)."""

    second_person: frozenset[Duty] = frozenset(Duty)

    @classmethod
    def of(cls, names: Iterable[str]) -> Separation:
        return cls(frozenset(Duty(name) for name in names))

    def requires(self, duty: Duty) -> bool:
        return duty in self.second_person


DEFAULT_SEPARATION = Separation()
