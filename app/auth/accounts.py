"""Accounts: creating them, passwords, roles, switching them off, and signing in.

An account is one staff member's way in. What they may do follows their staff record's
role and place in the organisation, so changing a role here changes `staff.role` (the one
source of truth), with an audit event of its own.

Every credential ends with the account, the password or the role it was issued under:
switching an account off, a new or reset password and a change of role end the
account's page sessions, its bearer tokens (password-flow and personal) and its calendar
feed URLs (`end_credentials`). A token stolen or copied before the change is worthless
after it, and a person promoted or demoted starts again with a fresh sign-in.

An admin never sets a password: an account the admin creates or resets gets a one-time
link, emailed to its holder, to choose their own (app.auth.links). Only an operator at
the server's command line types a password for someone (the very first admin, or a
recovery), and that is not the admin role acting through the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.auth import links, passwords, sessions, throttle, tokens
from app.auth.principal import ALL_ACCESS, Principal
from app.clock import today
from app.errors import Conflict, DomainError
from app.models import Account, Staff
from app.models.base import Role, utcnow
from app.repositories import account as repo
from app.repositories import staff as staff_repo
from app.services import audit
from app.settings import Settings

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
    own_email_only: bool = False,
) -> Account:
    """An account for a staff member (found by id or email; created when neither exists).

    `password` is for an operator at the server's command line, the demo and tests; an
    admin through the service never gives one (their accounts get a set-password link).
    `own_email_only` (an admin's request): the account's email must be the one on the
    person's staff record, so the link to choose a password cannot be sent to a mailbox
    the admin picked instead of the person's own.
    """
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
    if own_email_only and staff.email and normalise_email(staff.email) != email:
        raise DomainError("this is not the email on the person's staff record: the link to "
                          "choose a password must go to their own address", field="email")
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
        staff = staff_repo.person(session, staff_id)
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
    """Change what a person may do. Their sessions, tokens and calendar feed end with the
    old role, so nothing issued under it carries on: they sign in again as who they now
    are."""
    check_role(role)
    if staff.role == role:
        return staff
    before = staff.role
    staff.role = role
    session.flush()
    assert staff.id is not None
    account = repo.account_for_staff(session, staff.id)
    end_credentials(session, account_id=account.id if account else None, staff_id=staff.id,
                    actor_id=actor_id, reason="role_change")
    audit.record(
        session, action="account.role_change", entity="staff", entity_id=staff.id,
        actor_id=actor_id, before={"role": before}, after={"role": role},
        nqsw_id=staff.id if Role.nqsw in (before, role) else None,
    )
    return staff


def end_credentials(
    session: Session, *, account_id: int | None, staff_id: int | None, actor_id: int | None,
    reason: str,
) -> dict[str, int]:
    """End every way in an account has, each audited with `reason`: its page sessions
    (`session.end`), password-flow and personal tokens (`token.revoke`) and its person's
    calendar feed URLs (`calendar_token.revoke`). Returns how many of each ended."""
    ended = {"sessions": 0, "tokens": 0, "calendar_feeds": 0}
    if account_id is not None:
        ended["sessions"] = sessions.end_all(session, account_id, actor_id=actor_id,
                                             reason=reason)
        ended["tokens"] = tokens.revoke_all(session, account_id, actor_id=actor_id,
                                            reason=reason)
    if staff_id is not None:
        ended["calendar_feeds"] = tokens.revoke_calendar_feeds(session, staff_id,
                                                               actor_id=actor_id, reason=reason)
    return ended


def set_password(
    session: Session, account: Account, password: str, *, actor_id: int | None,
    reason: str = "password_changed",
) -> Account:
    """A new password ends every credential of the account: page sessions, password-flow
    and personal tokens, calendar feed URLs, and any set-password link not yet used."""
    passwords.check_new_password(password, email=account.email)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    session.flush()
    assert account.id is not None
    ended = end_credentials(session, account_id=account.id, staff_id=account.staff_id,
                            actor_id=actor_id, reason=reason)
    links.withdraw(session, account.id, actor_id=actor_id, reason="password_set")
    audit.record(session, action="account.password_set", entity="account",
                 entity_id=account.id, actor_id=actor_id,
                 after={"reason": reason, "ended": ended})
    return account


def send_password_link(
    session: Session, account: Account, *, requested_by: Principal | None, settings: Settings,
) -> None:
    """Email a new account's holder a one-time link to choose their own password."""
    links.issue(session, account, purpose=links.CREATED, requested_by=requested_by,
                settings=settings)


def reset_password(
    session: Session, account: Account, *, requested_by: Principal | None, settings: Settings,
) -> None:
    """Reset by an admin (or an operator): the current password stops working at once,
    every credential ends, and the holder is emailed a one-time link to choose a new one,
    saying who asked. The admin never learns a working password."""
    assert account.id is not None
    actor_id = requested_by.staff_id if requested_by is not None else None
    account.password_hash = None
    account.password_changed_at = utcnow()
    session.flush()
    ended = end_credentials(session, account_id=account.id, staff_id=account.staff_id,
                            actor_id=actor_id, reason="password_reset")
    audit.record(session, action="account.password_reset", entity="account",
                 entity_id=account.id, actor_id=actor_id, after={"ended": ended})
    links.issue(session, account, purpose=links.RESET, requested_by=requested_by,
                settings=settings)


class LinkUnusable(Exception):
    """A set-password link that cannot be used: unknown, expired, used or withdrawn."""

    def __init__(self, found: links.Found) -> None:
        super().__init__(found.status.value)
        self.found = found


def password_link(session: Session, secret: str) -> links.Found:
    """The link behind `secret`, judged usable only while its account may still act (not
    switched off, the person not gone)."""
    found = links.look_up(session, secret)
    if found.status is links.Status.USABLE and found.account is not None and not (
        found.account.is_active and _staff_present(session, found.account)
    ):
        return links.Found(links.Status.WITHDRAWN, found.row, found.account)
    return found


def set_password_by_link(
    session: Session, secret: str, password: str, *, address: str, settings: Settings,
) -> Account:
    """The holder of a link chooses their password. The link is used up, every other
    session and token of the account ends, and the holder is emailed that it happened
    (so a link used by someone else does not go unnoticed). Raises `LinkUnusable` (after
    auditing the refusal) or, for a password the rules refuse, `DomainError`."""
    found = password_link(session, secret)
    if found.status is not links.Status.USABLE or found.account is None:
        links.refuse(session, found, address=address)
        raise LinkUnusable(found)
    account = found.account
    passwords.check_new_password(password, email=account.email)
    if not links.claim(session, found, address=address):  # another request used it first
        used = links.Found(links.Status.USED, found.row, account)
        links.refuse(session, used, address=address)
        raise LinkUnusable(used)
    set_password(session, account, password, actor_id=account.staff_id,
                 reason="password_set_by_link")
    links.queue_email(
        session, account, settings, kind="account.password_set",
        subject="Your Ringfence password has been set",
        context={"set_at": links.local_time(utcnow(), settings), "email": account.email,
                 "login": f"{settings.base_url.rstrip('/')}/login"},
    )
    return account


def set_active(
    session: Session, account: Account, active: bool, *, actor_id: int | None
) -> Account:
    """Switching an account off ends its sessions, every token, its calendar feed URLs
    and any set-password link, at once."""
    if account.is_active == active:
        return account
    account.is_active = active
    session.flush()
    assert account.id is not None
    ended: dict[str, int] = {}
    if not active:
        ended = end_credentials(session, account_id=account.id, staff_id=account.staff_id,
                                actor_id=actor_id, reason="deactivated")
        links.withdraw(session, account.id, actor_id=actor_id, reason="deactivated")
    audit.record(session, action="account.activate" if active else "account.deactivate",
                 entity="account", entity_id=account.id, actor_id=actor_id,
                 after={"ended": ended} if ended else None)
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
    if repo.throttle_refusal_audited(session, key, since=utcnow() - throttle.AUDIT_WINDOW):
        return
    audit.record(session, action="auth.login_failed", entity=repo.THROTTLED_ENTITY,
                 entity_id=key,
                 after={"email": email, "address": address, "reason": "throttled",
                        "limit": verdict.limit, "usual_address": verdict.usual_address,
                        "retry_after": verdict.retry_after,
                        "audited": "first refusal of the window"})


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
    return Holder.of(account, staff_repo.person(session, account.staff_id)).in_post


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
    staff = staff_repo.person(session, account.staff_id)
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
    reset: bool,
    actor: Principal,
    settings: Settings,
) -> Account:
    """An admin's change to an account: switch it off or on, change the person's role, or
    reset the password (the holder is emailed a link; the admin never sets one). Nobody
    may switch off, demote or reset themselves."""
    own = actor.account_id == account.id
    if own and is_active is False:
        raise DomainError("you cannot switch off your own account", field="is_active")
    if own and role is not None and role != actor.role:
        raise DomainError("you cannot change your own role", field="role")
    if own and reset:
        raise DomainError("you cannot reset your own password: ask another admin, or an "
                          "operator (ringfence users reset-password)", field="reset_password")
    if reset and (is_active is False or (is_active is None and not account.is_active)):
        raise DomainError("switch the account on to reset its password",
                          field="reset_password")
    if role is not None:
        if account.staff_id is None:
            raise DomainError("a system account has no role to change", field="role")
        staff = staff_repo.person(session, account.staff_id)
        assert staff is not None
        change_role(session, staff, role, actor_id=actor.staff_id)
    if is_active is not None:
        set_active(session, account, is_active, actor_id=actor.staff_id)
    if reset:
        reset_password(session, account, requested_by=actor, settings=settings)
    return account
