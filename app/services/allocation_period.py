"""The dates a proposed allocation is checked on, and the facts that decide them.

An allocation covers a period, from its start to its end (or open-ended), and a load that
is within a cap on the first day can be over it two weeks later, when cases allocated in
advance start, or when a back-dated case meets allocations made since. So a proposal is
judged on every date of its period where a rule's outcome can change, and nowhere else:

* its first day;
* each day something joins the NQSW's load or a protection lapses: another allocation
  starts, an enrolment starts, a sign-off is revoked;
* each day an individual agreement or a pause begins or ends, a person's working terms
  change (FTE: pro-rata caps), a case's category or complexity changes, or the named
  holder of the proposed case changes (co-working with an advanced practitioner);
* each stage boundary of the programme (programme months net of pauses,
  `app.policy.programme.boundary_for`): caps and gates change with the stage.

Days when something only leaves the load (an allocation or enrolment ends, a case
closes, a sign-off is recorded) cannot make a proposal worse, so they are not judged.
Between the judged days the facts do not move, so a later date is judged on the earlier
snapshot with its date moved on: the common case (nothing else dated in the period)
reads one snapshot and one small statement of "what changes later", however many
boundaries it crosses. When something has left the load since that snapshot, the moved-on
snapshot still holds it: it over-states the load, which can only make a rule look worse
(the caseload rules get no better for one more case), so a date it finds nothing on is
settled, and a date it finds something on is judged again on a snapshot read for it
(`Dated.exact`).

An open-ended proposal is followed to the end of the programme plus `OPEN_END_MARGIN`
(an NQSW whose programme is extended still has rules), or `OPEN_END_HORIZON` when the
programme's end is not known yet (an open pause stops its clock).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.policy.programme import boundary_for
from app.policy.snapshot import Snapshot
from app.policy.vocabulary import PROGRAMME_MONTHS, Programme
from app.repositories import case as case_repository

OPEN_END_MARGIN = timedelta(days=183)
OPEN_END_HORIZON = timedelta(days=731)


@dataclass(frozen=True, slots=True)
class ProposedCase:
    """The case a proposal is about, with its closure (the proposal stops there)."""

    id: int
    reference: str
    category: str
    complexity: int
    opened_on: date
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class Span:
    """A dated period `[start, end)`, with what it carries (a holder's role, a case's terms)."""

    start: date
    end: date | None
    role: str | None = None
    category: str | None = None
    complexity: int | None = None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on < self.end)


@dataclass(frozen=True)
class PeriodFacts:
    """What changes for the NQSW and the proposed case after the proposal's first day."""

    case: ProposedCase | None
    # Days something joins the load or a protection lapses: judged, on a fresh snapshot.
    grows: frozenset[date] = frozenset()
    # Days something only leaves the load: not judged, but later days need a fresh snapshot.
    shrinks: frozenset[date] = frozenset()
    enrolment_starts: frozenset[date] = frozenset()
    holders: tuple[Span, ...] = ()
    case_terms: tuple[Span, ...] = ()

    def holder_is_advanced_practitioner(self, on: date) -> bool:
        """Whether an advanced practitioner is the proposed case's named holder on `on`."""
        return any(h.covers(on) and h.role == "advanced_practitioner" for h in self.holders)

    def case_on(self, on: date) -> tuple[str, int]:
        """The proposed case's category and complexity on `on` (an earlier period's, if
        one covers the date, else the case's own)."""
        assert self.case is not None
        for term in self.case_terms:
            if term.covers(on) and term.category is not None and term.complexity is not None:
                return term.category, term.complexity
        return self.case.category, self.case.complexity


_DAY = timedelta(days=1)


def load_period_facts(
    session: Session, *, worker_id: int, case_id: int, after: date,
    exclude_allocation_id: int | None = None,
) -> PeriodFacts:
    """The proposed case and every change after `after` that can move the outcome: one
    statement. `exclude_allocation_id`: the allocation being changed (its own dates are
    the proposal's, not a change to the rest of the load)."""
    rows = case_repository.period_changes(
        session, worker_id=worker_id, case_id=case_id, after=after,
        exclude_allocation_id=exclude_allocation_id,
    )
    case: ProposedCase | None = None
    grows: set[date] = set()
    shrinks: set[date] = set()
    starts: set[date] = set()
    holders: list[Span] = []
    terms: list[Span] = []

    def later(day: date | None, into: set[date]) -> None:
        if day is not None and day > after:
            into.add(day)

    for row in rows:
        fact, first, second = row.fact, row.day1, row.day2
        if fact == "case":
            case = ProposedCase(case_id, row.text1, row.text2, int(row.number), first, second)
        elif fact == "case_term":
            terms.append(Span(first, second, category=row.text2, complexity=int(row.number)))
            later(first, grows)
            later(second, grows)
        elif fact == "holder":
            holders.append(Span(first, second, role=row.text1))
            later(first, grows)
            later(second, grows)
        elif fact == "own":
            later(first, grows)
            later(second, shrinks)
        elif fact == "closing":
            later(first, shrinks)
        elif fact in ("own_term", "staff_term"):
            later(first, grows)
            later(second, grows)
        elif fact == "enrolment":
            later(first, grows)
            later(first, starts)
            later(second, shrinks)
        elif fact == "sign_off":
            later(first, shrinks)
            later(second, grows)
        elif fact in ("adjustment", "pause"):
            later(first, grows)
            later(second + _DAY if second is not None else None, grows)
    return PeriodFacts(case=case, grows=frozenset(grows), shrinks=frozenset(shrinks),
                       enrolment_starts=frozenset(starts), holders=tuple(holders),
                       case_terms=tuple(terms))


# --- the dates ------------------------------------------------------------------------


def period_stop(end: date | None, closed: date | None) -> date | None:
    """The first day the proposal no longer holds: its end, or the case's closure."""
    if end is None:
        return closed
    return end if closed is None else min(end, closed)


def programme_end(snapshot: Snapshot) -> date | None:
    """The day the programme's last month is reached (pauses included), if known."""
    months = PROGRAMME_MONTHS.get(Programme(snapshot.programme), 12)
    return boundary_for(snapshot.programme_start, snapshot.pauses, months)


def stage_boundaries(snapshot: Snapshot) -> list[date]:
    """Every programme-month boundary of the NQSW's programme (net of pauses): the days
    a stage band, a gate or a ramp can change. Stops where an open pause stops the clock."""
    months = PROGRAMME_MONTHS.get(Programme(snapshot.programme), 12)
    found: list[date] = []
    for month in range(1, months + 1):
        day = boundary_for(snapshot.programme_start, snapshot.pauses, month)
        if day is None:
            break
        found.append(day)
    return found


def horizon(start: date, stop: date | None, snapshot: Snapshot | None) -> date:
    """How far an evaluation follows the proposal (exclusive)."""
    if stop is not None:
        return stop
    end = programme_end(snapshot) if snapshot is not None else None
    if end is None:
        return start + OPEN_END_HORIZON
    return max(end, start) + OPEN_END_MARGIN


@dataclass(frozen=True, slots=True)
class Dated:
    """The NQSW's snapshot on one judged day. Not `exact`: moved on from an earlier one
    although something left the load since (it over-states the load)."""

    snapshot: Snapshot
    exact: bool = True

    @property
    def on(self) -> date:
        return self.snapshot.as_of


@dataclass
class _Walk:
    """The state of one walk through a period: the last snapshot read, and when."""

    snapshot: Snapshot | None
    read_on: date
    programmes: set[tuple[Any, ...]] = field(default_factory=set)


def snapshots_over(
    load: Callable[[date], Snapshot | None],
    *,
    start: date,
    stop: date | None,
    facts: PeriodFacts,
    first: Snapshot | None,
) -> list[Dated]:
    """The NQSW's snapshot on every date of the period where an outcome can change.

    `load(day)` reads a snapshot (a few statements); it is called only on days when
    something joins the load or has joined it since the last snapshot read. Other days
    reuse the last snapshot with its date moved on.
    """
    judged = facts.grows
    walk = _Walk(first, start)
    limit = horizon(start, stop, first)
    agenda: list[date] = sorted(d for d in judged if start < d)
    seen: set[date] = {start}
    found: list[Dated] = []
    if first is not None:
        found.append(Dated(first))
        _add_boundaries(first, walk, agenda, start)
    while agenda:
        day = heapq.heappop(agenda)
        if day in seen or day >= limit:
            continue
        seen.add(day)
        if walk.snapshot is None and day not in facts.enrolment_starts:
            continue  # not on a programme, and no programme starts today: no rules
        exact = True
        if walk.snapshot is None or any(walk.read_on < d <= day for d in judged):
            snapshot = load(day)
            walk.read_on = day
        else:
            snapshot = replace(walk.snapshot, as_of=day)
            exact = not any(walk.read_on < d <= day for d in facts.shrinks)
        had_programme = walk.snapshot is not None
        walk.snapshot = snapshot
        if snapshot is None:
            continue
        if not had_programme and stop is None:
            limit = horizon(start, stop, snapshot)
        _add_boundaries(snapshot, walk, agenda, start)
        found.append(Dated(snapshot, exact))
    return found


def _add_boundaries(snapshot: Snapshot, walk: _Walk, agenda: list[date], start: date) -> None:
    """Put the snapshot's programme's stage boundaries on the agenda (once per programme)."""
    key = (snapshot.enrolment_id, snapshot.programme_start, snapshot.pauses)
    if key in walk.programmes:
        return
    walk.programmes.add(key)
    for day in stage_boundaries(snapshot):
        if day > start:
            heapq.heappush(agenda, day)


