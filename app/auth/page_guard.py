"""Who is looking at a page, and may they: the one dependency every HTML page goes through.

`authorize_page` is attached to the pages' router itself (app/web/__init__.py), so a page
added to any of its routers is covered without its author doing anything; what it does
for that page is looked up in app/auth/page_access.py by method and path template, and a
page with no line is refused to everyone.

Order of checks, as for the API (app/auth/dependencies.py): signed in (else a trip to
`/login?next=...`) -> read-only token used for a change (403) -> role (403) -> the
records the request names (404 for a record in the path that is out of reach or missing,
so existence stays private; 403 for one named in the query or the form). CSRF tokens are
checked earlier, by middleware, on every state-changing request.

Pages are for people: unlike the API, the test suite's all-access principal gets no
special treatment here (it has no staff record and so no role: only the public pages
let it through, as for any account without a person). And pages never widen a person's
reach: the route's grant is not stored on the principal, so a page's lists are always
filtered to the person's own reach.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import TypeAdapter
from sqlmodel import Session

from app.auth.access_index import API_PREFIX, RouteIndex, built_once, dependency_calls
from app.auth.dependencies import UNSAFE_METHODS, authenticate
from app.auth.page_access import OUTSIDE, PAGE_ACCESS
from app.auth.principal import Principal
from app.auth.rules import Grant, Rule, Target
from app.auth.schemas import MAX_ID
from app.auth.subjects import resolve
from app.clock import today
from app.db import SessionDep
from app.settings import Settings

log = logging.getLogger("ringfence.auth")

PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
_INT: TypeAdapter[int] = TypeAdapter(int)
NOT_FOUND_MESSAGE = "If you typed the web address, check it is correct."


class SignInRequired(Exception):
    """No live session: the pages send the visitor to sign in, and back afterwards."""


class PageRefused(Exception):
    """The signed-in person may not use this page (403), or may not know the record (404)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class PageTableError(RuntimeError):
    """A page rule that cannot be applied as written (checked when the index is built)."""


# ---- the index: the application's page routes matched to the table -------------------


@dataclass(frozen=True)
class PageEntry:
    key: str
    rule: Rule


@dataclass
class PageIndex(RouteIndex[PageEntry]):
    # Routes that are neither guarded nor listed in OUTSIDE nor under the API.
    unguarded: list[str] = field(default_factory=list)


def application_routes(app: FastAPI) -> Iterator[tuple[str, Any, bool]]:
    """Every (key, route, guarded) outside the API, one per method.

    `guarded` says whether `authorize_page` runs for the route (it is among the
    dependencies the route effectively has, e.g. from the router it was included in).
    Mounts are keyed `MOUNT /path`.
    """
    for context in iter_route_contexts(app.routes):
        path = context.path_format or context.path or ""
        if path.startswith(API_PREFIX):
            continue
        route = context.original_route
        methods = set(getattr(context, "methods", None) or getattr(route, "methods", None) or ())
        if not methods:
            yield f"MOUNT {path.removesuffix('/{path}')}", route, False
            continue
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette answers HEAD for every GET route
        dependant = getattr(context, "dependant", None)  # the effective route's, with
        # the dependencies of every router it was included through
        guarded = dependant is not None and any(
            call is authorize_page for call in dependency_calls(dependant)
        )
        for method in sorted(methods):
            yield f"{method} {path}", route, guarded


def build_page_index(app: FastAPI, table: Mapping[str, Rule] | None = None) -> PageIndex:
    table = PAGE_ACCESS if table is None else table
    index = PageIndex()
    guarded_keys: set[str] = set()
    for key, route, guarded in application_routes(app):
        if not guarded:
            if key not in OUTSIDE and key not in table:
                index.unguarded.append(key)
            continue
        guarded_keys.add(key)
        rule = table.get(key)
        if rule is None:
            index.missing.append(key)
            continue
        _check_rule_fits(key, rule)
        index.by_route[(id(route), key.split(" ", 1)[0])] = PageEntry(key=key, rule=rule)
    index.stale = sorted(set(table) - guarded_keys)
    return index


def _check_rule_fits(key: str, rule: Rule) -> None:
    """A path target must name one of the route's path parameters (or it would never be
    checked), and a form target must be optional (the form explains a missing field)."""
    params = set(PATH_PARAM.findall(key))
    for target in rule.targets:
        if target.source == "path" and target.param not in params:
            raise PageTableError(f"{key}: the rule names path parameter {target.param!r}, "
                                 "which the page does not have")
        if target.source == "body" and not target.optional:
            raise PageTableError(f"{key}: a page's form target must be optional")


def page_index(app: Any) -> PageIndex:
    return built_once(app, "page_index", build_page_index)


# ---- the dependency ---------------------------------------------------------------------


async def _form_fields(request: Request) -> Mapping[str, Any] | None:
    """The submitted form, when the page's rule names a record in it.

    Starlette keeps the parsed form on the request, so the handler reads exactly the
    form checked here. A form that cannot be read is refused rather than passed over.
    """
    if request.method not in UNSAFE_METHODS:
        return None
    entry = page_index(request.app).lookup(request)
    if entry is None or not any(t.source == "body" for t in entry.rule.targets):
        return None
    try:
        return await request.form()
    except Exception as exc:
        raise PageRefused(400, "The form could not be read: reload the page and try "
                               "again.") from exc


def authorize_page(
    request: Request,
    session: SessionDep,
    form: Annotated[Mapping[str, Any] | None, Depends(_form_fields)],
) -> None:
    """Let the page through, or send the visitor to sign in, or refuse (see the module)."""
    entry = page_index(request.app).lookup(request)
    if entry is not None and entry.rule.public:
        return
    principal = authenticate(request, session)
    if principal is None:
        raise SignInRequired()
    request.state.principal = principal
    if entry is None:
        key = f"{request.method} {request.url.path}"
        log.error("no page access rule for %s: refused", key)
        raise PageRefused(403, "This page has no access rule yet, so it is refused.")
    if request.method in UNSAFE_METHODS and not principal.can_write:
        raise PageRefused(403, "You signed in with a read-only token: it cannot change "
                               "anything.")
    _check_rule(request, session, principal, entry.rule, form)


def _check_rule(
    request: Request, session: Session, principal: Principal, rule: Rule,
    form: Mapping[str, Any] | None,
) -> None:
    grant = rule.grant_for(principal.role)
    if grant is None:
        raise PageRefused(403, "Your role does not give you access to this page.")
    if grant is Grant.ALL:
        return
    for target in rule.targets:
        for ident in _target_values(request, target, form):
            subject = resolve(session, target.kind, ident, today()) if _is_id(ident) else None
            if subject is not None and principal.permits(grant.value, subject):
                continue
            if target.source == "path" and (subject is None or rule.hide):
                raise PageRefused(404, NOT_FOUND_MESSAGE)
            what = target.kind.replace("_", " ")
            raise PageRefused(403, f"That {what} is not one you can reach.")


def _target_values(
    request: Request, target: Target, form: Mapping[str, Any] | None
) -> set[int]:
    """Every record id the request names for `target` (none when it names none).

    A value is read the way any handler might read it (Pydantic, as FastAPI and the forms
    do, or `int()`), and every reading is checked, so no handler can find a record in a
    value the guard passed over. Where the query or a form repeats a name, every value is
    checked. A path parameter that is no whole number gets the validation answer the page
    would have given; in the query or a form it is left to the handler to explain.
    """
    if target.source == "path":
        raws: list[Any] = [request.path_params.get(target.param)]
    elif target.source == "query":
        raws = request.query_params.getlist(target.param)
    else:
        raws = _getlist(form, target.param)
    found: set[int] = set()
    for raw in raws:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        readings = _readings(raw)
        if not readings and target.source == "path":
            raise RequestValidationError([{
                "type": "int_parsing", "loc": ("path", target.param),
                "msg": "Input should be a valid integer", "input": raw,
            }])
        found |= readings
    return found


def _readings(raw: Any) -> set[int]:
    readings: set[int] = set()
    for parse in (_INT.validate_python, int):
        try:
            readings.add(int(parse(raw)))
        except (TypeError, ValueError):  # Pydantic's ValidationError is a ValueError
            continue
    return readings


def _getlist(form: Mapping[str, Any] | None, name: str) -> list[Any]:
    if form is None:
        return []
    getlist = getattr(form, "getlist", None)
    return list(getlist(name)) if getlist is not None else [form.get(name)]


def _is_id(ident: int) -> bool:
    return 0 <= ident <= MAX_ID


def within_reach(session: Session, principal: Principal | None, kind: str, ident: int) -> bool:
    """Whether the person reaches a record a page names in some other way (e.g. a case by
    its reference): the same decision the table's targets get."""
    if principal is None:
        return False
    if not _is_id(ident):
        return False
    subject = resolve(session, kind, ident, today())
    return subject is not None and principal.can_see(subject)


def page_table_problems(app: FastAPI) -> list[str]:
    """Pages without a rule, for start-up (production refuses to start on any). Building
    the index also checks that every rule fits its page (PageTableError otherwise)."""
    return [f"no page access rule for {key}" for key in build_page_index(app).missing]


def check_page_table(app: FastAPI, settings: Settings) -> None:
    """At start-up: production refuses to start with a page that has no rule."""
    problems = page_table_problems(app)
    if problems and settings.mode == "production":
        raise PageTableError("; ".join(problems))
    for problem in problems:
        log.warning(problem)
