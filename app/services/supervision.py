"""The supervision log and programme reviews: recording them, and when the next is due.

Supervision is "the first casualty" under pressure, so a cancelled session is recorded
with its reason rather than left out: the log shows what slipped, and the
`supervision` rule measures the gap since the last session actually held.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.errors import Conflict, DomainError, NotFound
from app.models import Staff
from app.models.base import Role
from app.models.diary import ReviewPoint, SupervisionKind, SupervisionSession
from app.policy.programme import Clock
from app.policy.rules import supervision as rule_kind
from app.policy.rules.supervision import KIND_WORDS
from app.repositories import diary as diary_rows
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.schemas.supervision import ReviewCreate, SupervisionCancel, SupervisionCreate
from app.services import audit
from app.services.diary import (
    WEEKDAYS,
    DiaryContext,
    audit_view,
    holiday_name,
    load_context,
    open_context,
    own_row,
    refuse_paused_day,
    snapshot_for,
)
from app.services.programme_events import nqsw_changed
from app.services.reconcile import Cause, Trigger

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def rule_params(policies: PolicySet, programme: str, part: str) -> Any | None:
    """The active `supervision` rule parameters with `part` (frequency or reviews) enabled.

    None when the organisation has no such rule active: nothing is expected, so the API
    shows the log without a schedule. With no policies loaded, the defaults apply.
    """
    if policies is None:
        return getattr(rule_kind.Params(), part)
    return rule_kind.active_part(policies, programme, part)


# How a refusal of a weekend or bank-holiday date says it can be confirmed (the page
# words it for its own checkbox).
CONFIRM_HINT = "set non_working_day to true if the session really is on that day"


class NotYours(DomainError):
    """The signed-in person may record supervision, but not this session: 403."""

    status_code = 403
    error_type = "forbidden"


def _actor(session: Session, actor_id: int | None) -> Staff | None:
    return staff_repo.person(session, actor_id)


def team_manager_of(session: Session, nqsw: Staff) -> int | None:
    team = org_repo.team(session, nqsw.team_id) if nqsw.team_id else None
    return team.manager_id if team else None


def joint_only(role: str | None) -> bool:
    """An advanced practitioner records (and cancels) only the joint sessions they attend;
    the team manager records every kind."""
    return role == Role.advanced_practitioner.value


def may_cancel(
    role: str | None, actor_id: int | None, row: SupervisionSession,
    advanced_practitioner_id: int | None,
) -> bool:
    """Whether this person may cancel this session, as far as the session itself goes
    (who may cancel supervision at all is the access table's rule).

    An advanced practitioner is part of a joint session they led, recorded, or that is
    joint with them as the NQSW's advanced practitioner; any other session is the team
    manager's to cancel.
    """
    if not joint_only(role):
        return True
    if row.kind != SupervisionKind.joint_with_ap.value:
        return False
    return actor_id is not None and actor_id in (
        row.supervisor_id, row.recorded_by_id, advanced_practitioner_id
    )


def check_recorder(
    session: Session, context: DiaryContext, data: SupervisionCreate, actor: Staff | None
) -> None:
    """An advanced practitioner records joint sessions only, led by them or by the NQSW's
    team manager: the same rule on the page and in the API."""
    if actor is None or not joint_only(actor.role):
        return
    if data.kind != SupervisionKind.joint_with_ap:
        raise NotYours(
            "an advanced practitioner records only joint supervision with the advanced "
            "practitioner (kind joint_with_ap); the team manager records the other kinds",
            field="kind",
        )
    allowed = {actor.id, team_manager_of(session, context.staff)}
    if data.supervisor_id not in allowed:
        raise NotYours(
            "a joint session you record is led by you or by the NQSW's team manager; staff "
            f"member {data.supervisor_id} is neither",
            field="supervisor_id",
        )


def check_session_day(context: DiaryContext, data: SupervisionCreate) -> None:
    """A session falls inside the programme's running time, on a working day unless the
    recorder confirms otherwise.

    A pause stops the programme clock, so a session inside it is refused: it would not be
    programme supervision (keeping-in-touch contact during a pause is kept outside the
    programme's record). A weekend or bank holiday is usually a mistyped date, so it is
    refused unless `non_working_day` confirms it.
    """
    day = data.day
    if day < context.enrolment.start_date:
        raise DomainError(f"{day} is before the programme starts on "
                          f"{context.enrolment.start_date}", field="day")
    refuse_paused_day(context, day, ": supervision is not recorded while the programme "
                                     "clock is stopped")
    if data.non_working_day:
        return
    if day.weekday() >= 5:
        raise DomainError(
            f"{day} is a {WEEKDAYS[day.weekday()]}: check the date, or {CONFIRM_HINT}",
            field="day",
        )
    if day in context.holidays:
        raise DomainError(
            f"{day} is a bank holiday ({holiday_name(day)}): check the date, or "
            f"{CONFIRM_HINT}",
            field="day",
        )


def record(
    session: Session, *, staff_id: int, data: SupervisionCreate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> SupervisionSession:
    """Record a session held or planned (or one that was cancelled, with its reason)."""
    context = open_context(session, staff_id, on, field="day")
    supervisor = staff_repo.person(session, data.supervisor_id)
    if supervisor is None:
        raise NotFound("staff member", data.supervisor_id, field="supervisor_id")
    if supervisor.id == context.staff_id or supervisor.role == Role.nqsw.value:
        raise DomainError("an NQSW cannot be the supervisor", field="supervisor_id")
    check_recorder(session, context, data, _actor(session, actor_id))
    check_session_day(context, data)
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
                 after=audit_view(row), effective_on=min(data.day, on))
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger("supervision recorded", Cause.supervision), policies=policies)
    return row


def get_session_row(session: Session, context: DiaryContext, session_id: int) -> SupervisionSession:
    return own_row(context, diary_rows.supervision_session(session, session_id),
                   "supervision session", session_id, "session_id")


def cancel(
    session: Session, *, staff_id: int, session_id: int, data: SupervisionCancel, on: date,
    policies: PolicySet, actor_id: int | None = None,
) -> SupervisionSession:
    """A planned session that will not happen: kept, with who cancelled it and why."""
    context = load_context(session, staff_id, on)
    row = get_session_row(session, context, session_id)
    actor = _actor(session, actor_id)
    if actor is not None and not may_cancel(actor.role, actor.id, row,
                                            context.enrolment.advanced_practitioner_id):
        raise NotYours(
            f"session {row.id} is {KIND_WORDS.get(row.kind, row.kind)}: an advanced "
            "practitioner cancels only the joint sessions they are part of; ask the team "
            "manager",
            field=["path", "session_id"],
        )
    if row.cancelled:
        raise DomainError(f"session {row.id} was already cancelled on {row.cancelled_on}",
                          field=["path", "session_id"])
    row.cancelled = True
    row.cancel_reason = data.reason
    row.cancelled_on = data.cancelled_on or on
    row.cancelled_by_id = actor_id
    session.flush()
    audit.record(session, action="supervision.cancel", entity="supervision_session",
                 entity_id=row.id, actor_id=actor_id, nqsw_id=context.staff_id,
                 before={"cancelled": False},
                 after={"cancelled": True, "reason": data.reason, "on": row.cancelled_on,
                        "cancelled_by_id": row.cancelled_by_id},
                 effective_on=row.cancelled_on)
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger("supervision cancelled", Cause.supervision), policies=policies)
    return row


def list_sessions(
    session: Session, *, staff_id: int, limit: int, offset: int,
    first: date | None = None, last: date | None = None,
) -> tuple[list[SupervisionSession], int]:
    context = load_context(session, staff_id)
    return diary_rows.page_of_sessions(session, context.enrolment.id, limit=limit,
                                       offset=offset, first=first, last=last)


def schedule(
    session: Session, *, staff_id: int, on: date, policies: PolicySet
) -> dict[str, Any] | None:
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


def reviews(session: Session, *, staff_id: int, on: date, policies: PolicySet) -> dict[str, Any]:
    """Every review point with its due date (pauses included), when held, and if overdue:
    a list as every list is answered (`data` and `count`), with the date and grace."""
    context = load_context(session, staff_id, on)
    params = rule_params(policies, context.enrolment.programme, "reviews")
    if params is None:
        params = rule_kind.DEFAULT_REVIEWS
    snapshot = snapshot_for(session, context, on)
    points = rule_kind.review_schedule(snapshot, params)
    rows = {r.month: r for r in diary_rows.reviews_of(session, context.enrolment.id)}
    for point in points:
        row = rows.get(point["month"])
        if row is not None:
            point["id"], point["note"] = row.id, row.note
            point["held_on"] = row.held_on.isoformat()
    return {"on": on, "grace_working_days": params.grace_working_days, "data": points,
            "count": len(points)}


def record_review(
    session: Session, *, staff_id: int, data: ReviewCreate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> ReviewPoint:
    """Record that the month-N review was held."""
    context = open_context(session, staff_id, on, field="held_on")
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
    existing = diary_rows.review_at_month(session, context.enrolment.id, data.month)
    if existing is not None:
        raise Conflict(f"the {data.month}-month review was already recorded as held on "
                       f"{existing.held_on}", field="month")
    row = ReviewPoint(enrolment_id=context.enrolment.id,  # type: ignore[arg-type]
                      month=data.month, held_on=data.held_on, note=data.note,
                      recorded_by_id=actor_id)
    session.add(row)
    session.flush()
    audit.record(session, action="review.record", entity="review_point", entity_id=row.id,
                 actor_id=actor_id, nqsw_id=context.staff_id, after=row,
                 effective_on=data.held_on)
    nqsw_changed(session, context.staff_id, on, actor_id,
                 Trigger(f"{data.month}-month review held", Cause.supervision), policies=policies)
    return row
