"""The error answers each API route documents, worked out from the route itself.

Every `/api/v1` route can be refused before its handler runs (app.api.boundary), and
those refusals follow from what the route is, not from what its handler does: any signed-in
route can answer 401 and 403, any route can answer 422, a route that takes a body 413 and
415, a change 409, a route that names a record (in its path, or a query or body field
ending in `_id`/`_ids`, or a target of its access rule) 404. Deriving the list here keeps
the OpenAPI document honest for all routes at once, and a new route documents its
answers without anyone typing them (docs/api.md, "Conventions";
tests/api/test_conventions.py checks the document).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, get_args

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from pydantic import BaseModel

from app.auth.access_table import ACCESS
from app.schemas.common import ErrorResponse, TokenError

API_PREFIX = "/api/v1"
CHANGE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESCRIPTIONS = {
    401: "Not signed in, or the token has expired or been revoked.",
    403: "Your role or reach does not allow this, or the token is read-only.",
    404: "A record named in the path, a query parameter or the body does not exist (in the "
         "path: or is out of your reach); `loc` names where it was named.",
    409: "The change conflicts with the record as it stands or with another record.",
    413: "The body is larger than the service accepts.",
    415: "The body is not sent as this route takes it (JSON, or a form for sign-in).",
    422: "The request is not valid; `loc` names what to fix.",
}

_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def _models(annotation: Any) -> Iterable[type[BaseModel]]:
    """The Pydantic models in a parameter's type (through `X | None` and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _models(arg)


def names_a_record(name: str) -> bool:
    """A field or parameter that names a stored record by its id."""
    return name.endswith(("_id", "_ids"))


def _dependants(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _request_names(path: str, endpoint: Callable[..., Any]) -> tuple[bool, set[str]]:
    """Whether the route takes a body, and the query and body fields it takes."""
    has_body = False
    names: set[str] = set()
    for dependant in _dependants(get_dependant(path=path, call=endpoint)):
        names.update(param.alias for param in dependant.query_params)
        for field in dependant.body_params:
            has_body = True
            names.add(field.alias)
            for model in _models(field.field_info.annotation):
                names.update(model.model_fields)
    return has_body, names


def documented_statuses(
    path: str, methods: Iterable[str], endpoint: Callable[..., Any]
) -> dict[int | str, dict[str, Any]]:
    """The error answers of the route at `path` (as its router writes it, under /api/v1)."""
    methods = {m.upper() for m in methods}
    rules = [ACCESS.get(f"{method} {API_PREFIX}{path}") for method in methods]
    public = any(rule is not None and rule.public for rule in rules)
    has_body, names = _request_names(path, endpoint)
    statuses = {422}
    if not public:
        statuses |= {401, 403}
        targets = any(rule is not None and rule.targets for rule in rules)
        if _PATH_PARAM.search(path) or targets or any(names_a_record(n) for n in names):
            statuses.add(404)
        if methods & CHANGE_METHODS:
            statuses.add(409)
    if methods & CHANGE_METHODS:
        statuses.add(413)
    if has_body:
        statuses.add(415)
    model = TokenError if public else ErrorResponse
    return {code: {"model": model, "description": DESCRIPTIONS[code]}
            for code in sorted(statuses)}


def with_documented_statuses(
    path: str, methods: Iterable[str] | None, endpoint: Callable[..., Any],
    responses: Mapping[int | str, dict[str, Any]] | None,
) -> dict[int | str, dict[str, Any]]:
    """`responses` as the route declared them, over the statuses it can answer with."""
    documented = documented_statuses(path, methods or ("GET",), endpoint)
    for code, declared in (responses or {}).items():
        documented[code] = {**documented.get(code, {}), **declared}
    return documented
