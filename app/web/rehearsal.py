"""Asking the write itself what it would do: the what-if that cannot disagree with it.

A what-if that re-implements the write's checks drifts from them (a case that already
has a holder read as "allowed", then the write refused it). Instead the page runs the
very service call the form would make, inside a savepoint, and discards it whatever
happens: what the person is told before they submit is what the write answers, and
nothing of the rehearsal stays (no allocation, no breach, no notification, no audit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlmodel import Session

T = TypeVar("T")


class _Discard(Exception, Generic[T]):
    """Leaves the savepoint by an exception, so that it is rolled back, carrying the
    write's answer out."""

    def __init__(self, answer: T) -> None:
        super().__init__("rehearsal")
        self.answer = answer


def rehearse(session: Session, write: Callable[[], T]) -> T:
    """What `write()` returns, with everything it wrote rolled back; a refusal it raises
    is raised here, with its savepoint rolled back the same way."""
    try:
        with session.begin_nested():
            raise _Discard(write())
    except _Discard as done:
        return done.answer  # type: ignore[no-any-return]
