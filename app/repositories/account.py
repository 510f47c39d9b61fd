"""Accounts and their credentials (app/models/account.py), and every query the access
layer makes: sign-in attempts, reach and the records a request names.

Kept together so that what authorisation reads from the database is in one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal_column,
    or_,
    union_all,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from app.models import (
    Account,
    Adjustment,
    Allocation,
    ApiToken,
    AuditEvent,
    Breach,
    CalendarToken,
    Case,
    Enrolment,
    LoginAttempt,
    LoginSession,
    Notification,
    ProtectedTime,
    ServiceArea,
    SignOff,
    Staff,
    SupervisionSession,
    Team,
)
from app.repositories.base import get, read, read_first, table
from app.repositories.case import reached_on

if TYPE_CHECKING:
    from app.auth.reach import Reach

# ---- accounts and credentials ------------------------------------------------------


def account(session: Session, account_id: int | None) -> Account | None:
    return get(session, Account, account_id)


def token(session: Session, token_id: int | None) -> ApiToken | None:
    return get(session, ApiToken, token_id)


def login_session(session: Session, session_id: int | None) -> LoginSession | None:
    return get(session, LoginSession, session_id)


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


# The bearer token presented, with its account and the account's person: every API
# request starts here, so it is one statement, built once, read as a plain row.
_TOKEN, _ACCOUNT, _PERSON = table(ApiToken), table(Account), table(Staff)
_TOKEN_HOLDER = (
    sa_select(
        _TOKEN.c.id.label("token_id"), _TOKEN.c.token_hash, _TOKEN.c.kind, _TOKEN.c.scopes,
        _TOKEN.c.expires_at, _TOKEN.c.revoked_at, _TOKEN.c.last_used_at,
        _ACCOUNT.c.id.label("account_id"), _ACCOUNT.c.email, _ACCOUNT.c.is_active,
        _ACCOUNT.c.staff_id, _PERSON.c.id.label("person_id"), _PERSON.c.role, _PERSON.c.name,
        _PERSON.c.leave_date,
    )
    .select_from(
        _TOKEN.join(_ACCOUNT, _ACCOUNT.c.id == _TOKEN.c.account_id)
        .outerjoin(_PERSON, _PERSON.c.id == _ACCOUNT.c.staff_id)
    )
    .where(_TOKEN.c.token_hash == bindparam("token_hash"))
)


def token_holder(session: Session, token_hash: str) -> Row[Any] | None:
    """The token (`token_id`, `token_hash`, `kind`, `scopes`, `expires_at`, `revoked_at`,
    `last_used_at`) with its account (`account_id`, `email`, `is_active`, `staff_id`) and
    person (`person_id`, `role`, `name`, `leave_date`; None without one), or None."""
    return read_first(session, _TOKEN_HOLDER, token_hash=token_hash)


def claim_token(session: Session, token_id: int, at: datetime) -> bool:
    """Use a one-off token up, atomically: of two requests racing with it, only one gets
    True (the row changes only while it is still unused)."""
    result = session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == token_id, col(ApiToken.revoked_at).is_(None))
        .values(last_used_at=at, revoked_at=at)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def touch_token(session: Session, token_id: int, at: datetime) -> None:
    """Record when a token was last used (callers do it at most every few minutes)."""
    session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=at))


def personal_tokens(session: Session, account_id: int) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.kind == "personal")
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(session.exec(query).all())


def live_tokens(session: Session, account_id: int) -> list[ApiToken]:
    """Every token of the account not yet revoked, of any kind."""
    query = select(ApiToken).where(
        ApiToken.account_id == account_id, col(ApiToken.revoked_at).is_(None)
    )
    return list(session.exec(query).all())


def live_calendar_tokens(session: Session, staff_id: int) -> list[CalendarToken]:
    query = select(CalendarToken).where(
        CalendarToken.staff_id == staff_id, col(CalendarToken.revoked_at).is_(None)
    )
    return list(session.exec(query).all())


def live_links(session: Session, account_id: int, kind: str) -> list[ApiToken]:
    """The account's set-password links not yet used or withdrawn (expired ones included:
    withdrawing them too keeps the trail simple)."""
    query = select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.kind == kind,
        col(ApiToken.revoked_at).is_(None),
    )
    return list(session.exec(query).all())


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def session_with_holder(
    session: Session, session_hash: str
) -> tuple[LoginSession, Account, Staff | None] | None:
    """A page session with its account and person, in one statement (as for tokens)."""
    query = (
        select(LoginSession, Account, Staff)
        .join(Account, col(Account.id) == LoginSession.account_id)
        .join(Staff, col(Staff.id) == Account.staff_id, isouter=True)
        .where(LoginSession.session_hash == session_hash)
    )
    row = session.exec(query).first()
    return None if row is None else (row[0], row[1], row[2])


def live_sessions(session: Session, account_id: int) -> list[LoginSession]:
    query = select(LoginSession).where(
        LoginSession.account_id == account_id, col(LoginSession.ended_at).is_(None)
    )
    return list(session.exec(query).all())


# ---- login attempts ------------------------------------------------------------------


def last_success_from(
    session: Session, *, email: str, address: str, since: datetime
) -> datetime | None:
    """When this sign-in name last signed in from this address (after `since`), if ever."""
    query = select(func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email, LoginAttempt.address == address,
        col(LoginAttempt.succeeded).is_(True), LoginAttempt.at > since,
    )
    return session.exec(query).one()


def failures_since(
    session: Session,
    *,
    since: datetime,
    email: str | None = None,
    address: str | None = None,
    not_usual_since: datetime | None = None,
) -> tuple[int, datetime | None]:
    """How many failed attempts since `since` (by name, by address, or both), and the
    latest one. With `not_usual_since` (and a name), failures from addresses the name has
    signed in from since then are left out: they are the owner's usual addresses, counted
    on their own."""
    query = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.at > since, col(LoginAttempt.succeeded).is_(False)
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if address is not None:
        query = query.where(LoginAttempt.address == address)
    if not_usual_since is not None and email is not None:
        usual = select(LoginAttempt.address).where(
            LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(True),
            LoginAttempt.at > not_usual_since,
        )
        query = query.where(col(LoginAttempt.address).not_in(usual))
    count, latest = session.exec(query).one()
    return int(count), latest


def prune_attempts(
    session: Session, *, failures_before: datetime, successes_before: datetime,
    email: str, address: str, now: datetime,
) -> None:
    """Forget failures and successes that no longer count, and earlier successes of this
    name from this address (only the latest says the address is a usual one)."""
    session.execute(delete(LoginAttempt).where(
        col(LoginAttempt.at) < failures_before, col(LoginAttempt.succeeded).is_(False)))
    session.execute(delete(LoginAttempt).where(
        col(LoginAttempt.at) < successes_before, col(LoginAttempt.succeeded).is_(True)))
    session.execute(delete(LoginAttempt).where(
        col(LoginAttempt.email) == email, col(LoginAttempt.address) == address,
        col(LoginAttempt.succeeded).is_(True), col(LoginAttempt.at) < now))


THROTTLED_ENTITY = "login_throttle"


def throttle_refusal_audited(session: Session, key: str, *, since: datetime) -> bool:
    """Whether a refusal by the throttle about `key` has been audited since `since`."""
    query = select(AuditEvent.id).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.entity == THROTTLED_ENTITY,
        AuditEvent.entity_id == key, col(AuditEvent.at) > since,
    )
    return session.exec(query.limit(1)).first() is not None


# ---- reach ---------------------------------------------------------------------------


# What each row of `reach_rows` is: a case of the person's own, a service area they lead,
# a team they manage (or of an area they lead), someone in one of those teams, or an NQSW
# they support as an advanced practitioner.
CASE, AREA, TEAM, TEAM_MEMBER, SUPPORTED = "case", "area", "team", "member", "supported"
# Enrolments that still give an advanced practitioner access: the programme is running.
OPEN_ENROLMENT_STATUSES = ("active", "paused")

# Statements below are built once with bound parameters and read as plain rows
# (app.repositories.base): they run on nearly every API request.
_ALLOCATION, _ENROLMENT = table(Allocation), table(Enrolment)
_TEAM, _AREA, _CASE = table(Team), table(ServiceArea), table(Case)
_ME: BindParameter[Any] = bindparam("me")
_ON: BindParameter[Any] = bindparam("on", type_=Date)


def _current_on(allocation: Any) -> Any:
    """The allocation gives sight of its case on `:on` (app.repositories.case.reached_on)."""
    return reached_on(_ON, allocation)


def _kind(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("kind")


@lru_cache(maxsize=8)
def _reach_statement(supports: bool, manages: bool, leads: bool) -> Any:
    parts = [
        sa_select(_kind(CASE), _ALLOCATION.c.case_id.label("ident"))
        .where(_ALLOCATION.c.worker_id == _ME)
        .distinct()
    ]
    if supports:
        mine = _ALLOCATION.alias("mine")
        their_cases = sa_select(mine.c.case_id).where(mine.c.worker_id == _ME, _current_on(mine))
        open_enrolment = _ENROLMENT.c.status.in_(OPEN_ENROLMENT_STATUSES)
        parts.append(
            sa_select(_kind(SUPPORTED), _ENROLMENT.c.staff_id.label("ident"))
            .where(_ENROLMENT.c.advanced_practitioner_id == _ME, open_enrolment)
        )
        parts.append(
            sa_select(_kind(SUPPORTED), _ALLOCATION.c.worker_id.label("ident"))
            .select_from(
                _ALLOCATION.join(_ENROLMENT, _ENROLMENT.c.staff_id == _ALLOCATION.c.worker_id)
            )
            .where(_ALLOCATION.c.case_id.in_(their_cases), _current_on(_ALLOCATION),
                   open_enrolment)
        )
    if manages or leads:
        conditions = []
        if manages:
            conditions.append(_TEAM.c.manager_id == _ME)
        if leads:
            led = sa_select(_AREA.c.id).where(_AREA.c.senior_manager_id == _ME)
            conditions.append(_TEAM.c.service_area_id.in_(led))
            parts.append(
                sa_select(_kind(AREA), _AREA.c.id.label("ident"))
                .where(_AREA.c.senior_manager_id == _ME)
            )
        teams = or_(*conditions)
        parts.append(sa_select(_kind(TEAM), _TEAM.c.id.label("ident")).where(teams))
        parts.append(
            sa_select(_kind(TEAM_MEMBER), _PERSON.c.id.label("ident"))
            .where(_PERSON.c.team_id.in_(sa_select(_TEAM.c.id).where(teams)))
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def reach_rows(
    session: Session, staff_id: int, on: date, *, supports: bool, manages: bool, leads: bool
) -> list[tuple[str, int]]:
    """Everything a person's reach is made of, as (kind, id) rows, in ONE statement.

    Always: every case the person is or was allocated to (their own records).
    `supports` (advanced practitioners): the NQSWs on a running (active or paused)
    programme whose enrolment names them, and those co-working one of their current
    cases; a completed or withdrawn programme no longer gives them access. `manages`
    (team managers, senior managers): the teams they manage; `leads` (senior managers):
    the service areas they lead and every team in them; and for either, everyone in those
    teams. Reach is read on most API requests, so it costs one round trip whatever the
    role.
    """
    statement = _reach_statement(supports, manages, leads)
    params: dict[str, Any] = {"me": staff_id, **({"on": on} if supports else {})}
    return [(str(kind), int(ident)) for kind, ident in read(session, statement, **params)]


# ---- reach, as a condition on lists ---------------------------------------------------
#
# A list service adds the matching condition to its query, so that a list never shows
# what the single-record routes would refuse; each says exactly what app.auth.reach
# decides for one record. None means "no filter" (the coordinator; the test suite's
# all-access principal).


def people_in_reach(
    reach: Reach, *, staff_id: Any, team_id: Any | None = None
) -> ColumnElement[bool] | None:
    """Rows about a person (staff, NQSW, enrolment, diary, breach): whose person is in reach."""
    if reach.everything:
        return None
    clauses = [col(staff_id).in_(sorted(reach.people))] if reach.people else []
    if team_id is not None and reach.teams:
        clauses.append(col(team_id).in_(sorted(reach.teams)))
    return _any_of(clauses)


def cases_in_reach(
    reach: Reach, *, case_id: Any, team_id: Any, on: date
) -> ColumnElement[bool] | None:
    """Cases (or rows keyed by case): allocated to the caller, of a team in reach, or worked
    on `on` by someone whose cases are in reach (an allocation counts on its end date, as
    the access rules count it)."""
    if reach.everything:
        return None
    clauses: list[ColumnElement[bool]] = []
    if reach.cases:
        clauses.append(col(case_id).in_(sorted(reach.cases)))
    if reach.teams:
        clauses.append(col(team_id).in_(sorted(reach.teams)))
    if reach.case_people:
        worked = select(Allocation.case_id).where(
            col(Allocation.worker_id).in_(sorted(reach.case_people)),
            reached_on(on),
        )
        clauses.append(col(case_id).in_(worked))
    return _any_of(clauses)


def _any_of(clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """Rows any clause lets through; none at all when there is no clause."""
    return or_(*clauses) if clauses else false()


def allocations_in_reach(
    reach: Reach, *, worker_id: Any, case_id: Any, on: date
) -> ColumnElement[bool] | None:
    """Allocations: of a worker in reach, or on a case in reach."""
    if reach.everything:
        return None
    visible_case = cases_in_reach(reach, case_id=Case.id, team_id=Case.team_id, on=on)
    by_case = col(case_id).in_(select(Case.id).where(visible_case if visible_case is not None
                                                     else false()))
    workers = sorted(reach.people | reach.case_people)
    by_worker = col(worker_id).in_(workers) if workers else false()
    return or_(by_worker, by_case)


# ---- the records a request names -----------------------------------------------------

_STAFF_PLACE = (
    sa_select(_PERSON.c.id, _PERSON.c.team_id, _TEAM.c.service_area_id)
    .select_from(_PERSON.outerjoin(_TEAM, _TEAM.c.id == _PERSON.c.team_id))
    .where(_PERSON.c.id == bindparam("staff_id"))
)
# A case's team and its current workers (none: one row with no worker).
_CASE_PLACE = (
    sa_select(_CASE.c.team_id, _ALLOCATION.c.worker_id)
    .select_from(
        _CASE.outerjoin(
            _ALLOCATION,
            and_(_ALLOCATION.c.case_id == _CASE.c.id, _current_on(_ALLOCATION)),
        )
    )
    .where(_CASE.c.id == bindparam("case_id"))
)


def staff_place(session: Session, staff_id: int) -> tuple[int, int | None, int | None] | None:
    """(staff id, team id, service area id) of a staff member, or None when unknown."""
    row = read_first(session, _STAFF_PLACE, staff_id=staff_id)
    return None if row is None else (row[0], row[1], row[2])


def case_place(session: Session, case_id: int, on: date) -> tuple[int | None, set[int]] | None:
    """(team id, current workers) of a case, or None when unknown (one statement)."""
    rows = read(session, _CASE_PLACE, case_id=case_id, on=on)
    if not rows:
        return None
    return rows[0][0], {worker for _, worker in rows if worker is not None}


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


def _staff_of_enrolment_row(session: Session, model: Any, row_id: int) -> int | None:
    """The NQSW a row kept under an enrolment (adjustment, booking, supervision session,
    sign-off) is about: its enrolment's staff member."""
    query = (
        select(Enrolment.staff_id)
        .join(model, col(model.enrolment_id) == Enrolment.id)
        .where(model.id == row_id)
    )
    return session.exec(query).first()


def adjustment_staff(session: Session, adjustment_id: int) -> int | None:
    return _staff_of_enrolment_row(session, Adjustment, adjustment_id)


def protected_time_staff(session: Session, entry_id: int) -> int | None:
    return _staff_of_enrolment_row(session, ProtectedTime, entry_id)


def supervision_staff(session: Session, session_id: int) -> int | None:
    return _staff_of_enrolment_row(session, SupervisionSession, session_id)


def notification_recipient(session: Session, notification_id: int) -> int | None:
    query = select(Notification.recipient_id).where(Notification.id == notification_id)
    return session.exec(query).first()


def sign_off_staff(session: Session, sign_off_id: int) -> int | None:
    return _staff_of_enrolment_row(session, SignOff, sign_off_id)


def led_areas(session: Session, staff_id: int) -> list[int]:
    """The service areas this person leads as senior manager."""
    query = select(ServiceArea.id).where(ServiceArea.senior_manager_id == staff_id)
    return [int(i) for i in session.exec(query).all() if i is not None]


def areas_of(session: Session, *, staff_ids: set[int], team_ids: set[int]) -> set[int]:
    """The service areas of these people's teams and of these teams, in one statement."""
    if not staff_ids and not team_ids:
        return set()
    people_teams = select(Staff.team_id).where(col(Staff.id).in_(sorted(staff_ids)))
    query = select(Team.service_area_id).where(
        or_(col(Team.id).in_(people_teams), col(Team.id).in_(sorted(team_ids)))
    ).distinct()
    return {int(i) for i in session.exec(query).all() if i is not None}


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
        .order_by(col(Staff.id))
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
    return session.exec(query.order_by(col(Staff.id))).first()


def accounts_with_prefix(session: Session, prefix: str) -> list[Account]:
    query = select(Account).where(col(Account.email).startswith(prefix)).order_by(col(Account.id))
    return list(session.exec(query).all())
