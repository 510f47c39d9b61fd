"""Credentials for the test suite: a principal per role, and the all-access one.

The all-access principal is a system account (no staff record, so it changes no list or
count a test looks at) whose token carries the `all_access` scope. Nothing but this module
mints that scope, and `authenticate` ignores it in production mode, so it cannot be
granted to anyone in a real deployment.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session

from app.auth import tokens
from app.auth.principal import ALL_ACCESS
from app.models import Account, Staff

TEST_TOKEN_MINUTES = 24 * 60


def all_access_token(session: Session) -> str:
    """A bearer token that passes every access rule (outside production mode)."""
    account = Account(email="all-access@tests.invalid")
    session.add(account)
    session.flush()
    secret, _ = tokens.issue_access_token(
        session, account, minutes=TEST_TOKEN_MINUTES, scopes=("read", "write", ALL_ACCESS)
    )
    return secret


def token_for_staff(
    session: Session, staff: Staff, *, scopes: tuple[str, ...] = tokens.USER_SCOPES
) -> str:
    """A bearer token for this staff member's account (created when they have none)."""
    from app.repositories import account as repo

    assert staff.id is not None
    account = repo.account_for_staff(session, staff.id)
    if account is None:
        account = Account(email=staff.email.lower(), staff_id=staff.id)
        session.add(account)
        session.flush()
    secret, _ = tokens.issue_access_token(
        session, account, minutes=TEST_TOKEN_MINUTES, scopes=scopes
    )
    return secret


def make_staff(
    session: Session,
    role: str,
    *,
    team_id: int | None = None,
    name: str | None = None,
    email: str | None = None,
) -> Staff:
    """A staff member for an access test (fixed start date, so tests do not depend on today)."""
    staff = Staff(
        name=name or f"Test {role}",
        email=email or f"{role}.{uuid.uuid4().hex[:10]}@tests.invalid",
        role=role,
        team_id=team_id,
        start_date=date(2020, 1, 1),
    )
    session.add(staff)
    session.flush()
    return staff
