"""Demo sign-ins: one person of each role, with a documented password (never in production).

In production mode they are refused twice over: signing in with a demo address or the
published password never works, and the service refuses to start while any demo sign-in
is still switched on with a password (`ringfence users deactivate-demo` switches them
all off).

They sign in as `demo-<role>@ringfence.example` (role with hyphens, e.g.
`demo-team-manager@ringfence.example`) with the password `ringfence-demo`. The people are
chosen to belong together: an NQSW, their team manager, their service area's senior
manager, their advanced practitioner and a social worker from the same team, plus the
ASYE coordinator and an admin (added to the staff list when the demo has none).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.auth import accounts, passwords
from app.auth.accounts import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_PREFIX, is_demo_email
from app.clock import today
from app.models import Staff
from app.models.base import Role
from app.repositories import account as repo
from app.repositories import staff as staff_repo
from app.settings import Settings, get_settings

__all__ = ["DEMO_DOMAIN", "DEMO_PASSWORD", "DEMO_PREFIX", "DemoAccount",
           "DemoAccountsRefused", "deactivate_demo_accounts", "demo_email",
           "ensure_demo_accounts", "list_demo_accounts", "live_demo_accounts"]
ROLE_ORDER = (
    Role.nqsw,
    Role.advanced_practitioner,
    Role.social_worker,
    Role.team_manager,
    Role.senior_manager,
    Role.asye_coordinator,
    Role.admin,
)


class DemoAccountsRefused(RuntimeError):
    """Known passwords are never created in production mode."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    name: str
    password: str = DEMO_PASSWORD


def demo_email(role: str) -> str:
    return f"{DEMO_PREFIX}{role.replace('_', '-')}@{DEMO_DOMAIN}"


def ensure_demo_accounts(session: Session, settings: Settings | None = None) -> list[DemoAccount]:
    """Give one person of each role a demo sign-in; running it again changes nothing."""
    settings = settings or get_settings()
    if settings.mode == "production":
        raise DemoAccountsRefused("demo accounts with known passwords are refused in production")
    people = _choose_people(session)
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    made: list[DemoAccount] = []
    for role in ROLE_ORDER:
        email = demo_email(role.value)
        existing = repo.account_by_email(session, email)
        if existing is not None:
            staff = staff_repo.person(session, existing.staff_id)
            made.append(DemoAccount(email, role.value, staff.name if staff else email))
            continue
        staff = people.get(role)
        if staff is not None and staff.id is not None and repo.account_for_staff(
            session, staff.id
        ):
            staff = _new_staff(session, role) if role in (Role.asye_coordinator,
                                                           Role.admin) else None
        if staff is None or staff.id is None:
            continue
        account = accounts.create_account(session, email=email, staff_id=staff.id)
        account.password_hash = password_hash
        session.flush()
        made.append(DemoAccount(email, role.value, staff.name))
    return made


def live_demo_accounts(session: Session) -> list[str]:
    """Demo sign-ins that could still be used: switched on, with a password (whatever it
    is now). Production refuses to start while there are any."""
    return [account.email for account in repo.accounts_with_prefix(session, DEMO_PREFIX)
            if is_demo_email(account.email) and account.is_active
            and account.password_hash is not None]


def deactivate_demo_accounts(session: Session) -> list[str]:
    """Switch off every demo sign-in (their sessions and tokens end with them)."""
    switched = []
    for account in repo.accounts_with_prefix(session, DEMO_PREFIX):
        if is_demo_email(account.email) and account.is_active:
            accounts.set_active(session, account, False, actor_id=None)
            switched.append(account.email)
    return switched


def list_demo_accounts(session: Session) -> list[DemoAccount]:
    """The demo sign-ins that still have the documented password."""
    found: list[DemoAccount] = []
    for account in repo.accounts_with_prefix(session, DEMO_PREFIX):
        if not account.email.endswith("@" + DEMO_DOMAIN) or not account.is_active:
            continue
        ok, _ = passwords.verify_password(DEMO_PASSWORD, account.password_hash)
        staff = staff_repo.person(session, account.staff_id)
        if ok and staff is not None:
            found.append(DemoAccount(account.email, staff.role, staff.name))
    order = {role.value: i for i, role in enumerate(ROLE_ORDER)}
    return sorted(found, key=lambda a: order.get(a.role, len(order)))


def _choose_people(session: Session) -> dict[Role, Staff]:
    people: dict[Role, Staff] = {}
    nqsw = repo.demo_nqsw(session) or repo.first_staff_with_role(session, Role.nqsw)
    if nqsw is not None and nqsw.id is not None:
        people[Role.nqsw] = nqsw
        ap_id = repo.active_enrolment_ap(session, nqsw.id)
        if ap_id is not None:
            _put(session, people, Role.advanced_practitioner, ap_id)
        if nqsw.team_id is not None:
            manager_id, senior_id = repo.team_and_area_leads(session, nqsw.team_id)
            _put(session, people, Role.team_manager, manager_id)
            _put(session, people, Role.senior_manager, senior_id)
            colleague = repo.first_staff_with_role(session, Role.social_worker,
                                                   team_id=nqsw.team_id)
            if colleague is not None:
                people[Role.social_worker] = colleague
    for role in ROLE_ORDER:
        if role not in people:
            found = repo.first_staff_with_role(session, role)
            if found is not None:
                people[role] = found
    for role in (Role.asye_coordinator, Role.admin):
        if role not in people:
            people[role] = _new_staff(session, role)
    return people


def _new_staff(session: Session, role: Role) -> Staff:
    """The demo has nobody free in this role: add a demo person to the staff list."""
    email = f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}"
    existing = repo.staff_by_email(session, email)
    if existing is not None:
        return existing
    names = {Role.asye_coordinator: "Demo ASYE coordinator", Role.admin: "Demo administrator"}
    staff = Staff(name=names.get(role, f"Demo {role.value}"), email=email, role=role.value,
                  start_date=today())
    session.add(staff)
    session.flush()
    return staff


def _put(session: Session, people: dict[Role, Staff], role: Role, staff_id: int | None) -> None:
    if staff_id is None:
        return
    staff = staff_repo.person(session, staff_id)
    if staff is not None and staff.role == role.value and staff.id is not None and (
        repo.account_for_staff(session, staff.id) is None
    ):
        people[role] = staff
