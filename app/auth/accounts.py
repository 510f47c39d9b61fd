"""Accounts: creating them, passwords, roles, switching them off, and signing in.

An account is one staff member's way in. What they may do follows their staff record's
role and place in the organisation, so changing a role here changes `staff.role` (the one
source of truth), with an audit event of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.auth import passwords, sessions, throttle, tokens
from app.auth import repository as repo
from app.auth.principal import ALL_ACCESS, Principal
from app.clock import today
from app.errors import Conflict, DomainError
from app.models import Account, Staff
from app.models.base import Role, utcnow
from app.services import audit

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
ROLES = tuple(r.value for r in Role)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str, *, field: str = "email") -> str:
    email = normalise_email(email)
    if len(email) > 320 or not _EMAIL.match(email):
        raise DomainError("not an email address", field=field)
    return email


def check_role(role: str, *, field: str = "role") -> str:
    if role not in ROLES:
        raise DomainError(f"unknown role {role!r}; one of {', '.join(ROLES)}", field=field)
    return role


def create_account(
    session: Session,
    *,
    email: str,
    role: str | None = None,
    name: str | None = None,
    password: str | None = None,
    staff_id: int | None = None,
    actor_id: int | None = None,
) -> Account:
    """An account for a staff member (found by id or email; created when neither exists)."""
    email = check_email(email)
    if role is not None:
        check_role(role)
    if repo.account_by_email(session, email) is not None:
        raise Conflict("an account with this email already exists", field="email")
    staff = _staff_for(session, email=email, staff_id=staff_id, role=role, name=name,
                       actor_id=actor_id)
    assert staff.id is not None
    if repo.account_for_staff(session, staff.id) is not None:
        raise Conflict("this staff member already has an account", field="staff_id")
    account = Account(email=email, staff_id=staff.id)
    if password is not None:
        passwords.check_new_password(password, email=email)
        account.password_hash = passwords.hash_password(password)
        account.password_changed_at = utcnow()
    session.add(account)
    session.flush()
    audit.record(
        session, action="account.create", entity="account", entity_id=account.id,
        actor_id=actor_id,
        after={"email": email, "staff_id": staff.id, "role": staff.role,
               "password_set": password is not None},
    )
    return account


def _staff_for(
    session: Session, *, email: str, staff_id: int | None, role: str | None, name: str | None,
    actor_id: int | None,
) -> Staff:
    if staff_id is not None:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise DomainError(f"staff member {staff_id} does not exist", field="staff_id")
    else:
        staff = repo.staff_by_email(session, email)
    if staff is None:
        if role is None:
            raise DomainError("no staff member has this email: give a role to add one",
                              field="role")
        staff = Staff(name=(name or email.split("@", 1)[0]).strip()[:200], email=email,
                      role=role, start_date=today())
        session.add(staff)
        session.flush()
        audit.record(session, action="staff.create", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, after=staff)
    elif role is not None and role != staff.role:
        change_role(session, staff, role, actor_id=actor_id)
    return staff


def change_role(session: Session, staff: Staff, role: str, *, actor_id: int | None) -> Staff:
    """Change what a person may do; it takes effect on their next request."""
    check_role(role)
    if staff.role == role:
        return staff
    before = staff.role
    staff.role = role
    session.flush()
    audit.record(
        session, action="account.role_change", entity="staff", entity_id=staff.id,
        actor_id=actor_id, before={"role": before}, after={"role": role},
        nqsw_id=staff.id if Role.nqsw in (before, role) else None,
    )
    return staff


def set_password(
    session: Session, account: Account, password: str, *, actor_id: int | None
) -> Account:
    """A new password ends every page session and password-flow token of the account.

    Personal access tokens are left alone: they are separate credentials, revoked on
    their own (or all at once by deactivating the account).
    """
    passwords.check_new_password(password, email=account.email)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    session.flush()
    assert account.id is not None
    sessions.end_all(session, account.id, actor_id=actor_id, reason="password_changed")
    tokens.revoke_all(session, account.id, actor_id=actor_id, reason="password_changed",
                      kinds=(tokens.ACCESS,))
    audit.record(session, action="account.password_set", entity="account",
                 entity_id=account.id, actor_id=actor_id)
    return account


def set_active(
    session: Session, account: Account, active: bool, *, actor_id: int | None
) -> Account:
    """Switching an account off ends its sessions and revokes every token at once."""
    if account.is_active == active:
        return account
    account.is_active = active
    session.flush()
    assert account.id is not None
    if not active:
        sessions.end_all(session, account.id, actor_id=actor_id, reason="deactivated")
        tokens.revoke_all(session, account.id, actor_id=actor_id, reason="deactivated")
    audit.record(session, action="account.activate" if active else "account.deactivate",
                 entity="account", entity_id=account.id, actor_id=actor_id)
    return account


@dataclass(frozen=True)
class SignIn:
    account: Account | None
    retry_after: int = 0

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def authenticate(
    session: Session, *, email: str, password: str, address: str, production: bool = False
) -> SignIn:
    """Check a password, throttled per name and per address; every outcome is audited
    (refusals by the throttle only once per window, so a flood cannot fill the trail).

    The answer for an unknown email, a wrong password and a switched-off account is the
    same, and takes the same time (a dummy hash is verified), so nobody learns who exists.
    In production mode the demo sign-ins and the published demo password never work.
    """
    email = normalise_email(email)[:320]
    verdict = throttle.check(session, email=email, address=address)
    if not verdict.allowed:
        _audit_throttled(session, verdict, email=email, address=address)
        return SignIn(account=None, retry_after=verdict.retry_after)
    account = repo.account_by_email(session, email)
    usable = account is not None and account.is_active and _staff_present(session, account)
    if production and (is_demo_email(email) or password == DEMO_PASSWORD):
        usable = False  # checked against the dummy hash: same answer, same time
    ok, new_hash = passwords.verify_password(
        password, account.password_hash if account is not None and usable else None
    )
    if not ok or account is None:
        throttle.record(session, email=email, address=address, succeeded=False)
        audit.record(session, action="auth.login_failed", entity="account",
                     entity_id=account.id if account else None,
                     after={"email": email, "address": address, "reason": "bad_credentials"})
        return SignIn(account=None)
    if new_hash:
        account.password_hash = new_hash
    account.last_login_at = utcnow()
    throttle.record(session, email=email, address=address, succeeded=True)
    audit.record(session, action="auth.login", entity="account", entity_id=account.id,
                 actor_id=account.staff_id, after={"address": address})
    return SignIn(account=account)


def _audit_throttled(
    session: Session, verdict: throttle.Verdict, *, email: str, address: str
) -> None:
    """Audit a refusal by the throttle, unless one about the same address (or name) has
    been audited within the window already."""
    key = throttle.refusal_key(verdict, email=email, address=address)
    if repo.throttle_refusal_audited(session, key, since=utcnow() - throttle.WINDOW):
        return
    audit.record(session, action="auth.login_failed", entity=repo.THROTTLED_ENTITY,
                 entity_id=key,
                 after={"email": email, "address": address, "reason": "throttled",
                        "limit": verdict.limit, "audited": "first refusal of the window"})


# The demo sign-ins (app.auth.demo) are marked by their address and share one published
# password; they are defined here so that signing in can refuse them in production.
DEMO_PASSWORD = "ringfence-demo"
DEMO_DOMAIN = "ringfence.example"
DEMO_PREFIX = "demo-"


def is_demo_email(email: str) -> bool:
    email = normalise_email(email)
    return email.startswith(DEMO_PREFIX) and email.endswith("@" + DEMO_DOMAIN)


def _staff_present(session: Session, account: Account) -> bool:
    """A person who has left cannot sign in (their history stays, their access does not)."""
    if account.staff_id is None:
        return True
    return Holder.of(account, session.get(Staff, account.staff_id)).in_post


@dataclass(frozen=True, slots=True)
class Holder:
    """An account and its person, as deciding who acts needs them.

    Read together with the credential presented (a bearer token, a page session), in
    the same statement, so that knowing who calls costs one round trip.
    """

    account_id: int
    email: str
    is_active: bool
    staff_id: int | None  # the account's staff member; None for a system account
    person_found: bool = False
    role: str | None = None
    name: str | None = None
    leave_date: date | None = None

    @classmethod
    def of(cls, account: Account, staff: Staff | None) -> Holder:
        assert account.id is not None
        return cls(
            account_id=account.id, email=account.email, is_active=account.is_active,
            staff_id=account.staff_id, person_found=staff is not None,
            role=staff.role if staff else None, name=staff.name if staff else None,
            leave_date=staff.leave_date if staff else None,
        )

    @classmethod
    def from_row(cls, row: Any) -> Holder:
        """From a row with the account's and person's columns (`repository.token_holder`)."""
        return cls(
            account_id=row.account_id, email=row.email, is_active=row.is_active,
            staff_id=row.staff_id, person_found=row.person_id is not None, role=row.role,
            name=row.name, leave_date=row.leave_date,
        )

    @property
    def in_post(self) -> bool:
        """A system account, or a person who has not left (they keep their history, not
        their access)."""
        if self.staff_id is None:
            return True
        return self.person_found and (self.leave_date is None or self.leave_date >= today())

    @property
    def may_act(self) -> bool:
        return self.is_active and self.in_post


def principal_for(
    session: Session,
    holder: Holder,
    *,
    scopes: frozenset[str],
    via: str,
    all_access_allowed: bool,
    token_id: int | None = None,
    token_kind: str | None = None,
    session_id: int | None = None,
) -> Principal | None:
    """The principal an account acts as, or None when it may not act at all."""
    if not holder.may_act:
        return None
    person = holder.staff_id is not None and holder.person_found
    all_access = all_access_allowed and ALL_ACCESS in scopes
    return Principal(
        account_id=holder.account_id,
        email=holder.email,
        staff_id=holder.staff_id if person else None,
        role=holder.role if person else None,
        name=(holder.name or holder.email) if person else holder.email,
        scopes=scopes,
        via=via,
        all_access=all_access,
        token_id=token_id,
        token_kind=token_kind,
        session_id=session_id,
        db=session,
    )


def describe(session: Session, account: Account) -> dict[str, object]:
    """An account with its person's name and role, for the admin's list."""
    staff = session.get(Staff, account.staff_id) if account.staff_id is not None else None
    return {
        "id": account.id,
        "email": account.email,
        "staff_id": account.staff_id,
        "name": staff.name if staff else None,
        "role": staff.role if staff else None,
        "is_active": account.is_active,
        "has_password": account.password_hash is not None,
        "created_at": account.created_at,
        "last_login_at": account.last_login_at,
    }


def update_account(
    session: Session,
    account: Account,
    *,
    is_active: bool | None,
    role: str | None,
    password: str | None,
    actor: Principal,
) -> Account:
    """An admin's change to an account; nobody may switch off or demote themselves."""
    own = actor.account_id == account.id
    if own and is_active is False:
        raise DomainError("you cannot switch off your own account", field="is_active")
    if own and role is not None and role != actor.role:
        raise DomainError("you cannot change your own role", field="role")
    if role is not None:
        if account.staff_id is None:
            raise DomainError("a system account has no role to change", field="role")
        staff = session.get(Staff, account.staff_id)
        assert staff is not None
        change_role(session, staff, role, actor_id=actor.staff_id)
    if password is not None:
        set_password(session, account, password, actor_id=actor.staff_id)
    if is_active is not None:
        set_active(session, account, is_active, actor_id=actor.staff_id)
    return account
