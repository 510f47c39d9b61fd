"""What the engine sees of the diary: protected time, supervision and reviews per enrolment.

The snapshot loader (`app.services.snapshots`) calls `load_diary_facts` for every NQSW
it loads at once, so this issues one statement (the three tables in a UNION ALL, in
chunks for very long id lists, app/repositories/snapshot.py) whatever the number of
NQSWs, never one per person. It reads plain rows of the columns the engine needs, not ORM
objects: an NQSW has a hundred or more diary rows and every what-if check reads them, so
building an ORM object per row would cost more than the query itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.policy.snapshot import ProtectedTimeEntry, ReviewRecord, SupervisionRecord
from app.repositories import snapshot as snapshot_rows


@dataclass(frozen=True, slots=True)
class DiaryFacts:
    """One enrolment's diary as the snapshot carries it."""

    protected_time: tuple[ProtectedTimeEntry, ...] = ()
    supervision: tuple[SupervisionRecord, ...] = ()
    reviews: tuple[ReviewRecord, ...] = ()


def _booking(row: Any, rebooked: set[int]) -> ProtectedTimeEntry:
    """A `ProtectedTimeEntry` from a booking row of `snapshot_rows.diaries` (`rebooked`:
    the ids of the bookings that another one makes up for)."""
    _, _, ident, day, cancelled_on, hours, status, purpose, _, _ = row
    return ProtectedTimeEntry(
        day=day,
        hours=hours,
        status=status,
        purpose=purpose,
        cancelled_on=cancelled_on,
        rebooked=ident in rebooked,
        entry_id=ident,
    )


def load_diary_facts(
    session: Session, enrolment_ids: Iterable[int], on: date
) -> dict[int, DiaryFacts]:
    """Diary facts per enrolment id, as known on `on`.

    Every booking is included whatever its date (the rule needs future bookings to see
    what is diarised ahead); supervision sessions and reviews count only once held, so
    those dated after `on` are left out.
    """
    ids = sorted(set(enrolment_ids))
    if not ids:
        return {}
    bookings: dict[int, list[Any]] = defaultdict(list)
    sessions: dict[int, list[SupervisionRecord]] = defaultdict(list)
    reviews: dict[int, list[ReviewRecord]] = defaultdict(list)
    # Rows are unpacked rather than read by name: there are a hundred or more per NQSW.
    for row in snapshot_rows.diaries(session, ids, on):
        fact, enrolment_id, _, day, _, _, text1, _, number, flag = row
        if fact == "booking":
            bookings[enrolment_id].append(row)
        elif fact == "session":
            sessions[enrolment_id].append(
                SupervisionRecord(day=day, kind=text1, cancelled=flag, minutes=number)
            )
        else:
            reviews[enrolment_id].append(ReviewRecord(month=number, held_on=day))
    for held in reviews.values():
        held.sort(key=lambda review: review.month)
    found: dict[int, DiaryFacts] = {}
    for enrolment_id in ids:
        rows = bookings.get(enrolment_id, [])
        rebooked = {row[8] for row in rows if row[8] is not None}
        found[enrolment_id] = DiaryFacts(
            protected_time=tuple(_booking(row, rebooked) for row in rows),
            supervision=tuple(sessions.get(enrolment_id, ())),
            reviews=tuple(reviews.get(enrolment_id, ())),
        )
    return found
