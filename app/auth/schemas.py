"""Request and response shapes of the sign-in, token and account endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from app.models.base import Role

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Scope = Literal["read", "write"]
# Ids the database can hold (32-bit integers): anything larger is refused as bad input.
MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(le=MAX_ID)]


class TokenResponse(BaseModel):
    """The OAuth2 answer: a bearer token and how many seconds it lasts."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str


class OAuthError(BaseModel):
    """RFC 6749 error body, with FastAPI's `detail` for clients that read that."""

    error: str
    error_description: str
    detail: str


class Me(BaseModel):
    account_id: int
    email: str
    staff_id: int | None
    name: str
    role: str | None
    scopes: list[str]
    via: Literal["token", "session"]


class PersonalTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    scopes: list[Scope] = Field(default_factory=lambda: ["read"], min_length=1, max_length=2)
    expires_in_days: int = Field(
        default=90, ge=1, le=365,
        description="Days until it stops working (every personal token expires; at most a "
                    "year, then create a new one).",
    )


class PersonalTokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    scopes: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class PersonalTokenCreated(PersonalTokenPublic):
    token: str = Field(description="The secret itself: shown this once, never again.")


class AccountPublic(BaseModel):
    id: int
    email: str
    staff_id: int | None
    name: str | None
    role: str | None
    is_active: bool
    has_password: bool
    created_at: datetime
    last_login_at: datetime | None


# An admin never sets anyone's password: the field is not part of the contract, and a
# request that still sends one is refused by the handler with a 422 naming it (never
# echoing the value back, as a validation error would).
RefusedPassword = SkipJsonSchema[Any]
ADMIN_PASSWORD_REFUSED = (
    "an admin does not set passwords: the person is emailed a one-time link to choose "
    "their own (reset_password sends a new one)"
)


class AccountCreate(BaseModel):
    """An account for a staff member: named by `staff_id`, or by email (+ role and name to
    add the staff member when there is none). The person is emailed a one-time link to
    choose their own password; the account has none until then."""

    model_config = ConfigDict(extra="forbid")

    email: Email = Field(description="The person's own email (the one on their staff record "
                                     "when `staff_id` is given): the link goes there.")
    staff_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    role: Role | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=200)] | None = None
    password: RefusedPassword = Field(default=None, exclude=True)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    role: Role | None = Field(
        default=None,
        description="A new role ends the person's sessions, tokens and calendar feed URL: "
                    "they sign in again.",
    )
    reset_password: bool = Field(
        default=False,
        description="The current password stops working at once, every session, token and "
                    "calendar feed URL of the account ends, and the person is emailed a "
                    "one-time link to choose a new password (valid for "
                    "RINGFENCE_SET_PASSWORD_LINK_HOURS, 24 by default), saying who asked.",
    )
    password: RefusedPassword = Field(default=None, exclude=True)
