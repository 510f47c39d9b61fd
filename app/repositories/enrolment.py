"""An NQSW's enrolments and what hangs off them (app/models/enrolment.py): pauses,
sign-offs and individual adjustments.

Which enrolment is someone's is asked three ways, each written once here:

* `current_enrolment(s)`: the one in force on a date (started by then and not yet
  ended; the latest started if several), which the engine and the workload read;
* `latest_enrolment`: the one programme events act on and the NQSW's record shows when
  none is in force: the open (active or paused) one, else the one that started last;
* `current_per_person`: the one a list shows for a date (the latest started by then,
  else the next to start), in SQL, so a page of NQSWs costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_
from sqlmodel import Session, col, select

from app.models import Adjustment, Enrolment, Pause, SignOff, Staff, Team
from app.models.base import EnrolmentStatus
from app.repositories.base import get, get_or_404, paginate
from app.repositories.staff import within_reach
from app.schemas.enrolment import EnrolmentStatusOn

if TYPE_CHECKING:
    from app.auth.reach import Reach

OPEN_STATUSES = (EnrolmentStatus.active.value, EnrolmentStatus.paused.value)
ENDED_STATUSES = (EnrolmentStatus.withdrawn.value, EnrolmentStatus.completed.value)
# SQLite limits the number of bound parameters; chunking also keeps plans simple.
CHUNK = 900


def enrolment(session: Session, enrolment_id: int | None) -> Enrolment | None:
    return get(session, Enrolment, enrolment_id)


def enrolment_or_404(session: Session, enrolment_id: int) -> Enrolment:
    return get_or_404(session, Enrolment, enrolment_id)


def enrolments_of(
    session: Session, staff_id: int, *, exclude_id: int | None = None
) -> list[Enrolment]:
    """Every enrolment of one person, in no particular order (callers choose by dates)."""
    query = select(Enrolment).where(Enrolment.staff_id == staff_id)
    if exclude_id is not None:
        query = query.where(col(Enrolment.id) != exclude_id)
    return list(session.exec(query).all())


# ---- which enrolment is someone's --------------------------------------------------------


def open_enrolment(session: Session, staff_id: int) -> Enrolment | None:
    """The person's active or paused enrolment, if any (the database allows at most one)."""
    query = (
        select(Enrolment)
        .where(Enrolment.staff_id == staff_id, col(Enrolment.status).in_(OPEN_STATUSES))
        .order_by(col(Enrolment.id).desc())
    )
    return session.exec(query.limit(1)).first()


def latest_enrolment(session: Session, staff_id: int) -> Enrolment | None:
    """The enrolment programme events act on and the NQSW's record shows: the open
    (active or paused) one, else the one that started last (the latest recorded if two
    start on one day).

    Open first, because a paused NQSW is still on that programme and it is the only one
    a pause, a resumption, a withdrawal or a sign-off can change, whatever its dates;
    then by start date, not by the order of recording, because an earlier programme
    entered afterwards for the record is not the NQSW's latest.
    """
    is_open = case((col(Enrolment.status).in_(OPEN_STATUSES), 0), else_=1)
    query = (
        select(Enrolment)
        .where(Enrolment.staff_id == staff_id)
        .order_by(is_open, col(Enrolment.start_date).desc(), col(Enrolment.id).desc())
    )
    return session.exec(query.limit(1)).first()


class EnrolmentDates(Protocol):
    """What decides whether an enrolment is current (an Enrolment, or a row of one)."""

    start_date: date
    ended_on: date | None
    status: str


def is_current(enrolment: EnrolmentDates, on: date) -> bool:
    """In force on `on`: started by then, and not ended (from its end date, or with no
    end date recorded, by its status)."""
    if enrolment.start_date > on:
        return False
    if enrolment.ended_on is not None:
        return on < enrolment.ended_on
    return enrolment.status not in ENDED_STATUSES


def current_enrolments(
    session: Session, staff_ids: Iterable[int], on: date
) -> dict[int, Enrolment]:
    """Each person's enrolment in force on `on` (the latest started, if several)."""
    ids = sorted(set(staff_ids))
    found: dict[int, Enrolment] = {}
    for index in range(0, len(ids), CHUNK):
        rows = session.exec(
            select(Enrolment)
            .where(col(Enrolment.staff_id).in_(ids[index:index + CHUNK]),
                   col(Enrolment.start_date) <= on)
            .order_by(col(Enrolment.start_date), col(Enrolment.id))
        ).all()
        for row in rows:
            if is_current(row, on):
                found[row.staff_id] = row
    return found


def current_enrolment(session: Session, staff_id: int, on: date) -> Enrolment | None:
    """The person's enrolment in force on `on`, or None."""
    return current_enrolments(session, [staff_id], on).get(staff_id)


def enrolled_on(session: Session, on: date) -> list[int]:
    """Every person with an enrolment in force on `on`, by id: the population a sweep
    covers."""
    rows = session.exec(select(Enrolment).where(col(Enrolment.start_date) <= on)).all()
    return sorted({row.staff_id for row in rows if is_current(row, on)})


# ---- status on a date, in SQL ------------------------------------------------------------


def ended_on_sql(on: date) -> ColumnElement[bool]:
    """Off the programme on `on`: from its end date, or ended on a day nobody recorded."""
    return or_(
        and_(col(Enrolment.ended_on).is_not(None), col(Enrolment.ended_on) <= on),
        and_(col(Enrolment.ended_on).is_(None), col(Enrolment.status).in_(ENDED_STATUSES)),
    )


def paused_on_sql(on: date) -> ColumnElement[bool]:
    """A pause of the enrolment covers `on` (its last day included)."""
    return exists().where(
        col(Pause.enrolment_id) == col(Enrolment.id),
        col(Pause.start_date) <= on,
        or_(col(Pause.end_date).is_(None), col(Pause.end_date) >= on),
    )


def status_on_sql(status: EnrolmentStatusOn, on: date) -> ColumnElement[bool]:
    """The enrolment's status on `on` is `status` (as `services.enrolments.status_on`
    reads it from the rows), as a SQL condition for filtering lists."""
    started = col(Enrolment.start_date) <= on
    if status is EnrolmentStatusOn.not_started:
        return col(Enrolment.start_date) > on
    if status in (EnrolmentStatusOn.withdrawn, EnrolmentStatusOn.completed):
        return and_(started, ended_on_sql(on), col(Enrolment.status) == status.value)
    running = and_(started, not_(ended_on_sql(on)))
    if status is EnrolmentStatusOn.paused:
        return and_(running, paused_on_sql(on))
    return and_(running, not_(paused_on_sql(on)))


def current_per_person(on: date) -> Any:
    """The id of each person's enrolment as of `on` (the latest started by then, else the
    next to start), as a subquery."""
    started = col(Enrolment.start_date) <= on
    rank = func.row_number().over(
        partition_by=col(Enrolment.staff_id),
        order_by=(
            case((started, 0), else_=1),
            case((started, col(Enrolment.start_date)), else_=None).desc(),
            col(Enrolment.start_date),
            col(Enrolment.id).desc(),
        ),
    )
    ranked = select(col(Enrolment.id).label("enrolment_id"), rank.label("rank")).subquery()
    return select(ranked.c.enrolment_id).where(ranked.c.rank == 1)


def _with_status(query: Any, status: EnrolmentStatusOn | None, on: date) -> Any:
    """Keep rows with this status on `on`; without one, those started by `on`."""
    if status is None:
        return query.where(col(Enrolment.start_date) <= on)
    return query.where(status_on_sql(status, on))


# ---- lists -------------------------------------------------------------------------------


def nqsws_page(
    session: Session, *, on: date, limit: int, offset: int, team_id: int | None = None,
    service_area_id: int | None = None, programme: str | None = None,
    status: EnrolmentStatusOn | None = None, include_left: bool = False,
    scope: Reach | None = None,
) -> tuple[list[tuple[Staff, Enrolment]], int]:
    """One row per NQSW (their enrolment as of `on`), by name: see
    `services.enrolments.list_nqsws` for who is listed."""
    query = (
        select(Staff, Enrolment)
        .join(Enrolment, col(Staff.id) == col(Enrolment.staff_id))
        .where(col(Enrolment.id).in_(current_per_person(on)))
        .order_by(col(Staff.name), col(Staff.id))
    )
    if team_id is not None:
        query = query.where(Staff.team_id == team_id)
    if service_area_id is not None:
        query = query.join(Team, col(Team.id) == col(Staff.team_id)).where(
            Team.service_area_id == service_area_id
        )
    if programme is not None:
        query = query.where(Enrolment.programme == programme)
    query = _with_status(query, status, on)
    if status is None:
        query = query.where(col(Staff.start_date) <= on)
    if not include_left:
        query = query.where((col(Staff.leave_date).is_(None)) | (col(Staff.leave_date) > on))
    visible = within_reach(scope)
    if visible is not None:
        query = query.where(visible)
    rows, count = paginate(session, query, limit=limit, offset=offset)  # type: ignore[arg-type]
    return [(staff, enrolment) for staff, enrolment in rows], count


def enrolments_page(
    session: Session, *, on: date, limit: int, offset: int, staff_id: int | None = None,
    programme: str | None = None, status: EnrolmentStatusOn | None = None,
    scope: Reach | None = None,
) -> tuple[list[Enrolment], int]:
    """Enrolments, oldest first (see `services.enrolments.list_enrolments`)."""
    query = select(Enrolment).order_by(col(Enrolment.start_date), col(Enrolment.id))
    if staff_id is not None:
        query = query.where(Enrolment.staff_id == staff_id)
    if programme is not None:
        query = query.where(Enrolment.programme == programme)
    query = _with_status(query, status, on)
    visible = within_reach(scope)
    if visible is not None:
        query = query.join(Staff, col(Staff.id) == col(Enrolment.staff_id)).where(visible)
    return paginate(session, query, limit=limit, offset=offset)


def person_enrolments_page(
    session: Session, staff_id: int, *, limit: int, offset: int
) -> tuple[list[Enrolment], int]:
    """Every enrolment of one person, oldest first, including any that start later."""
    query = select(Enrolment).where(Enrolment.staff_id == staff_id).order_by(
        col(Enrolment.start_date), col(Enrolment.id)
    )
    return paginate(session, query, limit=limit, offset=offset)


# ---- pauses and sign-offs ----------------------------------------------------------------


def pauses_of(session: Session, enrolment_id: int) -> list[Pause]:
    """The enrolment's pauses, oldest first."""
    query = select(Pause).where(Pause.enrolment_id == enrolment_id).order_by(
        col(Pause.start_date), col(Pause.id)
    )
    return list(session.exec(query).all())


def pauses_for(session: Session, enrolment_ids: Iterable[int]) -> dict[int, list[Pause]]:
    """Every pause of these enrolments, oldest first, in one query."""
    ids = list(enrolment_ids)
    found: dict[int, list[Pause]] = defaultdict(list)
    if not ids:
        return found
    query = select(Pause).where(col(Pause.enrolment_id).in_(ids)).order_by(
        col(Pause.start_date), col(Pause.id)
    )
    for row in session.exec(query).all():
        found[row.enrolment_id].append(row)
    return found


def sign_off(session: Session, sign_off_id: int) -> SignOff | None:
    return get(session, SignOff, sign_off_id)


def sign_offs_of(session: Session, enrolment_id: int) -> list[SignOff]:
    """Every sign-off of the enrolment, revoked ones included, by date."""
    query = select(SignOff).where(SignOff.enrolment_id == enrolment_id).order_by(
        col(SignOff.signed_on), col(SignOff.id)
    )
    return list(session.exec(query).all())


def live_sign_off(session: Session, enrolment_id: int, kind: str) -> SignOff | None:
    """The enrolment's sign-off of this kind not revoked (approved or awaiting approval)."""
    return session.exec(
        select(SignOff).where(
            SignOff.enrolment_id == enrolment_id,
            SignOff.kind == kind,
            col(SignOff.revoked_on).is_(None),
        )
    ).first()


# ---- individual adjustments --------------------------------------------------------------


# Only an approved adjustment can be in force; proposals (pending, refused, withdrawn) are
# kept on record beside it.
APPROVED = "approved"


def adjustments_of(
    session: Session, staff_id: int, *, on: date, in_force: bool | None = None,
    statuses: Sequence[str] | None = None,
) -> list[Adjustment]:
    """Every adjustment of every enrolment of this person, newest agreement first; with
    `in_force`, only those in force on `on` (approved, both ends included), or only those
    not; with `statuses`, only those in one of them."""
    query = (
        select(Adjustment)
        .join(Enrolment, col(Enrolment.id) == col(Adjustment.enrolment_id))
        .where(Enrolment.staff_id == staff_id)
        .order_by(col(Adjustment.valid_from).desc(), col(Adjustment.id).desc())
    )
    if in_force is not None:
        current = and_(
            col(Adjustment.status) == APPROVED,
            col(Adjustment.valid_from) <= on,
            or_(col(Adjustment.valid_to).is_(None), col(Adjustment.valid_to) >= on),
        )
        query = query.where(current if in_force else ~current)
    if statuses is not None:
        query = query.where(col(Adjustment.status).in_(list(statuses)))
    return list(session.exec(query).all())


def adjustments_of_enrolment(session: Session, enrolment_id: int) -> list[Adjustment]:
    """Every approved adjustment agreed on this enrolment, in the order they begin (the
    caller keeps those in force on its date); proposals are never in force."""
    return list(session.exec(
        select(Adjustment).where(Adjustment.enrolment_id == enrolment_id,
                                 Adjustment.status == APPROVED)
        .order_by(col(Adjustment.valid_from), col(Adjustment.id))
    ).all())


def adjustment_of(
    session: Session, staff_id: int, adjustment_id: int, *, lock: bool = False
) -> Adjustment | None:
    """The adjustment, if it belongs to one of this person's enrolments; with `lock`, its
    row locked, so that two people deciding one proposal at once are taken in turn."""
    query = (
        select(Adjustment)
        .join(Enrolment, col(Enrolment.id) == col(Adjustment.enrolment_id))
        .where(Adjustment.id == adjustment_id, Enrolment.staff_id == staff_id)
    )
    if lock:
        query = query.with_for_update(of=Adjustment).execution_options(  # type: ignore[arg-type]
            populate_existing=True
        )
    return session.exec(query).first()



def lock_enrolments_of(session: Session, staff_ids: Sequence[int]) -> set[int]:
    """Row-lock every enrolment of these people, in id order so that two lockers never
    deadlock; the people who have one (the others have nothing to lock here)."""
    locked = session.exec(
        select(Enrolment.id, Enrolment.staff_id)
        .where(col(Enrolment.staff_id).in_(list(staff_ids)))
        .order_by(col(Enrolment.id))
        .with_for_update()
    ).all()
    return {row[1] for row in locked}
