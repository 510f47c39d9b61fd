"""Signing in for the API, the caller's own account and tokens, and accounts for admins.

`POST /auth/token` is the OAuth2 password flow (what `/docs` uses to authorise); an
account with a second factor sends its current code too, as the `totp` field. Failed
attempts are answered with a response rather than an exception, so that the attempt and
its audit event are committed with the request: that is what the throttle counts. A
token issued is audited (`token.create`) beside the sign-in (`auth.login`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from app.api.boundary import BoundaryRoute
from app.api.deps import PageDep
from app.auth import accounts, sessions, tokens
from app.auth import second_factor as factor
from app.auth.dependencies import PrincipalDep, client_address, forbidden
from app.auth.schemas import (
    ADMIN_PASSWORD_REFUSED,
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    IdPath,
    Me,
    PersonalTokenCreate,
    PersonalTokenCreated,
    PersonalTokenPublic,
    TokenResponse,
)
from app.db import SessionDep
from app.errors import DomainError, NotFound
from app.models import Account
from app.repositories import account as repo
from app.schemas.common import ErrorItem, Page, TokenError

router = APIRouter(route_class=BoundaryRoute, tags=["accounts"])

_BAD_CREDENTIALS = "Incorrect email or password."


def _oauth_error(status_code: int, error: str, description: str, *,
                 loc: tuple[str, ...] = ("body",),
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape, with RFC 6749's `error` and `error_description` beside it."""
    body = TokenError(error=error, error_description=description,
                      detail=[ErrorItem(loc=list(loc), msg=description, type=error)])
    return JSONResponse(status_code=status_code, content=body.model_dump(), headers=headers)


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={
        400: {"model": TokenError, "description": "Wrong email or password (never says which)."},
        401: {"model": TokenError,
              "description": "The account has a second factor: a right `totp` is needed."},
        429: {"model": TokenError, "description": "Too many failed attempts; see Retry-After."},
    },
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    totp: Annotated[str | None, Form(max_length=40, description=(
        "The current code from the authenticator app (or a recovery code), for an account "
        "with a second factor."))] = None,
) -> Response:
    """Exchange an email (`username`) and password for a bearer token that expires. An
    account with a second factor also sends its current code as `totp`."""
    requested = tuple(form.scopes) or tokens.USER_SCOPES
    if any(scope not in tokens.USER_SCOPES for scope in requested):
        return _oauth_error(400, "invalid_scope", "scopes are 'read' and 'write'",
                            loc=("body", "scope"))
    settings = request.app.state.settings
    result = accounts.authenticate(
        session, email=form.username, password=form.password, address=client_address(request),
        production=settings.mode == "production",
    )
    if result.throttled:
        return _oauth_error(
            429, "slow_down", "Too many failed attempts. Try again later.",
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.account is None:
        return _oauth_error(400, "invalid_grant", _BAD_CREDENTIALS)
    refused = _second_factor(request, session, result.account, totp)
    if refused is not None:
        return refused
    minutes = settings.token_minutes
    secret, token = tokens.issue_access_token(
        session, result.account, minutes=minutes, scopes=tuple(sorted(set(requested)))
    )
    tokens.audit_issued(session, token, actor_id=result.account.staff_id,
                        address=client_address(request))
    answer = TokenResponse(
        access_token=secret, expires_in=minutes * 60, scope=" ".join(sorted(set(requested)))
    )
    # Tokens must not be kept by caches along the way (RFC 6749 section 5.1).
    return JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store",
                                                      "Pragma": "no-cache"})


def _second_factor(
    request: Request, session: SessionDep, account: Account, code: str | None
) -> Response | None:
    """The refusal when the account needs a second factor the request has not given
    (app.auth.second_factor); None when none is needed or the code is right."""
    settings = request.app.state.settings
    if not factor.required(session, account, settings):
        return None
    if not factor.has_second_factor(account):
        return _oauth_error(400, "invalid_grant", "A second factor must be set up first: "
                            "sign in on the pages to set it up.", loc=("body", "totp"))
    if not code:
        return _oauth_error(401, "invalid_grant", "A code from the authenticator app is "
                            "needed: send it as 'totp'.", loc=("body", "totp"))
    outcome = factor.check(session, account, code, address=client_address(request))
    if outcome.throttled:
        return _oauth_error(429, "slow_down", "Too many wrong codes. Try again later.",
                            loc=("body", "totp"),
                            headers={"Retry-After": str(outcome.retry_after)})
    if not outcome.ok:
        return _oauth_error(401, "invalid_grant", "The code is wrong or has been used.",
                            loc=("body", "totp"))
    return None


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_current(principal: PrincipalDep, session: SessionDep) -> Response:
    """Sign out: the token (or page session) used for this request stops working now."""
    if principal.token_id is not None:
        token = repo.token(session, principal.token_id)
        if token is not None:
            tokens.revoke(session, token, actor_id=principal.staff_id, reason="signed_out")
    if principal.session_id is not None:
        row = repo.login_session(session, principal.session_id)
        if row is not None:
            sessions.end(session, row, actor_id=principal.staff_id, reason="logout")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(principal: PrincipalDep) -> Me:
    """Who the API thinks you are, and what your credentials allow."""
    return Me(
        account_id=principal.account_id,
        email=principal.email,
        staff_id=principal.staff_id,
        name=principal.name,
        role=principal.role,
        scopes=sorted(principal.scopes),
        via="session" if principal.via == "session" else "token",
    )


@router.get("/me/tokens")
def list_personal_tokens(
    principal: PrincipalDep, session: SessionDep
) -> Page[PersonalTokenPublic]:
    """Your personal tokens, every one (never their secrets)."""
    rows = repo.personal_tokens(session, principal.account_id)
    return Page(data=[PersonalTokenPublic.model_validate(t) for t in rows], count=len(rows))


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_personal_token(
    body: PersonalTokenCreate, principal: PrincipalDep, session: SessionDep
) -> PersonalTokenCreated:
    """A token for an integration. Needs a fresh sign-in: a personal token cannot mint more."""
    if principal.token_kind == tokens.PERSONAL:
        raise forbidden("sign in with your password to create a personal token")
    account = repo.account(session, principal.account_id)
    if account is None:
        raise NotFound("account", principal.account_id, field=["header", "Authorization"])
    secret, token = tokens.create_personal_token(
        session, account, name=body.name, scopes=tuple(sorted(set(body.scopes))),
        expires_in_days=body.expires_in_days, actor_id=principal.staff_id,
    )
    return PersonalTokenCreated(
        **PersonalTokenPublic.model_validate(token).model_dump(), token=secret
    )


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_personal_token(
    token_id: IdPath, principal: PrincipalDep, session: SessionDep
) -> Response:
    tokens.revoke_personal_token(
        session, account_id=principal.account_id, token_id=token_id, actor_id=principal.staff_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/accounts")
def list_accounts(
    principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[AccountPublic]:
    rows, count = repo.list_accounts(session, limit=page.limit, offset=page.offset)
    return Page(
        data=[AccountPublic.model_validate(accounts.describe(session, a)) for a in rows],
        count=count,
    )


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
def create_account(
    body: AccountCreate, principal: PrincipalDep, session: SessionDep, request: Request
) -> AccountPublic:
    """An account for a staff member. It has no password: the person is emailed a
    one-time link to choose their own, so no admin ever knows it."""
    if body.password is not None:
        raise DomainError(ADMIN_PASSWORD_REFUSED, field="password")
    if body.staff_id is None and body.role is None and body.name is not None:
        raise DomainError("give a role to add a new staff member", field="role")
    account = accounts.create_account(
        session, email=body.email, role=body.role.value if body.role else None, name=body.name,
        staff_id=body.staff_id, actor_id=principal.staff_id, own_email_only=True,
    )
    accounts.send_password_link(session, account, requested_by=principal,
                                settings=request.app.state.settings)
    return AccountPublic.model_validate(accounts.describe(session, account))


@router.get("/accounts/{account_id}")
def get_account(account_id: IdPath, principal: PrincipalDep, session: SessionDep) -> AccountPublic:
    account = _account(session, account_id)
    return AccountPublic.model_validate(accounts.describe(session, account))


@router.patch("/accounts/{account_id}")
def update_account(
    account_id: IdPath, body: AccountUpdate, principal: PrincipalDep, session: SessionDep,
    request: Request,
) -> AccountPublic:
    """Switch an account off or on, change the person's role, or reset the password (the
    person is emailed a one-time link to choose a new one). Each ends the account's
    sessions and tokens."""
    if body.password is not None:
        raise DomainError(ADMIN_PASSWORD_REFUSED, field="password")
    account = _account(session, account_id)
    accounts.update_account(
        session, account, is_active=body.is_active,
        role=body.role.value if body.role else None, reset=body.reset_password,
        actor=principal, settings=request.app.state.settings,
    )
    return AccountPublic.model_validate(accounts.describe(session, account))


def _account(session: SessionDep, account_id: int) -> Account:
    account = repo.account(session, account_id)
    if account is None:
        raise NotFound("account", account_id, field=["path", "account_id"])
    return account
