"""Programme events that change the clock or the rules: pause, resume, withdraw, complete, sign-off.

Each event is audited, updates the enrolment's status and re-evaluates the NQSW in the
same transaction, because a deferral moves every stage boundary and a sign-off lifts
rules; a finding that changes with the event must change with it, not at the next sweep.

Dates: a pause covers its first and last days (`Pause.end_date` is the last paused day);
"resume on D" means D is the first day back, so the pause ends on D - 1.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.errors import Conflict, DomainError
from app.models import Enrolment, Pause, SignOff, Staff
from app.models.base import EnrolmentStatus, Role, utcnow
from app.models.diary import ProtectedTime, ProtectedTimeStatus
from app.schemas.programme import (
    CompleteRequest,
    PauseRequest,
    ResumeRequest,
    SignOffRequest,
    WithdrawRequest,
)
from app.services import audit, workload_events
from app.services.enrolments import OPEN_STATUSES, get_nqsw

ENDED = (EnrolmentStatus.withdrawn.value, EnrolmentStatus.completed.value)


def nqsw_enrolment(session: Session, staff_id: int) -> tuple[Staff, Enrolment]:
    """The NQSW and the enrolment their diary belongs to (open, else the latest); 404 if none."""
    return get_nqsw(session=session, staff_id=staff_id)


def require_open(enrolment: Enrolment, *, field: str = "on") -> None:
    """Changes need a programme that is still running."""
    if enrolment.status in ENDED:
        ended = f" on {enrolment.ended_on}" if enrolment.ended_on else ""
        raise DomainError(f"the programme was {enrolment.status}{ended}", field=field)


def pauses_of(session: Session, enrolment_id: int) -> list[Pause]:
    query = select(Pause).where(Pause.enrolment_id == enrolment_id).order_by(
        col(Pause.start_date), col(Pause.id)
    )
    return list(session.exec(query).all())


def open_pause(pauses: list[Pause]) -> Pause | None:
    return next((p for p in pauses if p.end_date is None), None)


def nqsw_changed(
    session: Session, staff_id: int, on: date, actor_id: int | None, reason: str
) -> None:
    """Flush, then re-evaluate the NQSW: a programme, diary or supervision change can open
    or resolve breaches.
    """
    session.flush()
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                  reason=reason)


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
    query = select(ProtectedTime).where(
        ProtectedTime.enrolment_id == enrolment.id,
        ProtectedTime.status == ProtectedTimeStatus.booked.value,
        col(ProtectedTime.day) >= pause.start_date,
    )
    if pause.end_date is not None:
        query = query.where(col(ProtectedTime.day) <= pause.end_date)
    displaced = list(session.exec(query.order_by(col(ProtectedTime.day))).all())
    for entry in displaced:
        entry.status = ProtectedTimeStatus.displaced.value
        entry.displaced_by_pause_id = pause.id
        entry.cancelled_on = on
        audit.record(session, action="protected_time.displace", entity="protected_time",
                     entity_id=entry.id, actor_id=actor_id, nqsw_id=enrolment.staff_id,
                     before={"status": "booked"},
                     after={"status": "displaced", "pause_id": pause.id})
    return displaced


def pause(
    session: Session, *, staff_id: int, data: PauseRequest, on: date, actor_id: int | None = None
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
                        "displaced": [e.id for e in displaced]})
    nqsw_changed(session, staff_id, on, actor_id, f"programme paused ({data.reason.value})")
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
    candidates = list(session.exec(
        select(ProtectedTime).where(
            ProtectedTime.displaced_by_pause_id == pause.id,
            ProtectedTime.status == ProtectedTimeStatus.displaced.value,
            col(ProtectedTime.day) > pause.end_date,
        ).order_by(col(ProtectedTime.day))
    ).all())
    if not candidates:
        return []
    ids = [c.id for c in candidates]
    replaced = set(session.exec(
        select(ProtectedTime.rebooked_from_id).where(col(ProtectedTime.rebooked_from_id).in_(ids))
    ).all())
    taken_days = set(session.exec(
        select(col(ProtectedTime.day)).where(
            ProtectedTime.enrolment_id == enrolment.id,
            col(ProtectedTime.status).in_(("booked", "taken")),
            col(ProtectedTime.day).in_([c.day for c in candidates]),
        )
    ).all())
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
                     after={"status": "booked"})
    return restored


def resume(
    session: Session, *, staff_id: int, data: ResumeRequest, on: date, actor_id: int | None = None
) -> tuple[Enrolment, Pause, list[ProtectedTime]]:
    """Restart the clock: `data.on` is the first day back, so the pause ends the day before."""
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="on")
    assert enrolment.id is not None
    current = open_pause(pauses_of(session, enrolment.id))
    if current is None:
        raise Conflict("the programme is not paused", field="on")
    if data.on <= current.start_date:
        raise DomainError(
            f"the first day back must be after the pause started on {current.start_date}",
            field="on",
        )
    before_pause = {"end_date": current.end_date}
    current.end_date = data.on - timedelta(days=1)
    before = _set_status(enrolment, EnrolmentStatus.active.value)
    session.flush()
    restored = restore_bookings(session, enrolment=enrolment, pause=current, actor_id=actor_id)
    audit.record(session, action="enrolment.resume", entity="enrolment",
                 entity_id=enrolment.id, actor_id=actor_id, nqsw_id=staff_id,
                 before={**before, "pause": before_pause},
                 after={"status": enrolment.status, "pause_id": current.id,
                        "pause_end_date": current.end_date,
                        "restored": [e.id for e in restored]})
    nqsw_changed(session, staff_id, on, actor_id, "programme resumed")
    return enrolment, current, restored


def _end(
    session: Session, *, staff_id: int, status: str, ended_on: date, outcome: str,
    note: str | None, on: date, actor_id: int | None, action: str,
) -> tuple[Enrolment, list[ProtectedTime]]:
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="on")
    if ended_on < enrolment.start_date:
        raise DomainError(f"the programme started on {enrolment.start_date}", field="on")
    before = {"status": enrolment.status, "outcome": enrolment.outcome,
              "ended_on": enrolment.ended_on}
    _set_status(enrolment, status)
    enrolment.outcome = outcome
    enrolment.ended_on = ended_on
    # Protected time booked after the end will not happen: it is cancelled with the reason
    # on the record, never deleted.
    later = list(session.exec(
        select(ProtectedTime).where(
            ProtectedTime.enrolment_id == enrolment.id,
            ProtectedTime.status == ProtectedTimeStatus.booked.value,
            col(ProtectedTime.day) >= ended_on,
        )
    ).all())
    for entry in later:
        entry.status = ProtectedTimeStatus.cancelled.value
        entry.cancelled_on = ended_on
        entry.cancelled_by_id = actor_id
        entry.cancel_reason = f"the programme was {status} on {ended_on}"
    session.flush()
    audit.record(session, action=action, entity="enrolment", entity_id=enrolment.id,
                 actor_id=actor_id, nqsw_id=staff_id, before=before,
                 after={"status": status, "outcome": outcome, "ended_on": ended_on,
                        "note": note, "cancelled_protected_time": [e.id for e in later]})
    nqsw_changed(session, staff_id, on, actor_id, f"programme {status}")
    return enrolment, later


def withdraw(
    session: Session, *, staff_id: int, data: WithdrawRequest, on: date,
    actor_id: int | None = None,
) -> tuple[Enrolment, list[ProtectedTime]]:
    """Leave the programme (health, maternity, leaving the employer, other)."""
    return _end(session, staff_id=staff_id, status=EnrolmentStatus.withdrawn.value,
                ended_on=data.on or on, outcome=f"withdrawn: {data.reason.value}",
                note=data.note, on=on, actor_id=actor_id, action="enrolment.withdraw")


def complete(
    session: Session, *, staff_id: int, data: CompleteRequest, on: date,
    actor_id: int | None = None,
) -> tuple[Enrolment, list[ProtectedTime]]:
    """Finish the programme with its outcome."""
    return _end(session, staff_id=staff_id, status=EnrolmentStatus.completed.value,
                ended_on=data.on or on, outcome=data.outcome.value, note=data.note, on=on,
                actor_id=actor_id, action="enrolment.complete")


def a_role(role: str) -> str:
    """"a team manager", "an advanced practitioner"."""
    words = role.replace("_", " ")
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"


def _manager(session: Session, staff_id: int, role: Role, field: str) -> Staff:
    person = session.get(Staff, staff_id)
    if person is None:
        raise DomainError(f"staff member {staff_id} does not exist", field=field)
    if person.role != role.value:
        raise DomainError(
            f"staff member {staff_id} is {a_role(person.role)}, not {a_role(role.value)}",
            field=field,
        )
    return person


def sign_off(
    session: Session, *, staff_id: int, data: SignOffRequest, on: date,
    actor_id: int | None = None,
) -> SignOff:
    """A readiness sign-off (child protection work) needs a team manager and a senior manager."""
    _, enrolment = nqsw_enrolment(session, staff_id)
    require_open(enrolment, field="signed_on")
    _manager(session, data.team_manager_id, Role.team_manager, "team_manager_id")
    _manager(session, data.senior_manager_id, Role.senior_manager, "senior_manager_id")
    signed_on = data.signed_on or on
    if signed_on < enrolment.start_date:
        raise DomainError(f"the programme started on {enrolment.start_date}", field="signed_on")
    existing = session.exec(
        select(SignOff).where(
            SignOff.enrolment_id == enrolment.id,
            SignOff.kind == data.kind,
            col(SignOff.revoked_on).is_(None),
        )
    ).first()
    if existing is not None:
        raise Conflict(f"already signed off for {data.kind.replace('_', ' ')} work on "
                       f"{existing.signed_on}", field="kind")
    assert enrolment.id is not None
    record = SignOff(enrolment_id=enrolment.id, kind=data.kind, signed_on=signed_on,
                     team_manager_id=data.team_manager_id,
                     senior_manager_id=data.senior_manager_id, note=data.note,
                     team_manager_approved_at=utcnow(), senior_manager_approved_at=utcnow(),
                     recorded_by_id=actor_id)
    session.add(record)
    enrolment.lock_version += 1
    session.flush()
    audit.record(session, action="enrolment.sign_off", entity="sign_off", entity_id=record.id,
                 actor_id=actor_id, nqsw_id=staff_id, after=record)
    nqsw_changed(session, staff_id, on, actor_id, f"signed off for {data.kind.replace('_', ' ')}")
    return record


def is_open(enrolment: Enrolment) -> bool:
    return enrolment.status in OPEN_STATUSES
