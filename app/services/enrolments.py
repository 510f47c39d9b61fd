"""NQSWs and their enrolments: joining the programme, the people around them, progress.

Programme events that move the clock (pause, resume, withdraw, complete, sign-off)
live in `programme_events`; this module creates enrolments and reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.reach import Reach
from app.errors import Conflict, DomainError, NotFound
from app.models import Enrolment, Pause, SignOff, Staff, Team
from app.models.base import PROGRAMME_MONTHS, EnrolmentStatus, Programme, Role
from app.policy.policies import PolicySet
from app.policy.programme import (
    boundary_date,
    paused_days_before,
    programme_days,
    programme_months,
)
from app.policy.rules.supervision import review_months
from app.policy.snapshot import PauseSpan, Snapshot
from app.schemas.enrolment import (
    EnrolmentCreate,
    NqswCreate,
    NqswUpdate,
    ProgrammeProgress,
    ReviewPoint,
)
from app.services import audit, workload_events
from app.services.common import apply_changes, get_or_404, paginate, require_exists
from app.services.staff import ensure_email_free, within_reach

OPEN_STATUSES = (EnrolmentStatus.active.value, EnrolmentStatus.paused.value)

# Stages by completed programme months, as the caseload caps grade them: the first 3
# months, to 6, to 12, and a second year for SWIP. (Review points are the supervision
# policy's; see `programme_progress`.)
_STAGES: tuple[tuple[int, str, str], ...] = (
    (3, "months_0_3", "first 3 months"),
    (6, "months_3_6", "months 3 to 6"),
    (12, "months_6_12", "months 6 to 12"),
    (24, "months_12_24", "second year"),
)


def _check_people(
    session: Session,
    *,
    nqsw_id: int | None,
    assessor_id: int | None,
    advanced_practitioner_id: int | None,
) -> None:
    """The assessor is an experienced colleague; the AP is an advanced practitioner."""
    if assessor_id is not None:
        assessor = session.get(Staff, assessor_id)
        if assessor is None:
            raise DomainError(f"staff member {assessor_id} does not exist", field="assessor_id")
        if assessor.id == nqsw_id or assessor.role == Role.nqsw.value:
            raise DomainError("an NQSW cannot be an assessor", field="assessor_id")
    if advanced_practitioner_id is not None:
        ap = session.get(Staff, advanced_practitioner_id)
        if ap is None:
            raise DomainError(f"staff member {advanced_practitioner_id} does not exist",
                              field="advanced_practitioner_id")
        if ap.role != Role.advanced_practitioner.value:
            raise DomainError(
                f"staff member {ap.id} is a {ap.role.replace('_', ' ')}, "
                "not an advanced practitioner",
                field="advanced_practitioner_id",
            )


def open_enrolment(session: Session, staff_id: int) -> Enrolment | None:
    """The staff member's active or paused enrolment, if any (there is at most one)."""
    query = (
        select(Enrolment)
        .where(Enrolment.staff_id == staff_id, col(Enrolment.status).in_(OPEN_STATUSES))
        .order_by(col(Enrolment.id).desc())
    )
    return session.exec(query.limit(1)).first()


def latest_enrolment(session: Session, staff_id: int) -> Enrolment | None:
    """The enrolment the NQSW view shows: the open one, else the most recent."""
    found = open_enrolment(session, staff_id)
    if found is not None:
        return found
    query = select(Enrolment).where(Enrolment.staff_id == staff_id).order_by(
        col(Enrolment.id).desc()
    )
    return session.exec(query.limit(1)).first()


def _ensure_not_enrolled(session: Session, staff_id: int) -> None:
    current = open_enrolment(session, staff_id)
    if current is not None:
        raise Conflict(
            f"staff member {staff_id} already has an {current.status} enrolment "
            f"({current.id}); end it before enrolling again",
            field="staff_id",
        )


def _new_enrolment(
    session: Session, *, staff_id: int, programme: Programme, start_date: date,
    assessor_id: int | None, advanced_practitioner_id: int | None, actor_id: int | None,
) -> Enrolment:
    enrolment = Enrolment(
        staff_id=staff_id,
        programme=programme.value,
        start_date=start_date,
        status=EnrolmentStatus.active.value,
        assessor_id=assessor_id,
        advanced_practitioner_id=advanced_practitioner_id,
    )
    session.add(enrolment)
    session.flush()
    audit.record(session, action="enrolment.create", entity="enrolment", entity_id=enrolment.id,
                 actor_id=actor_id, nqsw_id=staff_id, after=enrolment)
    return enrolment


def create_nqsw(
    *, session: Session, data: NqswCreate, actor_id: int | None = None
) -> tuple[Staff, Enrolment]:
    """The staff record and the enrolment, in the request's one transaction."""
    require_exists(session, Team, data.team_id, field="team_id", what="team")
    ensure_email_free(session, data.email)
    _check_people(session, nqsw_id=None, assessor_id=data.assessor_id,
                  advanced_practitioner_id=data.advanced_practitioner_id)
    staff = Staff(
        name=data.name,
        email=data.email,
        role=Role.nqsw.value,
        team_id=data.team_id,
        contracted_hours=data.contracted_hours,
        fte=data.fte,
        start_date=data.employment_start_date or data.start_date,
        experienced=False,
    )
    session.add(staff)
    session.flush()
    assert staff.id is not None
    audit.record(session, action="staff.create", entity="staff", entity_id=staff.id,
                 actor_id=actor_id, nqsw_id=staff.id, after=staff)
    enrolment = _new_enrolment(
        session, staff_id=staff.id, programme=data.programme, start_date=data.start_date,
        assessor_id=data.assessor_id, advanced_practitioner_id=data.advanced_practitioner_id,
        actor_id=actor_id,
    )
    return staff, enrolment


def enrol(*, session: Session, data: EnrolmentCreate, actor_id: int | None = None) -> Enrolment:
    """Enrol someone already on the staff; they become an NQSW for the programme's length."""
    staff = session.get(Staff, data.staff_id)
    if staff is None:
        raise DomainError(f"staff member {data.staff_id} does not exist", field="staff_id")
    if staff.leave_date is not None and staff.leave_date <= data.start_date:
        raise DomainError(f"staff member {staff.id} left on {staff.leave_date}",
                          field="start_date")
    _ensure_not_enrolled(session, staff.id)  # type: ignore[arg-type]
    _check_people(session, nqsw_id=staff.id, assessor_id=data.assessor_id,
                  advanced_practitioner_id=data.advanced_practitioner_id)
    if staff.role != Role.nqsw.value:
        before = apply_changes(staff, {"role": Role.nqsw.value})
        session.flush()
        audit.record(session, action="staff.update", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, nqsw_id=staff.id, before=before,
                     after={"role": Role.nqsw.value})
    return _new_enrolment(
        session, staff_id=staff.id, programme=data.programme,  # type: ignore[arg-type]
        start_date=data.start_date, assessor_id=data.assessor_id,
        advanced_practitioner_id=data.advanced_practitioner_id, actor_id=actor_id,
    )


def get_nqsw(*, session: Session, staff_id: int) -> tuple[Staff, Enrolment]:
    staff = session.get(Staff, staff_id)
    enrolment = latest_enrolment(session, staff_id) if staff is not None else None
    if staff is None or enrolment is None:
        raise NotFound("NQSW", staff_id)
    return staff, enrolment


def list_nqsws(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    team_id: int | None = None,
    service_area_id: int | None = None,
    programme: Programme | None = None,
    status: EnrolmentStatus | None = None,
    include_left: bool = False,
    scope: Reach | None = None,
) -> tuple[list[tuple[Staff, Enrolment]], int]:
    """One row per NQSW (their open or latest enrolment), by name.

    By default only those who have not left by `on`; people starting later are listed,
    at stage "not started", so coordinators can prepare for them.
    """
    latest = select(func.max(Enrolment.id)).group_by(col(Enrolment.staff_id))
    query = (
        select(Enrolment)
        .join(Staff, col(Staff.id) == col(Enrolment.staff_id))
        .where(col(Enrolment.id).in_(latest))
        .order_by(col(Staff.name), col(Staff.id))
    )
    if team_id is not None:
        query = query.where(Staff.team_id == team_id)
    if service_area_id is not None:
        query = query.join(Team, col(Team.id) == col(Staff.team_id)).where(
            Team.service_area_id == service_area_id
        )
    if programme is not None:
        query = query.where(Enrolment.programme == programme.value)
    if status is not None:
        query = query.where(Enrolment.status == status.value)
    if not include_left:
        query = query.where((col(Staff.leave_date).is_(None)) | (col(Staff.leave_date) > on))
    visible = within_reach(scope)
    if visible is not None:
        query = query.where(visible)
    enrolments, count = paginate(session, query, limit=limit, offset=offset)
    staff_ids = [e.staff_id for e in enrolments]
    people = {
        s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(staff_ids))).all()
    } if staff_ids else {}
    return [(people[e.staff_id], e) for e in enrolments], count


def pauses_for(session: Session, enrolment_ids: Iterable[int]) -> dict[int, list[Pause]]:
    """Every pause of these enrolments, in one query."""
    ids = list(enrolment_ids)
    found: dict[int, list[Pause]] = defaultdict(list)
    if not ids:
        return found
    query = select(Pause).where(col(Pause.enrolment_id).in_(ids)).order_by(
        col(Pause.start_date)
    )
    for pause in session.exec(query).all():
        found[pause.enrolment_id].append(pause)
    return found


def sign_offs_for(session: Session, enrolment_id: int) -> list[SignOff]:
    query = select(SignOff).where(SignOff.enrolment_id == enrolment_id).order_by(
        col(SignOff.signed_on), col(SignOff.id)
    )
    return list(session.exec(query).all())


def _stage(enrolment: Enrolment, on: date, months: int) -> tuple[str, str]:
    if on < enrolment.start_date:
        return "not_started", "not started"
    length = PROGRAMME_MONTHS[Programme(enrolment.programme)]
    if months >= length:
        return "programme_time_complete", f"{length} months of programme time completed"
    for limit, key, label in _STAGES:
        if months < limit:
            return key, label
    return "programme_time_complete", "programme time completed"  # pragma: no cover


def pause_spans(pauses: Sequence[Pause]) -> tuple[PauseSpan, ...]:
    """Pause rows as the engine's clock reads them."""
    return tuple(PauseSpan(start=p.start_date, end=p.end_date, reason=p.reason) for p in pauses)


def programme_progress(
    enrolment: Enrolment, pauses: Sequence[Pause], on: date, policies: PolicySet | None
) -> ProgrammeProgress:
    """Programme time on `on` via the engine's own clock, so the API and the rules agree.

    An enrolment that has ended (withdrawn, completed) stops counting on its end date.
    Review points are those the active supervision policy sets for the programme.
    """
    as_of = min(on, enrolment.ended_on) if enrolment.ended_on is not None else on
    spans = pause_spans(pauses)
    snapshot = Snapshot(
        staff_id=enrolment.staff_id,
        enrolment_id=enrolment.id or 0,
        programme=enrolment.programme,  # type: ignore[arg-type]
        programme_start=enrolment.start_date,
        as_of=as_of,
        status=enrolment.status,
        pauses=spans,
    )
    days = programme_days(snapshot, as_of)
    months = programme_months(snapshot, as_of)
    paused = (
        paused_days_before(spans, enrolment.start_date, as_of)
        if as_of > enrolment.start_date else 0
    )
    length = PROGRAMME_MONTHS[Programme(enrolment.programme)]
    stage, label = _stage(enrolment, as_of, months)
    return ProgrammeProgress(
        on=on,
        programme_days=days,
        paused_days=paused,
        months_completed=months,
        month=None if as_of < enrolment.start_date else min(months + 1, length),
        stage=stage,
        stage_label=label,
        paused=any(
            p.start_date <= as_of and (p.end_date is None or p.end_date >= as_of) for p in pauses
        ),
        end_date=boundary_date(snapshot, length),
        reviews=[
            ReviewPoint(month=m, due_on=boundary_date(snapshot, m))
            for m in review_months(policies, enrolment.programme) if m <= length
        ],
    )


def progress_for(
    session: Session, enrolments: Sequence[Enrolment], on: date, policies: PolicySet | None
) -> dict[int, ProgrammeProgress]:
    """Progress of many enrolments with one query for their pauses."""
    pauses = pauses_for(session, (e.id for e in enrolments if e.id is not None))
    return {
        e.id: programme_progress(e, pauses.get(e.id, []), on, policies)
        for e in enrolments if e.id is not None
    }


def get_enrolment(*, session: Session, enrolment_id: int) -> Enrolment:
    return get_or_404(session, Enrolment, enrolment_id)


def list_enrolments(*, session: Session, staff_id: int) -> list[Enrolment]:
    """An NQSW's enrolments, oldest first: a withdrawal and a re-enrolment both stay."""
    get_or_404(session, Staff, staff_id, what="staff member")
    query = select(Enrolment).where(Enrolment.staff_id == staff_id).order_by(col(Enrolment.id))
    return list(session.exec(query).all())


def update_nqsw(
    *, session: Session, staff_id: int, data: NqswUpdate, on: date, actor_id: int | None = None
) -> tuple[Staff, Enrolment]:
    """Change the assessor, the AP or the working pattern of an NQSW on the programme."""
    staff, enrolment = get_nqsw(session=session, staff_id=staff_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for required in ("fte", "contracted_hours"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    if enrolment.status not in OPEN_STATUSES:
        raise Conflict(
            f"the enrolment is {enrolment.status}; only an active or paused one can change",
            field=["path", "staff_id"],
        )
    _check_people(session, nqsw_id=staff.id, assessor_id=changes.get("assessor_id"),
                  advanced_practitioner_id=changes.get("advanced_practitioner_id"))
    staff_changes = {k: v for k, v in changes.items()
                     if k in ("fte", "contracted_hours") and getattr(staff, k) != v}
    enrolment_changes = {k: v for k, v in changes.items()
                         if k in ("assessor_id", "advanced_practitioner_id")
                         and getattr(enrolment, k) != v}
    if staff_changes:
        before = apply_changes(staff, staff_changes)
        session.flush()
        audit.record(session, action="staff.update", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, nqsw_id=staff.id, before=before, after=staff_changes)
    if enrolment_changes:
        before = apply_changes(enrolment, enrolment_changes)
        session.flush()
        audit.record(session, action="enrolment.update", entity="enrolment",
                     entity_id=enrolment.id, actor_id=actor_id, nqsw_id=staff.id,
                     before=before, after=enrolment_changes)
    if staff_changes or enrolment_changes:
        workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                      reason="NQSW details changed")
    return staff, enrolment
