"""The supervision log and programme reviews: recording them, and when the next is due.

Supervision is "the first casualty" under pressure, so a cancelled session is recorded
with its reason rather than left out: the log shows what slipped, and the
`supervision` rule measures the gap since the last session actually held.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.errors import Conflict, DomainError, NotFound
from app.models import Staff
from app.models.base import Role
from app.models.diary import ReviewPoint, SupervisionSession
from app.policy.programme import Clock
from app.policy.rules import supervision as rule_kind
from app.schemas.supervision import ReviewCreate, SupervisionCancel, SupervisionCreate
from app.services import audit
from app.services.common import paginate
from app.services.diary import DiaryContext, audit_view, load_context, snapshot_for
from app.services.programme_events import nqsw_changed, require_open


def rule_params(policies: Any, programme: str, part: str) -> Any | None:
    """The active `supervision` rule parameters with `part` (frequency or reviews) enabled.

    None when the organisation has no such rule active: nothing is expected, so the API
    shows the log without a schedule. With no policies loaded, the defaults apply.
    """
    if policies is None:
        return getattr(rule_kind.Params(), part)
    return rule_kind.active_part(policies, programme, part)


def record(
    session: Session, *, staff_id: int, data: SupervisionCreate, on: date,
    actor_id: int | None = None,
) -> SupervisionSession:
    """Record a session held or planned (or one that was cancelled, with its reason)."""
    context = load_context(session, staff_id, on)
    require_open(context.enrolment, field="day")
    supervisor = session.get(Staff, data.supervisor_id)
    if supervisor is None:
        raise DomainError(f"staff member {data.supervisor_id} does not exist",
                          field="supervisor_id")
    if supervisor.id == context.staff_id or supervisor.role == Role.nqsw.value:
        raise DomainError("an NQSW cannot be the supervisor", field="supervisor_id")
    if data.day < context.enrolment.start_date:
        raise DomainError(f"{data.day} is before the programme starts on "
                          f"{context.enrolment.start_date}", field="day")
    row = SupervisionSession(
        enrolment_id=context.enrolment.id,  # type: ignore[arg-type]
        day=data.day,
        start_time=data.start_time,
        supervisor_id=supervisor.id,  # type: ignore[arg-type]
        kind=data.kind.value,
        minutes=data.minutes,
        note=data.note,
        cancelled=data.cancelled,
        cancel_reason=data.cancel_reason,
        cancelled_on=on if data.cancelled else None,
        cancelled_by_id=actor_id if data.cancelled else None,
        recorded_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, action="supervision.record", entity="supervision_session",
                 entity_id=row.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 after=audit_view(row))
    nqsw_changed(session, context.staff_id, on, actor_id, "supervision recorded")
    return row


def get_session_row(session: Session, context: DiaryContext, session_id: int) -> SupervisionSession:
    row = session.get(SupervisionSession, session_id)
    if row is None or row.enrolment_id != context.enrolment.id:
        raise NotFound("supervision session", session_id, field=["path", "session_id"])
    return row


def cancel(
    session: Session, *, staff_id: int, session_id: int, data: SupervisionCancel, on: date,
    actor_id: int | None = None,
) -> SupervisionSession:
    """A planned session that will not happen: kept, with who cancelled it and why."""
    context = load_context(session, staff_id, on)
    row = get_session_row(session, context, session_id)
    if row.cancelled:
        raise DomainError(f"session {row.id} was already cancelled on {row.cancelled_on}",
                          field=["path", "session_id"])
    if data.cancelled_by_id is not None and session.get(Staff, data.cancelled_by_id) is None:
        raise DomainError(f"staff member {data.cancelled_by_id} does not exist",
                          field="cancelled_by_id")
    row.cancelled = True
    row.cancel_reason = data.reason
    row.cancelled_on = data.on or on
    row.cancelled_by_id = data.cancelled_by_id if data.cancelled_by_id is not None else actor_id
    session.flush()
    audit.record(session, action="supervision.cancel", entity="supervision_session",
                 entity_id=row.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 before={"cancelled": False},
                 after={"cancelled": True, "reason": data.reason, "on": row.cancelled_on,
                        "cancelled_by_id": row.cancelled_by_id})
    nqsw_changed(session, context.staff_id, on, actor_id, "supervision cancelled")
    return row


def list_sessions(
    session: Session, *, staff_id: int, limit: int, offset: int,
    first: date | None = None, last: date | None = None,
) -> tuple[list[SupervisionSession], int]:
    context = load_context(session, staff_id)
    query = select(SupervisionSession).where(
        SupervisionSession.enrolment_id == context.enrolment.id
    )
    if first is not None:
        query = query.where(col(SupervisionSession.day) >= first)
    if last is not None:
        query = query.where(col(SupervisionSession.day) <= last)
    query = query.order_by(col(SupervisionSession.day).desc(), col(SupervisionSession.id).desc())
    return paginate(session, query, limit=limit, offset=offset)


def schedule(session: Session, *, staff_id: int, on: date, policies: Any) -> dict[str, Any] | None:
    """The frequency check as the `supervision` rule sees it on `on` (None without a policy)."""
    context = load_context(session, staff_id, on)
    params = rule_params(policies, context.enrolment.programme, "frequency")
    if params is None:
        return None
    snapshot = snapshot_for(session, context, on)
    clock = Clock.of(snapshot)
    measures = rule_kind.frequency_measures(snapshot, params, clock)
    return {"on": on, "programme_days": clock.days, "programme_months": clock.months,
            **measures}


def reviews(session: Session, *, staff_id: int, on: date, policies: Any) -> dict[str, Any]:
    """Every review point with its due date (pauses included), when held, and if overdue."""
    context = load_context(session, staff_id, on)
    params = rule_params(policies, context.enrolment.programme, "reviews")
    if params is None:
        params = rule_kind.DEFAULT_REVIEWS
    snapshot = snapshot_for(session, context, on)
    points = rule_kind.review_schedule(snapshot, params)
    rows = {
        r.month: r for r in session.exec(
            select(ReviewPoint).where(ReviewPoint.enrolment_id == context.enrolment.id)
        ).all()
    }
    for point in points:
        row = rows.get(point["month"])
        if row is not None:
            point["id"], point["note"] = row.id, row.note
            point["held_on"] = row.held_on.isoformat()
    return {"on": on, "grace_working_days": params.grace_working_days, "reviews": points}


def record_review(
    session: Session, *, staff_id: int, data: ReviewCreate, on: date, policies: Any,
    actor_id: int | None = None,
) -> ReviewPoint:
    """Record that the month-N review was held."""
    context = load_context(session, staff_id, on)
    require_open(context.enrolment, field="held_on")
    months = rule_kind.review_months(policies, context.enrolment.programme)
    if data.month not in months:
        listed = ", ".join(str(m) for m in months)
        raise DomainError(f"reviews are at months {listed} on this programme", field="month")
    if data.held_on > on:
        raise DomainError(f"a review cannot be recorded as held on {data.held_on}, after {on}",
                          field="held_on")
    if data.held_on < context.enrolment.start_date:
        raise DomainError(f"{data.held_on} is before the programme starts on "
                          f"{context.enrolment.start_date}", field="held_on")
    existing = session.exec(
        select(ReviewPoint).where(ReviewPoint.enrolment_id == context.enrolment.id,
                                  ReviewPoint.month == data.month)
    ).first()
    if existing is not None:
        raise Conflict(f"the {data.month}-month review was already recorded as held on "
                       f"{existing.held_on}", field="month")
    row = ReviewPoint(enrolment_id=context.enrolment.id,  # type: ignore[arg-type]
                      month=data.month, held_on=data.held_on, note=data.note,
                      recorded_by_id=actor_id)
    session.add(row)
    session.flush()
    audit.record(session, action="review.record", entity="review_point", entity_id=row.id,
                 actor_id=actor_id, nqsw_id=context.staff_id, after=row)
    nqsw_changed(session, context.staff_id, on, actor_id, f"{data.month}-month review held")
    return row
