"""What the engine sees of the diary: protected time, supervision and reviews per enrolment.

The snapshot loader (`app.services.snapshots`) calls `load_diary_facts` for every NQSW
it loads at once, so this issues one statement (the three tables in a UNION ALL, in
chunks for very long id lists) whatever the number of NQSWs, never one per person. It
reads plain rows of the columns the engine needs, with a statement built once
(app.repositories.base), not ORM objects: an NQSW has a hundred or more diary rows and every
what-if check reads them, so building an ORM object per row would cost more than the
query itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

from app.models.diary import ProtectedTime, ReviewPoint, SupervisionSession
from app.policy.snapshot import ProtectedTimeEntry, ReviewRecord, SupervisionRecord
from app.repositories.base import read, table

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


def _booking(row: Any, rebooked: set[int]) -> ProtectedTimeEntry:
    """A `ProtectedTimeEntry` from a booking row of `_DIARY` (`rebooked`: the ids of the
    bookings that another one makes up for)."""
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


# Built once, with bound parameters, run as plain rows (app.repositories.base).
_BOOKING, _SESSION, _REVIEW = table(ProtectedTime), table(SupervisionSession), table(ReviewPoint)
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ON: BindParameter[Any] = bindparam("on", type_=Date)


def _fact(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("fact")


def _nothing(type_: Any) -> Any:
    return cast(null(), type_)


# The three tables in ONE statement, rows tagged by `fact`, each kind in its own order
# (day, then id; reviews are put in month order afterwards): every booking whatever its
# date, sessions and reviews once held. Bookings come first so that the columns take
# their types from them.
_DIARY = union_all(
    select(
        _fact("booking"), _BOOKING.c.enrolment_id, _BOOKING.c.id, _BOOKING.c.day,
        _BOOKING.c.cancelled_on, _BOOKING.c.hours, _BOOKING.c.status.label("text1"),
        _BOOKING.c.purpose.label("text2"), _BOOKING.c.rebooked_from_id.label("number"),
        _nothing(Boolean).label("flag"),
    ).where(_BOOKING.c.enrolment_id.in_(_IDS)),
    select(
        _fact("session"), _SESSION.c.enrolment_id, _SESSION.c.id, _SESSION.c.day,
        _nothing(Date), _nothing(Float), _SESSION.c.kind, _nothing(String),
        _SESSION.c.minutes, _SESSION.c.cancelled,
    ).where(_SESSION.c.enrolment_id.in_(_IDS), _SESSION.c.day <= _ON),
    select(
        _fact("review"), _REVIEW.c.enrolment_id, _REVIEW.c.id, _REVIEW.c.held_on,
        _nothing(Date), _nothing(Float), _nothing(String), _nothing(String),
        _REVIEW.c.month, _nothing(Boolean),
    ).where(_REVIEW.c.enrolment_id.in_(_IDS), _REVIEW.c.held_on <= _ON),
).order_by(literal_column("fact"), literal_column("day"), literal_column("id"))


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
    for chunk in _chunks(ids):
        # Rows are unpacked rather than read by name: there are a hundred or more per NQSW.
        for row in read(session, _DIARY, ids=chunk, on=on):
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
