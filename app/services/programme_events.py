"""Programme events that change the clock or the rules: pause, resume, withdraw, complete,
and the joint sign-off (recorded by one manager, approved by the other, revocable).

Each event is audited, updates the enrolment's status and re-evaluates the NQSW in the
same transaction, because a deferral moves every stage boundary and a sign-off lifts
rules; a finding that changes with the event must change with it, not at the next sweep.

Dates: a pause covers its first and last days (`Pause.end_date` is the last paused day);
"resume on D" means D is the first day back, so the pause ends on D - 1.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.auth.principal import reach_for
from app.auth.reach import reaches
from app.auth.subjects import staff_subject
from app.errors import Conflict, DomainError, NotFound
from app.models import Enrolment, Pause, SignOff, Staff
from app.models.base import PROGRAMME_MONTHS, EnrolmentStatus, Programme, Role, utcnow
from app.models.diary import ProtectedTime, ProtectedTimeStatus
from app.policy.programme import boundary_for
from app.repositories import audit as audit_rows
from app.repositories import diary as diary_rows
from app.repositories import enrolment as enrolments_repo
from app.repositories import staff as staff_repo
from app.repositories.enrolment import OPEN_STATUSES, pauses_of, sign_offs_of
from app.schemas.programme import (
    CompleteRequest,
    PauseRequest,
    ResumeRequest,
    SignOffPublic,
    SignOffRequest,
    SignOffRevokeRequest,
    SignOffStatus,
    WithdrawRequest,
)
from app.services import audit, workload_events
from app.services.enrolments import get_nqsw, pause_spans
from app.services.reconcile import Cause, Trigger
from app.wording import a_role

if TYPE_CHECKING:
    from app.policy.registry import PolicySet

ENDED = (EnrolmentStatus.withdrawn.value, EnrolmentStatus.completed.value)


def nqsw_enrolment(session: Session, staff_id: int) -> tuple[Staff, Enrolment]:
    """The NQSW and the enrolment their diary belongs to (open, else the latest); 404 if none."""
    return get_nqsw(session=session, staff_id=staff_id)


def require_open(enrolment: Enrolment, *, field: str | list[str] = "on") -> None:
    """Changes need a programme that is still running."""
    if enrolment.status in ENDED:
        ended = f" on {enrolment.ended_on}" if enrolment.ended_on else ""
        raise DomainError(f"the programme was {enrolment.status}{ended}", field=field)


def open_pause(pauses: list[Pause]) -> Pause | None:
    return next((p for p in pauses if p.end_date is None), None)


def nqsw_changed(
    session: Session, staff_id: int, on: date, actor_id: int | None, trigger: Trigger, *,
    policies: PolicySet,
) -> None:
    """Flush, then re-evaluate the NQSW against `policies`: a programme, diary or
    supervision change can open or resolve breaches (`trigger` names the change and the
    cause it records).
    """
    session.flush()
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                  policies=policies, trigger=trigger)


def _set_status(enrolment: Enrolment, status: str) -> dict[str, Any]:
    before = {"status": enrolment.status}
    enrolment.status = status
    enrolment.lock_version += 1
    return before


def displace_bookings(
    session: Session, *, enrolment: Enrolment, pause: Pause, on: date, actor_id: int | None
) -> list[ProtectedTime]:
    """Booked protected time inside the pause becomes `displaced`, to be rebooked later.

    Nothing is dropped: each displaced booking keeps its day, hours and purpose, names
    the pause that displaced it, and counts as time to rebook once the NQSW is back.
    """
    displaced = diary_rows.booked_from(session, enrolment.id, pause.start_date,
                                       last=pause.end_date)
    for entry in displaced:
        entry.status = ProtectedTimeStatus.displaced.value
        entry.displaced_by_pause_id = pause.id
        entry.cancelled_on = on
        audit.record(session, action="protected_time.displace", entity="protected_time",
                     entity_id=entry.id, actor_id=actor_id, nqsw_id=enrolment.staff_id,
                     before={"status": "booked"},
                     after={"status": "displaced", "pause_id": pause.id},
                     effective_on=pause.start_date)
    return displaced


def pause(
    session: Session, *, staff_id: int, data: PauseRequest, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> tuple[Enrolment, Pause, list[ProtectedTime]]:
    """Stop the programme clock from `data.start_date` (health, maternity, other)."""
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="start_date")
    assert enrolment.id is not None
    pauses = pauses_of(session, enrolment.id)
    current = open_pause(pauses)
    if current is not None:
        raise Conflict(f"the programme is already paused from {current.start_date}",
                       field="start_date")
    if data.start_date < enrolment.start_date:
        raise DomainError(
            f"a pause cannot start before the programme starts on {enrolment.start_date}",
            field="start_date",
        )
    for earlier in pauses:
        if earlier.end_date is not None and data.start_date <= earlier.end_date:
            raise DomainError(
                f"overlaps the pause from {earlier.start_date} to {earlier.end_date}",
                field="start_date",
            )
    months = PROGRAMME_MONTHS.get(Programme(enrolment.programme), 12)
    end = boundary_for(enrolment.start_date, pause_spans(pauses), months)
    if end is not None and data.start_date >= end:
        raise DomainError(
            f"the programme's last day is {end - timedelta(days=1)}: a pause starts on or "
            "before it", field="start_date",
        )
    record = Pause(enrolment_id=enrolment.id, start_date=data.start_date, end_date=None,
                   reason=data.reason.value, note=data.note)
    session.add(record)
    before = _set_status(enrolment, EnrolmentStatus.paused.value)
    session.flush()
    displaced = displace_bookings(session, enrolment=enrolment, pause=record, on=on,
                                  actor_id=actor_id)
    audit.record(session, action="enrolment.pause", entity="enrolment", entity_id=enrolment.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={"status": enrolment.status, "pause": record,
                        "displaced": [e.id for e in displaced]},
                 effective_on=data.start_date)
    nqsw_changed(session, staff_id, on, actor_id,
                 Trigger(f"programme paused ({data.reason.value})", Cause.paused),
                 policies=policies)
    return enrolment, record, displaced


def restore_bookings(
    session: Session, *, enrolment: Enrolment, pause: Pause, actor_id: int | None
) -> list[ProtectedTime]:
    """Bookings an open pause displaced but which fall after its end are booked again.

    While a pause is open nobody knows which days it will cover, so every later booking
    was displaced; once the return date is known, those after it stand as they were,
    unless the NQSW has already rebooked them or booked that day for something else.
    """
    assert pause.end_date is not None
    candidates = diary_rows.displaced_by_after(session, pause.id, pause.end_date)
    if not candidates:
        return []
    replaced = set(diary_rows.rebookings_of(session, [c.id for c in candidates if c.id]))
    taken_days = diary_rows.days_held(session, enrolment.id, [c.day for c in candidates])
    restored = []
    for entry in candidates:
        if entry.id in replaced or entry.day in taken_days:
            continue
        entry.status = ProtectedTimeStatus.booked.value
        entry.displaced_by_pause_id = None
        entry.cancelled_on = None
        taken_days.add(entry.day)
        restored.append(entry)
        audit.record(session, action="protected_time.restore", entity="protected_time",
                     entity_id=entry.id, actor_id=actor_id, nqsw_id=enrolment.staff_id,
                     before={"status": "displaced", "pause_id": pause.id},
                     after={"status": "booked"},
                     effective_on=pause.end_date + timedelta(days=1))
    return restored


def resume(
    session: Session, *, staff_id: int, data: ResumeRequest, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> tuple[Enrolment, Pause, list[ProtectedTime]]:
    """Restart the clock: `data.resumed_on` is the first day back, so the pause ends the
    day before. `on` is the request's date, as of which the NQSW is re-evaluated."""
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="resumed_on")
    assert enrolment.id is not None
    current = open_pause(pauses_of(session, enrolment.id))
    if current is None:
        raise Conflict("the programme is not paused", field="resumed_on")
    if data.resumed_on <= current.start_date:
        raise DomainError(
            f"the first day back must be after the pause started on {current.start_date}",
            field="resumed_on",
        )
    before_pause = {"end_date": current.end_date}
    current.end_date = data.resumed_on - timedelta(days=1)
    before = _set_status(enrolment, EnrolmentStatus.active.value)
    session.flush()
    restored = restore_bookings(session, enrolment=enrolment, pause=current, actor_id=actor_id)
    audit.record(session, action="enrolment.resume", entity="enrolment",
                 entity_id=enrolment.id, actor_id=actor_id, nqsw_id=staff_id,
                 before={**before, "pause": before_pause},
                 after={"status": enrolment.status, "pause_id": current.id,
                        "pause_end_date": current.end_date,
                        "restored": [e.id for e in restored]},
                 effective_on=data.resumed_on)
    nqsw_changed(session, staff_id, on, actor_id,
                 Trigger("programme resumed", Cause.changed),
                 policies=policies)
    return enrolment, current, restored


def _end(
    session: Session, *, staff_id: int, status: str, ended_on: date, outcome: str,
    note: str | None, on: date, actor_id: int | None, action: str, policies: PolicySet,
) -> tuple[Enrolment, list[ProtectedTime]]:
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="ended_on")
    if ended_on < enrolment.start_date:
        raise DomainError(f"the programme started on {enrolment.start_date}",
                          field="ended_on")
    before = {"status": enrolment.status, "outcome": enrolment.outcome,
              "ended_on": enrolment.ended_on}
    _set_status(enrolment, status)
    enrolment.outcome = outcome
    enrolment.ended_on = ended_on
    # `ended_on` is the last day on the programme: a booking on that day still stands;
    # protected time booked after it will not happen, so it is cancelled with the reason
    # on the record, never deleted.
    later = diary_rows.booked_from(session, enrolment.id, ended_on + timedelta(days=1))
    for entry in later:
        entry.status = ProtectedTimeStatus.cancelled.value
        entry.cancelled_on = ended_on
        entry.cancelled_by_id = actor_id
        entry.cancel_reason = f"the programme was {status} on {ended_on}"
    session.flush()
    audit.record(session, action=action, entity="enrolment", entity_id=enrolment.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={"status": status, "outcome": outcome, "ended_on": ended_on,
                        "note": note, "cancelled_protected_time": [e.id for e in later]},
                 effective_on=ended_on)
    nqsw_changed(session, staff_id, on, actor_id,
                 Trigger(f"programme {status}", Cause.programme_ended), policies=policies)
    return enrolment, later


def withdraw(
    session: Session, *, staff_id: int, data: WithdrawRequest, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> tuple[Enrolment, list[ProtectedTime]]:
    """Leave the programme (health, maternity, leaving the employer, other)."""
    return _end(session, staff_id=staff_id, status=EnrolmentStatus.withdrawn.value,
                ended_on=data.ended_on or on, outcome=f"withdrawn: {data.reason.value}",
                note=data.note, on=on, actor_id=actor_id, action="enrolment.withdraw",
                policies=policies)


def complete(
    session: Session, *, staff_id: int, data: CompleteRequest, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> tuple[Enrolment, list[ProtectedTime]]:
    """Finish the programme with its outcome."""
    return _end(session, staff_id=staff_id, status=EnrolmentStatus.completed.value,
                ended_on=data.ended_on or on, outcome=data.outcome.value, note=data.note,
                on=on, actor_id=actor_id, action="enrolment.complete", policies=policies)


# ---- the joint sign-off ----------------------------------------------------------------
#
# Readiness (e.g. for child protection work) is a decision of two people: the NQSW's team
# manager and the senior manager of their service area. One of them records it, which is
# their approval; the other approves it; only then is it in force, from `signed_on`, and
# the rules it lifts stop applying. Either manager may revoke it, with a reason; the
# rules then apply again from the day given.

TEAM_MANAGER, SENIOR_MANAGER = Role.team_manager.value, Role.senior_manager.value
SIDES = {TEAM_MANAGER: "team_manager_id", SENIOR_MANAGER: "senior_manager_id"}
SIDE_WORDS = {TEAM_MANAGER: "the team manager", SENIOR_MANAGER: "the senior manager"}


class NotYourDecision(DomainError):
    """The caller may not take this step of a joint decision (403, naming the field)."""

    status_code = 403
    error_type = "forbidden"


def _words(kind: str) -> str:
    return kind.replace("_", " ")


def _named_manager(
    session: Session, staff_id: int, role: str, nqsw: Staff, on: date, field: Any
) -> Staff:
    """The manager named for one side of the decision, checked as the access rules see
    them: of that role, still in post, and reaching this NQSW (the team manager through
    the NQSW's team, the senior manager through their service area)."""
    person = staff_repo.person(session, staff_id)
    if person is None:
        raise NotFound("staff member", staff_id, field=field)
    if person.role != role:
        raise DomainError(f"staff member {staff_id} is {a_role(person.role)}, not {a_role(role)}",
                          field=field)
    if person.leave_date is not None and person.leave_date < on:
        raise DomainError(f"{person.name} left on {person.leave_date}", field=field)
    subject = staff_subject(session, nqsw.id or 0, on)
    if subject is None or not reaches(reach_for(session, person.id, role, on), subject):
        place = "team" if role == TEAM_MANAGER else "service area"
        raise DomainError(
            f"{person.name} is not {SIDE_WORDS[role]} of {nqsw.name}'s {place}", field=field
        )
    return person


def approval_state(record: SignOff) -> SignOffStatus:
    if record.revoked_on is not None:
        return SignOffStatus.revoked
    if record.team_manager_approved_at is None:
        return SignOffStatus.awaiting_team_manager
    if record.senior_manager_approved_at is None:
        return SignOffStatus.awaiting_senior_manager
    return SignOffStatus.approved


def is_approved(record: SignOff) -> bool:
    """Both managers have approved: the sign-off counts from `signed_on` (until revoked)."""
    return (record.team_manager_approved_at is not None
            and record.senior_manager_approved_at is not None)


def awaiting_side(record: SignOff) -> str | None:
    """Whose approval a live sign-off still needs (a role), or None."""
    state = approval_state(record)
    if state is SignOffStatus.awaiting_team_manager:
        return TEAM_MANAGER
    if state is SignOffStatus.awaiting_senior_manager:
        return SENIOR_MANAGER
    return None


def awaiting_person(record: SignOff) -> int | None:
    """The staff id of the manager a live sign-off is waiting for, or None."""
    side = awaiting_side(record)
    if side is None:
        return None
    return record.team_manager_id if side == TEAM_MANAGER else record.senior_manager_id


def describe_sign_off(record: SignOff, revoke_reason: str | None = None) -> SignOffPublic:
    side = awaiting_side(record)
    return SignOffPublic(
        id=record.id or 0, kind=record.kind, signed_on=record.signed_on,
        revoked_on=record.revoked_on, team_manager_id=record.team_manager_id,
        senior_manager_id=record.senior_manager_id,
        team_manager_approved_at=record.team_manager_approved_at,
        senior_manager_approved_at=record.senior_manager_approved_at,
        recorded_by_id=record.recorded_by_id, note=record.note,
        status=approval_state(record),
        awaiting=f"awaiting {SIDE_WORDS[side]}'s approval" if side else None,
        in_force_from=record.signed_on if is_approved(record) else None,
        revoke_reason=revoke_reason, created_at=record.created_at,
    )


def revoke_reasons(session: Session, sign_off_ids: list[int]) -> dict[int, str]:
    """Why each revoked sign-off was revoked (kept on its audit event)."""
    if not sign_off_ids:
        return {}
    rows = audit_rows.effects_of(session, action="sign_off.revoke", entity="sign_off",
                                 entity_ids=[str(i) for i in sign_off_ids])
    found: dict[int, str] = {}
    for entity_id, _, after in rows:
        if entity_id is not None and isinstance(after, dict) and after.get("reason"):
            found[int(entity_id)] = str(after["reason"])
    return found


def sign_off_views(session: Session, enrolment_id: int) -> list[SignOffPublic]:
    """Every sign-off of the enrolment, with both approvals and where each stands."""
    records = sign_offs_of(session, enrolment_id)
    reasons = revoke_reasons(session, [r.id for r in records
                                       if r.id is not None and r.revoked_on is not None])
    return [describe_sign_off(r, reasons.get(r.id or 0)) for r in records]


def _audit_view(record: SignOff) -> dict[str, Any]:
    return {"kind": record.kind, "signed_on": record.signed_on,
            "team_manager_id": record.team_manager_id,
            "senior_manager_id": record.senior_manager_id,
            "team_manager_approved_at": record.team_manager_approved_at,
            "senior_manager_approved_at": record.senior_manager_approved_at,
            "revoked_on": record.revoked_on, "status": approval_state(record).value}


def _caller_side(record: SignOff | SignOffRequest, actor_id: int | None) -> str | None:
    if actor_id is not None and actor_id == record.team_manager_id:
        return TEAM_MANAGER
    if actor_id is not None and actor_id == record.senior_manager_id:
        return SENIOR_MANAGER
    return None


def _approve_side(record: SignOff, side: str) -> None:
    if side == TEAM_MANAGER:
        record.team_manager_approved_at = utcnow()
    else:
        record.senior_manager_approved_at = utcnow()


def sign_off(
    session: Session, *, staff_id: int, data: SignOffRequest, on: date, policies: PolicySet,
    actor_id: int | None = None, actor_role: str | None = None,
) -> SignOff:
    """Record a sign-off with the caller's approval; it waits for the other manager's.

    The caller must be one of the two managers named (403 otherwise, naming their side's
    field). Nothing changes for the NQSW until the other manager approves. The kinds that
    may be recorded are the ones `policies` know (policies/sign-offs.toml).
    """
    kinds = policies.sign_offs
    if data.kind not in kinds:
        raise DomainError(f"unknown sign-off kind {data.kind!r} (known: "
                          f"{', '.join(sorted(kinds))}; an organisation adds its own in "
                          "policies/sign-offs.toml)", field="kind")
    nqsw, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="signed_on")
    _named_manager(session, data.team_manager_id, TEAM_MANAGER, nqsw, on, "team_manager_id")
    _named_manager(session, data.senior_manager_id, SENIOR_MANAGER, nqsw, on,
                   "senior_manager_id")
    side = _caller_side(data, actor_id)
    if side is None:
        field = SIDES.get(actor_role or "", None)
        raise NotYourDecision(
            "a sign-off is recorded by one of the two managers it names: name yourself as "
            + ("the team manager" if actor_role == TEAM_MANAGER else
               "the senior manager" if actor_role == SENIOR_MANAGER else "one of them"),
            field=field,
        )
    signed_on = data.signed_on or on
    if signed_on < enrolment.start_date:
        raise DomainError(f"the programme started on {enrolment.start_date}", field="signed_on")
    assert enrolment.id is not None
    existing = enrolments_repo.live_sign_off(session, enrolment.id, data.kind)
    if existing is not None:
        state = ("signed off" if is_approved(existing)
                 else f"a sign-off {awaiting_words(existing)} is already recorded")
        raise Conflict(f"{state} for {_words(data.kind)} work from {existing.signed_on}",
                       field="kind")
    assert enrolment.id is not None
    record = SignOff(enrolment_id=enrolment.id, kind=data.kind, signed_on=signed_on,
                     team_manager_id=data.team_manager_id,
                     senior_manager_id=data.senior_manager_id, note=data.note,
                     recorded_by_id=actor_id)
    _approve_side(record, side)
    session.add(record)
    session.flush()
    audit.record(session, action="sign_off.record", entity="sign_off", entity_id=record.id,
                 actor_id=actor_id, nqsw_id=staff_id, after={**_audit_view(record),
                                                             "note": data.note},
                 effective_on=signed_on)
    return record


def awaiting_words(record: SignOff) -> str:
    side = awaiting_side(record)
    return f"awaiting {SIDE_WORDS[side]}'s approval" if side else "approved"


def _sign_off_of(session: Session, staff_id: int, sign_off_id: int) -> tuple[SignOff, Enrolment]:
    """The NQSW's sign-off named in the path (another NQSW's is 'not found')."""
    record = enrolments_repo.sign_off(session, sign_off_id)
    enrolment = (enrolments_repo.enrolment(session, record.enrolment_id)
                 if record is not None else None)
    if record is None or enrolment is None or enrolment.staff_id != staff_id:
        raise NotFound("sign-off", sign_off_id, field=["path", "sign_off_id"])
    return record, enrolment


def approve_sign_off(
    session: Session, *, staff_id: int, sign_off_id: int, on: date, policies: PolicySet,
    actor_id: int | None = None, note: str | None = None,
) -> SignOff:
    """The other named manager's approval: the sign-off is then in force from `signed_on`
    and the NQSW is re-evaluated at once."""
    nqsw, _ = nqsw_enrolment(session, staff_id)
    record, enrolment = _sign_off_of(session, staff_id, sign_off_id)
    field = ["path", "sign_off_id"]
    if record.revoked_on is not None:
        raise Conflict(f"the sign-off was revoked from {record.revoked_on}", field=field)
    require_open(enrolment, field=field)
    side = _caller_side(record, actor_id)
    if side is None:
        raise NotYourDecision(
            "only the two managers the sign-off names may approve it", field=field
        )
    if awaiting_side(record) is None:
        raise Conflict("the sign-off is already approved by both managers", field=field)
    approved_already = (record.team_manager_approved_at if side == TEAM_MANAGER
                        else record.senior_manager_approved_at)
    if approved_already is not None:
        # The caller's approval came with their own request: approving it again would make
        # a joint decision one person's. This is what a sign-off is, not a setting.
        raise NotYourDecision(
            "you recorded this sign-off, so the other manager it names must approve it",
            field=field,
        )
    # The approver is checked as they stand today: still in post and still this NQSW's.
    _named_manager(session, actor_id or 0, side, nqsw, on, field)
    before = _audit_view(record)
    _approve_side(record, side)
    enrolment.lock_version += 1
    session.flush()
    audit.record(session, action="sign_off.approve", entity="sign_off", entity_id=record.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={**_audit_view(record), "note": note}, effective_on=record.signed_on)
    nqsw_changed(session, staff_id, on, actor_id,
                 Trigger(f"signed off for {_words(record.kind)}", Cause.sign_off),
                 policies=policies)
    return record


def revoke_sign_off(
    session: Session, *, staff_id: int, sign_off_id: int, data: SignOffRevokeRequest,
    on: date, policies: PolicySet, actor_id: int | None = None,
) -> SignOff:
    """Withdraw a sign-off (or a proposal still awaiting approval), with the reason.

    An approved sign-off stops counting from `data.revoked_on` (default `on`, the
    request's date; not before `signed_on`; revoking on `signed_on` means it never
    applied), and the NQSW is re-evaluated at once.
    """
    record, enrolment = _sign_off_of(session, staff_id, sign_off_id)
    if record.revoked_on is not None:
        raise Conflict(f"the sign-off was already revoked from {record.revoked_on}",
                       field=["path", "sign_off_id"])
    require_open(enrolment, field="revoked_on")
    revoked_on = data.revoked_on or on
    in_force = is_approved(record)
    if in_force and revoked_on < record.signed_on:
        raise DomainError(
            f"the sign-off took effect on {record.signed_on}: revoke it from that day or later",
            field="revoked_on",
        )
    before = _audit_view(record)
    record.revoked_on = revoked_on
    if in_force:
        enrolment.lock_version += 1
    session.flush()
    audit.record(session, action="sign_off.revoke", entity="sign_off", entity_id=record.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={**_audit_view(record), "reason": data.reason},
                 effective_on=revoked_on)
    if in_force:
        nqsw_changed(session, staff_id, on, actor_id,
                     Trigger(f"sign-off for {_words(record.kind)} revoked", Cause.sign_off),
                     policies=policies)
    return record


def is_open(enrolment: Enrolment) -> bool:
    return enrolment.status in OPEN_STATUSES
