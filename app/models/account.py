"""Accounts, their credentials and the traces of signing in.

An account belongs to one staff member; what it may see and do follows that person's
role and place in the organisation (staff.role, team, service area), so there is one
source of truth for both the workload rules and access. Secrets are never stored:
passwords as Argon2 hashes, tokens and session ids as SHA-256 digests of random values.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field


class Account(SQLModel, table=True):
    """A way to sign in for one staff member (an account without one is a system account)."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    # The sign-in name, stored lower-cased; usually the staff member's email.
    email: str = Field(index=True, unique=True, max_length=320)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", unique=True, index=True)
    # None: no password set, so the account can only use tokens issued to it.
    password_hash: str | None = Field(default=None, max_length=512)
    is_active: bool = Field(default=True)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    # The second factor (app/auth/second_factor.py): the shared TOTP secret (base32; kept
    # as is, as there is no key management to encrypt it with, and never shown again
    # once set up), when it was confirmed with a first code (until then it is not asked
    # for), and the last time-step accepted, so that no code is accepted twice.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None)


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the authenticator app, stored as an Argon2 hash
    like a password; used once, then kept (with when it was used) for the record."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    code_hash: str = Field(max_length=512)
    created_at: datetime = created_at_field()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token: short-lived from the password flow, or a personal access token."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=20)  # "access" (password flow) or "personal"
    name: str = Field(default="", max_length=200)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    # The first characters of the token, shown so a person can tell their tokens apart.
    prefix: str = Field(max_length=20)
    scopes: str = Field(default="read write", max_length=200)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random id, the row holds its digest."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(unique=True, index=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class LoginAttempt(SQLModel, table=True):
    """One try at a password, counted per sign-in name and per address to throttle guessing.

    Counting in the database (not in process memory) makes the limit hold across every
    worker process.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    email: str = Field(max_length=320)
    address: str = Field(max_length=64)
    succeeded: bool = Field(default=False)
