"""NQSWs and their enrolments: joining the programme, the people around them, progress.

Programme events that move the clock (pause, resume, withdraw, complete, sign-off)
live in `programme_events`; this module creates, corrects and reads enrolments.

Everything read here is read as of a date `on`: which enrolment is the NQSW's (the
latest one started by `on`, else the next to start) and its status on that day
(`status_on`: not started, active, paused, withdrawn or completed), so a pause or an
end recorded for a later day changes nothing before it. Lists filter on that same
status in SQL, so a page costs a fixed number of queries whatever its length.

Enrolling someone already on the staff, or correcting an enrolment, re-evaluates the NQSW
in the same transaction: a social worker who already holds cases becomes an NQSW with
caps, and any breach that opens is recorded with the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from app.auth.reach import Reach
from app.errors import Conflict, DomainError, NotFound
from app.models import Enrolment, Pause, Staff
from app.models.base import PROGRAMME_MONTHS, EnrolmentStatus, Programme, Role
from app.policy.policies import PolicySet
from app.policy.programme import (
    boundary_date,
    paused_days_before,
    programme_days,
    programme_months,
)
from app.policy.rules.supervision import review_due_date, review_months
from app.policy.snapshot import PauseSpan, Snapshot
from app.repositories import enrolment as enrolments_repo
from app.repositories import staff as staff_repo
from app.repositories.enrolment import (
    ENDED_STATUSES,
    OPEN_STATUSES,
    latest_enrolment,
    open_enrolment,
    pauses_for,
    sign_offs_of,
)
from app.schemas.enrolment import (
    EnrolmentCreate,
    EnrolmentStatusOn,
    EnrolmentUpdate,
    NqswCreate,
    NqswUpdate,
    ProgrammeProgress,
    ReviewPoint,
)
from app.schemas.staff import implausible_pattern
from app.services import audit, workload_events
from app.services.changes import apply_changes
from app.services.history import change_staff_terms
from app.services.org import require_open_team
from app.services.reconcile import Cause, Trigger
from app.services.snapshots import HOLIDAY_YEARS_AHEAD, bank_holidays_between
from app.services.staff import ensure_email_free

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
        assessor = staff_repo.person(session, assessor_id)
        if assessor is None:
            raise NotFound("staff member", assessor_id, field="assessor_id")
        if assessor.id == nqsw_id or assessor.role == Role.nqsw.value:
            raise DomainError("an NQSW cannot be an assessor", field="assessor_id")
    if advanced_practitioner_id is not None:
        ap = staff_repo.person(session, advanced_practitioner_id)
        if ap is None:
            raise NotFound("staff member", advanced_practitioner_id,
                           field="advanced_practitioner_id")
        if ap.role != Role.advanced_practitioner.value:
            raise DomainError(
                f"staff member {ap.id} is a {ap.role.replace('_', ' ')}, "
                "not an advanced practitioner",
                field="advanced_practitioner_id",
            )


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
                 actor_id=actor_id, nqsw_id=staff_id, after=enrolment, effective_on=start_date)
    return enrolment


def _reconcile(
    session: Session, staff_id: int, on: date, actor_id: int | None, reason: str,
    policies: PolicySet,
) -> None:
    """Re-evaluate the NQSW as of `on` after a change to their enrolment (see module)."""
    session.flush()
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                  policies=policies, trigger=Trigger(reason, Cause.changed))


def create_nqsw(
    *, session: Session, data: NqswCreate, on: date, actor_id: int | None = None
) -> tuple[Staff, Enrolment]:
    """The staff record and the enrolment, in the request's one transaction; `on` is the
    day the team must still be open (with the day they join, whichever is later)."""
    joins = data.employment_start_date or data.start_date
    require_open_team(session, data.team_id, on=max(joins, on), field="team_id")
    ensure_email_free(session, data.email)
    _check_people(session, nqsw_id=None, assessor_id=data.assessor_id,
                  advanced_practitioner_id=data.advanced_practitioner_id)
    # NqswCreate completes the working pattern, so both figures are known by now.
    assert data.contracted_hours is not None and data.fte is not None
    staff = Staff(
        name=data.name,
        email=data.email,
        role=Role.nqsw.value,
        team_id=data.team_id,
        contracted_hours=data.contracted_hours,
        fte=data.fte,
        start_date=joins,
        experienced=False,
    )
    session.add(staff)
    session.flush()
    assert staff.id is not None
    audit.record(session, action="staff.create", entity="staff", entity_id=staff.id,
                 actor_id=actor_id, nqsw_id=staff.id, after=staff, effective_on=joins)
    enrolment = _new_enrolment(
        session, staff_id=staff.id, programme=data.programme, start_date=data.start_date,
        assessor_id=data.assessor_id, advanced_practitioner_id=data.advanced_practitioner_id,
        actor_id=actor_id,
    )
    # No re-evaluation here: a new staff record holds no cases yet, and the time-based
    # promises (supervision, protected time) are the daily sweep's to find.
    return staff, enrolment


def enrol(
    *, session: Session, data: EnrolmentCreate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> Enrolment:
    """Enrol someone already on the staff; they become an NQSW for the programme's length.

    If they already hold cases, the caps apply from the programme's start: the NQSW is
    re-evaluated as of `on` and any breach opens with the enrolment.
    """
    staff = staff_repo.person(session, data.staff_id)
    if staff is None:
        raise NotFound("staff member", data.staff_id, field="staff_id")
    _check_start_within_employment(staff, data.start_date)
    _ensure_not_enrolled(session, staff.id)  # type: ignore[arg-type]
    _check_not_overlapping(session, staff.id, data.start_date,  # type: ignore[arg-type]
                           exclude_id=None)
    _check_people(session, nqsw_id=staff.id, assessor_id=data.assessor_id,
                  advanced_practitioner_id=data.advanced_practitioner_id)
    if staff.role != Role.nqsw.value:
        before = apply_changes(staff, {"role": Role.nqsw.value})
        session.flush()
        audit.record(session, action="staff.update", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, nqsw_id=staff.id, before=before,
                     after={"role": Role.nqsw.value}, effective_on=data.start_date)
    enrolment = _new_enrolment(
        session, staff_id=staff.id, programme=data.programme,  # type: ignore[arg-type]
        start_date=data.start_date, assessor_id=data.assessor_id,
        advanced_practitioner_id=data.advanced_practitioner_id, actor_id=actor_id,
    )
    _reconcile(session, staff.id, on, actor_id,  # type: ignore[arg-type]
               "enrolled on the programme", policies)
    return enrolment


def _check_start_within_employment(staff: Staff, start: date, field: str = "start_date") -> None:
    """A programme runs while the NQSW is employed: not before they join, nor once gone."""
    if start < staff.start_date:
        raise DomainError(
            f"the programme cannot start on {start}, before staff member {staff.id} "
            f"joined on {staff.start_date}", field=field,
        )
    if staff.leave_date is not None and staff.leave_date <= start:
        raise DomainError(f"staff member {staff.id} left on {staff.leave_date}", field=field)


def _check_not_overlapping(
    session: Session, staff_id: int, start: date, *, exclude_id: int | None,
    field: str = "start_date",
) -> None:
    """Enrolments follow one another: a start inside an earlier one's span is refused."""
    for other in enrolments_repo.enrolments_of(session, staff_id, exclude_id=exclude_id):
        ends = other.ended_on
        if ends is None and other.status in ENDED_STATUSES:
            continue  # ended on a day nobody recorded: nothing to overlap with
        if other.start_date <= start and (ends is None or start < ends):
            raise DomainError(
                f"enrolment {other.id} runs from {other.start_date}"
                + (f" to {ends}" if ends else "") + f"; {start} falls inside it",
                field=field,
            )


def get_nqsw(*, session: Session, staff_id: int) -> tuple[Staff, Enrolment]:
    """The NQSW and the enrolment programme events act on: the open one, else the latest."""
    staff = staff_repo.person(session, staff_id)
    enrolment = latest_enrolment(session, staff_id) if staff is not None else None
    if staff is None or enrolment is None:
        raise NotFound("NQSW", staff_id)
    return staff, enrolment


def enrolment_on(enrolments: Sequence[Enrolment], on: date) -> Enrolment | None:
    """The enrolment that is someone's on `on`: the latest started by then, else the next
    to start (shown as not started)."""
    started = [e for e in enrolments if e.start_date <= on]
    if started:
        return max(started, key=lambda e: (e.start_date, e.id or 0))
    return min(enrolments, key=lambda e: (e.start_date, e.id or 0), default=None)


def get_nqsw_on(*, session: Session, staff_id: int, on: date) -> tuple[Staff, Enrolment]:
    """The NQSW and their enrolment as of `on` (see `enrolment_on`); 404 if never enrolled."""
    staff = staff_repo.person(session, staff_id)
    if staff is None:
        raise NotFound("NQSW", staff_id)
    enrolments = enrolments_repo.enrolments_of(session, staff_id)
    enrolment = enrolment_on(enrolments, on)
    if enrolment is None:
        raise NotFound("NQSW", staff_id)
    return staff, enrolment


# --- status as of a date ----------------------------------------------------------------


def _ended(enrolment: Enrolment, on: date) -> bool:
    """Off the programme on `on`: from its end date, or ended on a day nobody recorded."""
    if enrolment.ended_on is not None:
        return enrolment.ended_on <= on
    return enrolment.status in ENDED_STATUSES


def status_on(enrolment: Enrolment, pauses: Sequence[Pause], on: date) -> str:
    """The enrolment's status on `on`, from its dates (app.schemas.enrolment explains)."""
    if on < enrolment.start_date:
        return EnrolmentStatusOn.not_started.value
    if _ended(enrolment, on):
        return enrolment.status
    if any(p.start_date <= on and (p.end_date is None or on <= p.end_date) for p in pauses):
        return EnrolmentStatusOn.paused.value
    return EnrolmentStatusOn.active.value


def list_nqsws(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    team_id: int | None = None,
    service_area_id: int | None = None,
    programme: Programme | None = None,
    status: EnrolmentStatusOn | None = None,
    include_left: bool = False,
    scope: Reach | None = None,
) -> tuple[list[tuple[Staff, Enrolment]], int]:
    """One row per NQSW (their enrolment as of `on`), by name.

    By default those whose programme had started by `on` and who had not left the
    organisation; `status` filters on the status on `on` (`not_started` lists those
    starting later, so coordinators can prepare for them); `include_left` adds leavers.
    """
    return enrolments_repo.nqsws_page(
        session, on=on, limit=limit, offset=offset, team_id=team_id,
        service_area_id=service_area_id,
        programme=programme.value if programme is not None else None, status=status,
        include_left=include_left, scope=scope,
    )


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
        # Reviews due on a weekend or bank holiday fall due the next working day.
        bank_holidays=bank_holidays_between(
            enrolment.start_date.year,
            max(as_of.year, enrolment.start_date.year + 2) + HOLIDAY_YEARS_AHEAD),
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
            ReviewPoint(month=m, due_on=review_due_date(snapshot, m))
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
    return enrolments_repo.enrolment_or_404(session, enrolment_id)


def list_enrolments(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    staff_id: int | None = None,
    programme: Programme | None = None,
    status: EnrolmentStatusOn | None = None,
    scope: Reach | None = None,
) -> tuple[list[Enrolment], int]:
    """Enrolments, oldest first: a withdrawal and a re-enrolment both stay.

    As everywhere, `on` decides: without `status`, those started by `on` (whatever their
    status then); with it, those with that status on `on` (`not_started` for later ones).
    """
    return enrolments_repo.enrolments_page(
        session, on=on, limit=limit, offset=offset, staff_id=staff_id,
        programme=programme.value if programme is not None else None, status=status,
        scope=scope,
    )


def enrolments_of(
    *, session: Session, staff_id: int, limit: int, offset: int
) -> tuple[list[Enrolment], int]:
    """Every enrolment of one NQSW, oldest first, including any that start later."""
    staff_repo.person_or_404(session, staff_id)
    return enrolments_repo.person_enrolments_page(session, staff_id, limit=limit, offset=offset)


def statuses_on(
    session: Session, enrolments: Sequence[Enrolment], on: date
) -> dict[int, str]:
    """Each enrolment's status on `on`, with one query for their pauses."""
    pauses = pauses_for(session, (e.id for e in enrolments if e.id is not None))
    return {e.id: status_on(e, pauses.get(e.id, []), on) for e in enrolments if e.id is not None}


# --- corrections --------------------------------------------------------------------------


def _check_new_start(session: Session, staff: Staff, enrolment: Enrolment, start: date) -> None:
    """A corrected start date must still come before everything recorded on the programme."""
    _check_start_within_employment(staff, start)
    if enrolment.ended_on is not None and start >= enrolment.ended_on:
        raise DomainError(f"the enrolment ended on {enrolment.ended_on}; it must start "
                          "before that", field="start_date")
    assert enrolment.id is not None
    first_pause = min((p.start_date for p in pauses_for(session, [enrolment.id])[enrolment.id]),
                      default=None)
    if first_pause is not None and start > first_pause:
        raise DomainError(f"a pause starts on {first_pause}; the programme must start by then",
                          field="start_date")
    first_sign_off = min((s.signed_on for s in sign_offs_of(session, enrolment.id)),
                         default=None)
    if first_sign_off is not None and start > first_sign_off:
        raise DomainError(f"a sign-off was given on {first_sign_off}; the programme must "
                          "start by then", field="start_date")
    _check_not_overlapping(session, staff.id, start, exclude_id=enrolment.id)  # type: ignore[arg-type]


def _enrolment_changes(
    session: Session, staff: Staff, enrolment: Enrolment, changes: dict[str, Any]
) -> dict[str, Any]:
    """The checked changes to the enrolment's own fields that differ from what is stored."""
    for required in ("programme", "start_date"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    _check_people(session, nqsw_id=staff.id, assessor_id=changes.get("assessor_id"),
                  advanced_practitioner_id=changes.get("advanced_practitioner_id"))
    if isinstance(changes.get("programme"), Programme):
        changes["programme"] = changes["programme"].value
    if changes.get("start_date") not in (None, enrolment.start_date):
        _check_new_start(session, staff, enrolment, changes["start_date"])
    fields = ("programme", "start_date", "assessor_id", "advanced_practitioner_id")
    return {k: v for k, v in changes.items() if k in fields and getattr(enrolment, k) != v}


def _apply_to_enrolment(
    session: Session, enrolment: Enrolment, changes: dict[str, Any], *, on: date,
    actor_id: int | None,
) -> None:
    before = apply_changes(enrolment, changes)
    enrolment.lock_version += 1  # a change to the NQSW's load: serialise with allocations
    session.flush()
    audit.record(session, action="enrolment.update", entity="enrolment",
                 entity_id=enrolment.id, actor_id=actor_id, nqsw_id=enrolment.staff_id,
                 before=before, after=changes, effective_on=on)


def update_enrolment(
    *, session: Session, enrolment_id: int, data: EnrolmentUpdate, on: date,
    policies: PolicySet, actor_id: int | None = None,
) -> Enrolment:
    """Correct an enrolment (programme, start date, assessor, AP) and re-evaluate from `on`."""
    enrolment = enrolments_repo.enrolment_or_404(session, enrolment_id)
    staff = staff_repo.person(session, enrolment.staff_id)
    assert staff is not None
    changes = _enrolment_changes(session, staff, enrolment,
                                 data.model_dump(exclude_unset=True, exclude={"on"}))
    if changes:
        _apply_to_enrolment(session, enrolment, changes, on=on, actor_id=actor_id)
        _reconcile(session, staff.id, on, actor_id,  # type: ignore[arg-type]
                   "enrolment corrected", policies)
    return enrolment


def _pattern_changes(
    session: Session, staff: Staff, changes: dict[str, Any], on: date
) -> dict[str, Any]:
    """The working-pattern changes that differ from the terms in force on `on`, checked
    against the FTE then in force when only hours are given (an FTE alone brings its
    hours: see app.schemas.staff)."""
    for required in ("fte", "contracted_hours"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    terms = staff_repo.terms_on(session, [staff], on)[staff.id]  # type: ignore[index]
    if "contracted_hours" in changes and "fte" not in changes:
        problem = implausible_pattern(terms.fte, changes["contracted_hours"])
        if problem:
            raise DomainError(problem, field="contracted_hours")
    return {k: v for k, v in changes.items()
            if k in ("fte", "contracted_hours") and getattr(terms, k) != v}


def update_nqsw(
    *, session: Session, staff_id: int, data: NqswUpdate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> tuple[Staff, Enrolment]:
    """Change the assessor, the AP, the working pattern or correct the programme or its
    start, for an NQSW whose enrolment is open; re-evaluated from `on`."""
    staff, enrolment = get_nqsw(session=session, staff_id=staff_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"on"})
    if enrolment.status not in OPEN_STATUSES:
        raise Conflict(
            f"the enrolment is {enrolment.status}; only an active or paused one can change",
            field=["path", "staff_id"],
        )
    staff_changes = _pattern_changes(session, staff, changes, on)
    enrolment_changes = _enrolment_changes(session, staff, enrolment, changes)
    if staff_changes:
        # FTE and hours change from `on`; the earlier terms are kept (app.services.history).
        before = change_staff_terms(session, staff, staff_changes, on)
        session.flush()
        audit.record(session, action="staff.update", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, nqsw_id=staff.id, before=before, after=staff_changes,
                     effective_on=on)
    if enrolment_changes:
        _apply_to_enrolment(session, enrolment, enrolment_changes, on=on, actor_id=actor_id)
    if staff_changes or enrolment_changes:
        _reconcile(session, staff_id, on, actor_id, "NQSW details changed", policies)
    return staff, enrolment
