"""The diary aggregate, read: protected time, supervision sessions, review points and
calendar tokens (app/models/diary.py).

An enrolment owns its diary, so most questions are asked by enrolment id; the services
check that a booking or session found by its own id belongs to the NQSW in the path.
What the engine sees of a diary is read with the rest of a snapshot
(app/repositories/snapshot.py), in one statement for many NQSWs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from app.models import Account, Staff
from app.models.diary import (
    CalendarToken,
    ProtectedTime,
    ProtectedTimeStatus,
    ReviewPoint,
    SupervisionSession,
)
from app.repositories.base import get, paginate

# Bookings that hold time in the diary: booked ahead, or taken.
ACTIVE = (ProtectedTimeStatus.booked.value, ProtectedTimeStatus.taken.value)


# --- protected time ------------------------------------------------------------------------


def booking(session: Session, booking_id: int | None) -> ProtectedTime | None:
    return get(session, ProtectedTime, booking_id)


def rebooking_of(session: Session, booking_id: int | None) -> ProtectedTime | None:
    """The booking that makes up for this cancelled or displaced one, if any."""
    return session.exec(
        select(ProtectedTime).where(ProtectedTime.rebooked_from_id == booking_id)
    ).first()


def rebookings_of(session: Session, booking_ids: Sequence[int]) -> dict[int, int]:
    """Original booking id -> the booking that replaced it (one statement)."""
    if not booking_ids:
        return {}
    rows = session.exec(
        select(ProtectedTime.rebooked_from_id, ProtectedTime.id).where(
            col(ProtectedTime.rebooked_from_id).in_(list(booking_ids))
        )
    ).all()
    return {original: replacement for original, replacement in rows
            if original is not None and replacement is not None}


def active_bookings_between(
    session: Session, enrolment_id: int | None, first: date, last: date
) -> list[ProtectedTime]:
    """The bookings holding time (booked or taken) from `first` to `last` inclusive."""
    return list(session.exec(
        select(ProtectedTime).where(
            ProtectedTime.enrolment_id == enrolment_id,
            col(ProtectedTime.day) >= first,
            col(ProtectedTime.day) <= last,
            col(ProtectedTime.status).in_(ACTIVE),
        )
    ).all())


def booked_from(
    session: Session, enrolment_id: int | None, first: date, *, last: date | None = None
) -> list[ProtectedTime]:
    """The bookings still booked (not yet taken, lost or moved away) from `first` to
    `last` inclusive (None: every later day), by day: what a pause displaces and an end
    of the programme cancels."""
    query = select(ProtectedTime).where(
        ProtectedTime.enrolment_id == enrolment_id,
        ProtectedTime.status == ProtectedTimeStatus.booked.value,
        col(ProtectedTime.day) >= first,
    )
    if last is not None:
        query = query.where(col(ProtectedTime.day) <= last)
    return list(session.exec(query.order_by(col(ProtectedTime.day), col(ProtectedTime.id))).all())


def displaced_by_after(session: Session, pause_id: int | None, after: date) -> list[ProtectedTime]:
    """The bookings this pause displaced that fall after `after` and are still displaced,
    by day: those a known return date may give back."""
    return list(session.exec(
        select(ProtectedTime).where(
            ProtectedTime.displaced_by_pause_id == pause_id,
            ProtectedTime.status == ProtectedTimeStatus.displaced.value,
            col(ProtectedTime.day) > after,
        ).order_by(col(ProtectedTime.day), col(ProtectedTime.id))
    ).all())


def days_held(session: Session, enrolment_id: int | None, days: Sequence[date]) -> set[date]:
    """Which of these days already have a booking holding time (booked or taken)."""
    return set(session.exec(
        select(col(ProtectedTime.day)).where(
            ProtectedTime.enrolment_id == enrolment_id,
            col(ProtectedTime.status).in_(ACTIVE),
            col(ProtectedTime.day).in_(list(days)),
        )
    ).all())


def bookings_of(session: Session, enrolment_id: int | None) -> list[ProtectedTime]:
    """Every booking of the enrolment whatever its status, by day."""
    return list(session.exec(
        select(ProtectedTime).where(ProtectedTime.enrolment_id == enrolment_id)
        .order_by(col(ProtectedTime.day), col(ProtectedTime.id))
    ).all())


def taken_by(session: Session, enrolment_id: int | None, on: date) -> list[ProtectedTime]:
    """The bookings confirmed as taken on days up to `on`."""
    return list(session.exec(
        select(ProtectedTime).where(
            ProtectedTime.enrolment_id == enrolment_id,
            ProtectedTime.status == ProtectedTimeStatus.taken.value,
            col(ProtectedTime.day) <= on,
        )
    ).all())


def page_of_bookings(
    session: Session,
    enrolment_id: int | None,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> tuple[list[ProtectedTime], int]:
    """A page of the diary by day, and how many bookings match."""
    query = select(ProtectedTime).where(ProtectedTime.enrolment_id == enrolment_id)
    if status is not None:
        query = query.where(ProtectedTime.status == status)
    if first is not None:
        query = query.where(col(ProtectedTime.day) >= first)
    if last is not None:
        query = query.where(col(ProtectedTime.day) <= last)
    query = query.order_by(col(ProtectedTime.day), col(ProtectedTime.id))
    return paginate(session, query, limit=limit, offset=offset)


# --- supervision and reviews -----------------------------------------------------------------


def supervision_session(session: Session, session_id: int | None) -> SupervisionSession | None:
    return get(session, SupervisionSession, session_id)


def sessions_of(session: Session, enrolment_id: int | None) -> list[SupervisionSession]:
    """Every supervision session of the enrolment, held, planned or cancelled, by day."""
    return list(session.exec(
        select(SupervisionSession).where(SupervisionSession.enrolment_id == enrolment_id)
        .order_by(col(SupervisionSession.day), col(SupervisionSession.id))
    ).all())


def page_of_sessions(
    session: Session,
    enrolment_id: int | None,
    *,
    limit: int,
    offset: int,
    first: date | None = None,
    last: date | None = None,
) -> tuple[list[SupervisionSession], int]:
    """A page of the supervision log, latest first, and how many sessions match."""
    query = select(SupervisionSession).where(SupervisionSession.enrolment_id == enrolment_id)
    if first is not None:
        query = query.where(col(SupervisionSession.day) >= first)
    if last is not None:
        query = query.where(col(SupervisionSession.day) <= last)
    query = query.order_by(col(SupervisionSession.day).desc(), col(SupervisionSession.id).desc())
    return paginate(session, query, limit=limit, offset=offset)


def reviews_of(session: Session, enrolment_id: int | None) -> list[ReviewPoint]:
    """Every review recorded as held on the enrolment."""
    return list(session.exec(
        select(ReviewPoint).where(ReviewPoint.enrolment_id == enrolment_id)
    ).all())


def review_at_month(session: Session, enrolment_id: int | None, month: int) -> ReviewPoint | None:
    """The month-N review recorded on the enrolment, if it was."""
    return session.exec(
        select(ReviewPoint).where(ReviewPoint.enrolment_id == enrolment_id,
                                  ReviewPoint.month == month)
    ).first()


# --- calendar tokens ---------------------------------------------------------------------------


def live_tokens(session: Session, staff_id: int) -> list[CalendarToken]:
    """The NQSW's calendar tokens not yet revoked (at most one, unless two rotations raced)."""
    return list(session.exec(
        select(CalendarToken).where(CalendarToken.staff_id == staff_id,
                                    col(CalendarToken.revoked_at).is_(None))
    ).all())


def live_token_owner(
    session: Session, token_hash: str
) -> tuple[int, date | None, int | None, bool] | None:
    """For a live (unrevoked) token: (staff_id, leave_date, account id, account active),
    the account columns None when the person has no account. The owner's leaving date and
    account are read with the token, as the feed is refused when the owner may no longer
    act."""
    return session.exec(
        select(CalendarToken.staff_id, col(Staff.leave_date), col(Account.id),
               col(Account.is_active))
        .join(Staff, col(Staff.id) == CalendarToken.staff_id)
        .join(Account, col(Account.staff_id) == CalendarToken.staff_id, isouter=True)
        .where(CalendarToken.token_hash == token_hash,
               col(CalendarToken.revoked_at).is_(None))
    ).first()
