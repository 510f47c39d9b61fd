"""Every query the access layer makes: accounts, credentials, reach and the records named.

Kept together so that what authorisation reads from the database is in one file.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from app.models import (
    Account,
    Adjustment,
    Allocation,
    ApiToken,
    Breach,
    Case,
    Enrolment,
    LoginAttempt,
    LoginSession,
    Notification,
    ProtectedTime,
    ServiceArea,
    Staff,
    SupervisionSession,
    Team,
)

# ---- accounts and credentials ------------------------------------------------------


def account_by_email(session: Session, email: str) -> Account | None:
    return session.exec(select(Account).where(Account.email == email)).first()


def account_for_staff(session: Session, staff_id: int) -> Account | None:
    return session.exec(select(Account).where(Account.staff_id == staff_id)).first()


def staff_by_email(session: Session, email: str) -> Staff | None:
    return session.exec(select(Staff).where(func.lower(Staff.email) == email)).first()


def list_accounts(session: Session, *, limit: int, offset: int) -> tuple[list[Account], int]:
    total = session.exec(select(func.count()).select_from(Account)).one()
    rows = session.exec(select(Account).order_by(Account.email).limit(limit).offset(offset))
    return list(rows.all()), int(total)


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def personal_tokens(session: Session, account_id: int) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.kind == "personal")
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(session.exec(query).all())


def live_tokens(session: Session, account_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(
        ApiToken.account_id == account_id, col(ApiToken.revoked_at).is_(None)
    )
    return list(session.exec(query).all())


def session_by_hash(session: Session, session_hash: str) -> LoginSession | None:
    query = select(LoginSession).where(LoginSession.session_hash == session_hash)
    return session.exec(query).first()


def live_sessions(session: Session, account_id: int) -> list[LoginSession]:
    query = select(LoginSession).where(
        LoginSession.account_id == account_id, col(LoginSession.ended_at).is_(None)
    )
    return list(session.exec(query).all())


# ---- login attempts ------------------------------------------------------------------


def last_success_at(session: Session, email: str) -> datetime | None:
    query = select(func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(True)
    )
    return session.exec(query).one()


def failures_since(
    session: Session, *, since: datetime, email: str | None = None, address: str | None = None
) -> tuple[int, datetime | None]:
    """How many failed attempts since `since` (by name or by address), and the oldest one."""
    query = select(func.count(), func.min(LoginAttempt.at)).where(
        LoginAttempt.at > since, col(LoginAttempt.succeeded).is_(False)
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if address is not None:
        query = query.where(LoginAttempt.address == address)
    count, oldest = session.exec(query).one()
    return int(count), oldest


def prune_attempts(session: Session, *, before: datetime) -> None:
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < before))


# ---- reach ---------------------------------------------------------------------------


def managed_team_ids(session: Session, staff_id: int) -> set[int]:
    return set(session.exec(select(Team.id).where(Team.manager_id == staff_id)).all())


def led_area_ids(session: Session, staff_id: int) -> set[int]:
    query = select(ServiceArea.id).where(ServiceArea.senior_manager_id == staff_id)
    return set(session.exec(query).all())


def team_ids_in_areas(session: Session, area_ids: set[int]) -> set[int]:
    if not area_ids:
        return set()
    query = select(Team.id).where(col(Team.service_area_id).in_(area_ids))
    return set(session.exec(query).all())


def staff_ids_in_teams(session: Session, team_ids: set[int]) -> set[int]:
    if not team_ids:
        return set()
    return set(session.exec(select(Staff.id).where(col(Staff.team_id).in_(team_ids))).all())


def case_ids_of_worker(session: Session, staff_id: int) -> set[int]:
    """Every case the person is or was allocated to: their own records."""
    query = select(Allocation.case_id).where(Allocation.worker_id == staff_id).distinct()
    return set(session.exec(query).all())


def supported_nqsw_ids(session: Session, staff_id: int, on: date) -> set[int]:
    """NQSWs an advanced practitioner supports: named on the enrolment or co-working now."""
    named = select(Enrolment.staff_id).where(Enrolment.advanced_practitioner_id == staff_id)
    mine = select(Allocation.case_id).where(
        Allocation.worker_id == staff_id, _current(on)
    )
    coworking = (
        select(Allocation.worker_id)
        .join(Enrolment, col(Enrolment.staff_id) == Allocation.worker_id)
        .where(col(Allocation.case_id).in_(mine), _current(on))
    )
    ids = set(session.exec(named).all()) | set(session.exec(coworking).all())
    ids.discard(staff_id)
    return ids


def _current(on: date):  # type: ignore[no-untyped-def]
    return (col(Allocation.start_date) <= on) & or_(
        col(Allocation.end_date).is_(None), col(Allocation.end_date) >= on
    )


# ---- the records a request names -----------------------------------------------------


def staff_place(session: Session, staff_id: int) -> tuple[int, int | None, int | None] | None:
    """(staff id, team id, service area id) of a staff member, or None when unknown."""
    query = (
        select(Staff.id, Staff.team_id, Team.service_area_id)
        .join(Team, col(Team.id) == Staff.team_id, isouter=True)
        .where(Staff.id == staff_id)
    )
    row = session.exec(query).first()
    return None if row is None else (row[0], row[1], row[2])


def case_place(session: Session, case_id: int, on: date) -> tuple[int | None, set[int]] | None:
    """(team id, current workers) of a case, or None when unknown."""
    row = session.exec(select(Case.id, Case.team_id).where(Case.id == case_id)).first()
    if row is None:
        return None
    team_id = row[1]
    workers = session.exec(
        select(Allocation.worker_id).where(Allocation.case_id == case_id, _current(on))
    ).all()
    return team_id, set(workers)


def team_area(session: Session, team_id: int) -> int | None | bool:
    """The service area of a team; False when there is no such team."""
    row = session.exec(select(Team.service_area_id).where(Team.id == team_id)).first()
    return False if row is None else row


def area_exists(session: Session, area_id: int) -> bool:
    return session.exec(select(ServiceArea.id).where(ServiceArea.id == area_id)).first() is not None


def allocation_parts(session: Session, allocation_id: int) -> tuple[int, int] | None:
    """(worker id, case id) of an allocation."""
    query = select(Allocation.worker_id, Allocation.case_id).where(Allocation.id == allocation_id)
    row = session.exec(query).first()
    return None if row is None else (row[0], row[1])


def breach_staff(session: Session, breach_id: int) -> int | None:
    return session.exec(select(Breach.staff_id).where(Breach.id == breach_id)).first()


def enrolment_staff(session: Session, enrolment_id: int) -> int | None:
    return session.exec(select(Enrolment.staff_id).where(Enrolment.id == enrolment_id)).first()


def adjustment_staff(session: Session, adjustment_id: int) -> int | None:
    query = (
        select(Enrolment.staff_id)
        .join(Adjustment, col(Adjustment.enrolment_id) == Enrolment.id)
        .where(Adjustment.id == adjustment_id)
    )
    return session.exec(query).first()


def protected_time_staff(session: Session, entry_id: int) -> int | None:
    query = (
        select(Enrolment.staff_id)
        .join(ProtectedTime, col(ProtectedTime.enrolment_id) == Enrolment.id)
        .where(ProtectedTime.id == entry_id)
    )
    return session.exec(query).first()


def supervision_staff(session: Session, session_id: int) -> int | None:
    query = (
        select(Enrolment.staff_id)
        .join(SupervisionSession, col(SupervisionSession.enrolment_id) == Enrolment.id)
        .where(SupervisionSession.id == session_id)
    )
    return session.exec(query).first()


def notification_recipient(session: Session, notification_id: int) -> int | None:
    query = select(Notification.recipient_id).where(Notification.id == notification_id)
    return session.exec(query).first()


# ---- demo sign-ins -------------------------------------------------------------------


def demo_nqsw(session: Session) -> Staff | None:
    """An NQSW on an active programme with a team manager and an advanced practitioner."""
    query = (
        select(Staff)
        .join(Enrolment, col(Enrolment.staff_id) == Staff.id)
        .join(Team, col(Team.id) == Staff.team_id)
        .where(
            Staff.role == "nqsw",
            Enrolment.status == "active",
            col(Enrolment.advanced_practitioner_id).is_not(None),
            col(Team.manager_id).is_not(None),
            col(Staff.leave_date).is_(None),
            col(Staff.id).not_in(select(Account.staff_id).where(col(Account.staff_id).is_not(None))),
        )
        .order_by(Staff.id)
    )
    return session.exec(query).first()


def active_enrolment_ap(session: Session, staff_id: int) -> int | None:
    query = (
        select(Enrolment.advanced_practitioner_id)
        .where(Enrolment.staff_id == staff_id, Enrolment.status == "active")
        .order_by(col(Enrolment.id).desc())
    )
    return session.exec(query).first()


def team_and_area_leads(session: Session, team_id: int) -> tuple[int | None, int | None]:
    """(team manager id, senior manager id of its service area)."""
    query = (
        select(Team.manager_id, ServiceArea.senior_manager_id)
        .join(ServiceArea, col(ServiceArea.id) == Team.service_area_id)
        .where(Team.id == team_id)
    )
    row = session.exec(query).first()
    return (None, None) if row is None else (row[0], row[1])


def first_staff_with_role(
    session: Session, role: str, *, team_id: int | None = None
) -> Staff | None:
    """The first current staff member of this role who has no account yet."""
    query = select(Staff).where(
        Staff.role == role,
        col(Staff.leave_date).is_(None),
        col(Staff.id).not_in(select(Account.staff_id).where(col(Account.staff_id).is_not(None))),
    )
    if team_id is not None:
        query = query.where(Staff.team_id == team_id)
    return session.exec(query.order_by(Staff.id)).first()


def accounts_with_prefix(session: Session, prefix: str) -> list[Account]:
    query = select(Account).where(col(Account.email).startswith(prefix)).order_by(Account.id)
    return list(session.exec(query).all())
