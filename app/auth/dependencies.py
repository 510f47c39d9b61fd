"""Who is calling, and may they: the checks every `/api/v1` route goes through.

The checks run in the API's boundary (app/api/boundary.py), around each route, in a fixed
order: `admit` before a byte of the body is read, `check_request` on the one parsed body
that the handler then acts on. What they do for a route is looked up in the access table
(app/auth/access_table.py) by method and path template. A route with no entry is refused,
and the access matrix test fails until one is written. `authorize`, the API router's
dependency, refuses any request that did not come through the boundary.

Order of checks: credentials (401) -> read-only token used for a change (403) -> role
(403) -> [the body is read, limited and parsed] -> changes recorded in someone else's name
(403) -> the records named: one that does not exist is a 404 naming its path parameter or
body field; one out of reach is a 404 in the path (its existence is private) and a 403
naming the field in the body or query. CSRF tokens are checked earlier, by middleware.
Refusals have the service's one error shape, `{"detail": [{"loc": [...], "msg": ...,
"type": ...}]}`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.auth import accounts, sessions, tokens
from app.auth.access_index import Entry, access_index
from app.auth.access_table import ACTOR_FIELDS
from app.auth.principal import Principal
from app.auth.reach import Subject
from app.auth.rules import Grant, Rule, Target
from app.auth.schemas import MAX_ID
from app.auth.subjects import resolve
from app.clock import today
from app.settings import Settings
from app.wording import a_role

log = logging.getLogger("ringfence.auth")

TOKEN_URL = "/api/v1/auth/token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="Sign in with your email and password to get a bearer token.",
)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def unauthorised(detail: str = "sign in first", *, invalid: bool = False) -> HTTPException:
    header = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": header})


def _problem(status_code: int, loc: tuple[str, ...], msg: str, kind: str) -> HTTPException:
    """An answer in the service's one error shape, `{"detail": [{"loc", "msg", "type"}]}`
    (the shape of a validation error and of every business rule's answer)."""
    return HTTPException(status_code, detail=[{"loc": list(loc), "msg": msg, "type": kind}])


def forbidden(detail: str, *, loc: tuple[str, ...] = ("path",)) -> HTTPException:
    """403: the caller may not do this (`loc` names the field that says why, if one does)."""
    return _problem(status.HTTP_403_FORBIDDEN, loc, detail, "forbidden")


def not_found(what: str, ident: object, *, loc: tuple[str, ...] = ("path",)) -> HTTPException:
    """404 naming the path parameter or body field whose record does not exist (or, in the
    path, is out of reach: its existence is private)."""
    return _problem(status.HTTP_404_NOT_FOUND, loc, f"{what} {ident} not found", "not_found")


# How the answers name each kind of record.
KIND_WORDS = {"staff": "staff member", "colleague": "staff member", "area": "service area",
              "protected_time": "diary entry", "supervision": "supervision session",
              "sign_off": "sign-off"}


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts the proxy's X-Forwarded-For here when trusted)."""
    return request.client.host if request.client else "unknown"


def authenticate(request: Request, session: Session) -> Principal | None:
    """The principal behind the request's bearer token or session cookie, if any.

    A request that presents a bearer token is judged on that token alone: a bad one is a
    401 even if a cookie is also present.
    """
    settings = _settings(request)
    all_access_allowed = settings.mode != "production"
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise unauthorised("use a bearer token", invalid=True)
        token = tokens.resolve(session, value)
        if token is None:
            raise unauthorised("the token is invalid, expired or revoked", invalid=True)
        principal = accounts.principal_for(
            session, accounts.Holder.from_row(token), scopes=tokens.scopes_of(token),
            via="token", all_access_allowed=all_access_allowed, token_id=token.token_id,
            token_kind=token.kind,
        )
        if principal is None:
            raise unauthorised("the account is not active", invalid=True)
        return principal
    cookie = request.cookies.get(sessions.cookie_name(settings))
    if cookie:
        held = sessions.load_with_holder(session, cookie, settings)
        if held is not None:
            row, account, staff = held
            principal = accounts.principal_for(
                session, accounts.Holder.of(account, staff), scopes=frozenset({"read", "write"}),
                via="session", all_access_allowed=False, session_id=row.id,
            )
            if principal is not None:
                request.state.login_session = row
                return principal
    return None


@dataclass(frozen=True)
class Admitted:
    """What the boundary learnt before reading the body: the route's access entry and who
    is calling (None for a public route)."""

    entry: Entry | None
    principal: Principal | None


def admit(request: Request, session: Session) -> Admitted:
    """Credentials (401), then the channel and the caller's role (403): everything that can
    be decided before a byte of the body is read (app.api.boundary calls this first)."""
    entry = access_index(request.app).lookup(request)
    if entry is not None and entry.rule.public:
        request.state.principal = None
        return Admitted(entry=entry, principal=None)
    principal = authenticate(request, session)
    if principal is None:
        raise unauthorised()
    request.state.principal = principal
    if entry is None:
        _unregistered(request, principal)
        return Admitted(entry=None, principal=principal)
    _check_channel(request, principal)
    if not principal.all_access:
        _check_grant(principal, entry)
    return Admitted(entry=entry, principal=principal)


def check_request(request: Request, session: Session, admitted: Admitted, body: Any) -> None:
    """Who the body says acts, and every record the path, query and body name, checked
    against the caller's reach; `body` is the one parsed body the handler will act on."""
    principal, entry = admitted.principal, admitted.entry
    if principal is not None and entry is not None and not principal.all_access:
        _check_actor(principal, body)
        _check_targets(request, session, principal, entry, body)
    request.state.admitted = True


async def authorize(
    request: Request,
    _bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> None:
    """The API router's dependency: refuse any request that did not pass the boundary.

    Asynchronous because it only reads the request's state: no trip through the thread
    pool on every call.

    The checks themselves run in app.api.boundary, around each route, because they must
    come before the body is read; this only makes a route that was built without the
    boundary fail closed (and gives the OpenAPI document its sign-in scheme).
    """
    if not getattr(request.state, "admitted", False):
        log.error("%s %s was not checked by the boundary: refused", request.method,
                  request.url.path)
        raise forbidden("this route is not behind the access check, so it is refused")


def _unregistered(request: Request, principal: Principal) -> None:
    key = f"{request.method} {request.url.path}"
    if principal.all_access:
        log.warning("no access rule for %s: allowed for the test principal only", key)
        return
    log.error("no access rule for %s: refused", key)
    raise forbidden("this route has no access rule yet, so it is refused")


def _check_channel(request: Request, principal: Principal) -> None:
    """Changes need a token that may write (a browser session's CSRF token is checked for
    every state-changing request by app.auth.csrf.CSRFMiddleware, before any route runs)."""
    if request.method in UNSAFE_METHODS and not principal.can_write:
        raise forbidden("this token is read-only")


def _check_actor(principal: Principal, body: Any) -> None:
    """A change may only be recorded in the caller's own name."""
    if not isinstance(body, dict):
        return
    for name in ACTOR_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        try:
            same_person = int(value) == principal.staff_id and not isinstance(value, bool)
        except (TypeError, ValueError):
            continue  # not an id at all: the route's own validation answers 422
        if not same_person:
            raise forbidden(f"{name} names someone else: a change is recorded in the name "
                            f"of the person signed in, so leave {name} out",
                            loc=("body", name))


def _check_grant(principal: Principal, entry: Entry) -> None:
    """403 unless the caller's role has a grant on this route."""
    grant = entry.rule.grant_for(principal.role)
    if grant is None:
        raise forbidden(f"{a_role(principal.role or 'system')} account may not do this")
    principal.grant = grant.value


def _check_targets(
    request: Request, session: Session, principal: Principal, entry: Entry, body: Any
) -> None:
    rule = entry.rule
    grant = rule.grant_for(principal.role)
    if grant is None or grant is Grant.ALL:
        return
    if not rule.targets:
        if rule.lists and not entry.takes_principal:
            # The handler cannot filter to the caller's reach yet: only ALL grants apply.
            raise forbidden("this list is not yet filtered to your reach")
        return
    subjects = _subjects(request, session, rule, body)
    if not subjects:
        raise forbidden("name a record within your reach", loc=("body",))
    for target, subject in subjects:
        if principal.permits(grant.value, subject):
            continue
        loc = (target.source, target.param)
        if target.source != "path":
            raise forbidden(f"{target.param} is not within your reach", loc=loc)
        if rule.hide:
            raise not_found(kind_words(target.kind), subject.ident, loc=loc)
        raise forbidden(f"this {kind_words(target.kind)} is not within your reach", loc=loc)


def _subjects(
    request: Request, session: Session, rule: Rule, body: Any
) -> list[tuple[Target, Subject]]:
    """The records the request names; a name that matches no record is a 404 naming it.

    A body that is not a JSON object cannot name anything: that is bad input (422), not
    a question of reach.
    """
    if body is not None and not isinstance(body, dict) and any(
        t.source == "body" for t in rule.targets
    ):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Input should be a valid dictionary or object",
                                       "input": body}])
    found: list[tuple[Target, Subject]] = []
    for target in rule.targets:
        ident = _target_value(request, target, body)
        if ident is None:
            continue
        subject = resolve(session, target.kind, ident, today())
        if subject is None:
            raise not_found(kind_words(target.kind), ident, loc=(target.source, target.param))
        found.append((target, subject))
    return found


def _target_value(request: Request, target: Target, body: Any) -> int | None:
    if target.source == "path":
        raw: Any = request.path_params.get(target.param)
    elif target.source == "query":
        raw = request.query_params.get(target.param)
    else:
        raw = body.get(target.param) if isinstance(body, dict) else None
    if raw is None:
        if target.optional or target.source != "body":
            return None
        _invalid(target, raw, "Field required", "missing")
    if isinstance(raw, bool):
        _invalid(target, raw, "Input should be a valid integer", "int_type")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        _invalid(target, raw, "Input should be a valid integer", "int_parsing")
        raise AssertionError("unreachable") from None
    if not -MAX_ID <= value <= MAX_ID:
        _invalid(target, raw, f"Input should be less than or equal to {MAX_ID}",
                 "less_than_equal")
    if value < 1 and target.source != "path":
        # Record ids in a body or query start at 1, as the route's own schema says.
        _invalid(target, raw, "Input should be greater than or equal to 1", "greater_than_equal")
    return value


def _invalid(target: Target, raw: Any, msg: str, kind: str) -> None:
    raise RequestValidationError(
        [{"type": kind, "loc": (target.source, target.param), "msg": msg, "input": raw}]
    )


def current_principal(request: Request) -> Principal:
    """The principal `authorize` established for this request (401 when there is none)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise unauthorised()
    return principal


def optional_principal(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
