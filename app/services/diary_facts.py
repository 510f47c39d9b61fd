"""What the engine sees of the diary: protected time, supervision and reviews per enrolment.

The snapshot loader (`app.services.snapshots`) calls `load_diary_facts` for every NQSW
it loads at once, so this issues three queries (one per table, in chunks for very long
id lists) whatever the number of NQSWs, never one per person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.models.diary import ProtectedTime, ReviewPoint, SupervisionSession
from app.policy.snapshot import ProtectedTimeEntry, ReviewRecord, SupervisionRecord

# SQLite limits bound parameters; the same chunk size as the snapshot loader.
CHUNK = 900


@dataclass(frozen=True, slots=True)
class DiaryFacts:
    """One enrolment's diary as the snapshot carries it."""

    protected_time: tuple[ProtectedTimeEntry, ...] = ()
    supervision: tuple[SupervisionRecord, ...] = ()
    reviews: tuple[ReviewRecord, ...] = ()


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for index in range(0, len(ids), CHUNK):
        yield list(ids[index : index + CHUNK])


def protected_time_entry(row: ProtectedTime, rebooked: bool) -> ProtectedTimeEntry:
    return ProtectedTimeEntry(
        day=row.day,
        hours=row.hours,
        status=row.status,  # type: ignore[arg-type]
        purpose=row.purpose,
        cancelled_on=row.cancelled_on,
        rebooked=rebooked,
        entry_id=row.id,
    )


def supervision_record(row: SupervisionSession) -> SupervisionRecord:
    return SupervisionRecord(day=row.day, kind=row.kind, cancelled=row.cancelled,
                             minutes=row.minutes)


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
    bookings: dict[int, list[ProtectedTime]] = defaultdict(list)
    sessions: dict[int, list[SupervisionRecord]] = defaultdict(list)
    reviews: dict[int, list[ReviewRecord]] = defaultdict(list)
    for chunk in _chunks(ids):
        for row in session.exec(
            select(ProtectedTime)
            .where(col(ProtectedTime.enrolment_id).in_(chunk))
            .order_by(col(ProtectedTime.day), col(ProtectedTime.id))
        ).all():
            bookings[row.enrolment_id].append(row)
        for held in session.exec(
            select(SupervisionSession)
            .where(col(SupervisionSession.enrolment_id).in_(chunk),
                   col(SupervisionSession.day) <= on)
            .order_by(col(SupervisionSession.day), col(SupervisionSession.id))
        ).all():
            sessions[held.enrolment_id].append(supervision_record(held))
        for review in session.exec(
            select(ReviewPoint)
            .where(col(ReviewPoint.enrolment_id).in_(chunk), col(ReviewPoint.held_on) <= on)
            .order_by(col(ReviewPoint.month))
        ).all():
            reviews[review.enrolment_id].append(
                ReviewRecord(month=review.month, held_on=review.held_on)
            )
    found: dict[int, DiaryFacts] = {}
    for enrolment_id in ids:
        rows = bookings.get(enrolment_id, [])
        rebooked = {r.rebooked_from_id for r in rows if r.rebooked_from_id is not None}
        found[enrolment_id] = DiaryFacts(
            protected_time=tuple(protected_time_entry(r, r.id in rebooked) for r in rows),
            supervision=tuple(sessions.get(enrolment_id, ())),
            reviews=tuple(reviews.get(enrolment_id, ())),
        )
    return found
