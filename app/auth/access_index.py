"""Matching the application's routes to the access table, once per application.

Routes are keyed as `"METHOD /api/v1/path/{template}"`, exactly as the access table and
the OpenAPI document write them. The index is built on first use from the effective
route table (FastAPI keeps included routers wrapped; `iter_route_contexts` gives the
prefixed paths), and it remembers, per route, whether the handler receives the principal
(which is what lets a scoped list through, see app.auth.rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.access_table import ACCESS
from app.auth.rules import Rule

API_PREFIX = "/api/v1"


E = TypeVar("E")
IndexT = TypeVar("IndexT")


@dataclass(frozen=True)
class Entry:
    key: str
    rule: Rule
    takes_principal: bool


@dataclass
class RouteIndex(Generic[E]):
    """Rules matched to route objects, for the API's table and the pages' alike: a
    request finds its rule by the route it was matched to, never by re-reading its path,
    so the rule applied is the one checked when the index was built. `missing` names
    routes with no rule (refused), `stale` rules with no route."""

    by_route: dict[tuple[int, str], E] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    def lookup(self, request: Request) -> E | None:
        route = request.scope.get("route")
        if route is None:
            return None
        return self.by_route.get((id(route), request.method))


@dataclass
class AccessIndex(RouteIndex[Entry]):
    lists_without_principal: list[str] = field(default_factory=list)


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every (key, route) under /api/v1, one per method."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path_format or ""
        if not isinstance(route, APIRoute) or not path.startswith(API_PREFIX):
            continue
        for method in sorted(context.methods or ()):
            yield f"{method} {path}", route


def dependency_calls(dependant: Any) -> Iterator[Any]:
    """Every callable a route depends on, however deeply (to find a guard or the
    principal among them)."""
    yield dependant.call
    for sub in dependant.dependencies:
        yield from dependency_calls(sub)


def takes_principal(route: APIRoute) -> bool:
    from app.auth.dependencies import current_principal

    return any(call is current_principal for call in dependency_calls(route.dependant))


def build_index(app: FastAPI, table: dict[str, Rule] | None = None) -> AccessIndex:
    table = ACCESS if table is None else table
    index = AccessIndex()
    seen: dict[tuple[int, str], str] = {}
    keys: set[str] = set()
    for key, route in api_routes(app):
        keys.add(key)
        method = key.split(" ", 1)[0]
        slot = (id(route), method)
        if slot in seen and seen[slot] != key:
            # One route object mounted at two paths: refuse both rather than guess.
            index.by_route.pop(slot, None)
            index.missing.append(key)
            continue
        seen[slot] = key
        rule = table.get(key)
        if rule is None:
            index.missing.append(key)
            continue
        entry = Entry(key=key, rule=rule, takes_principal=takes_principal(route))
        if rule.lists and not rule.targets and not entry.takes_principal and _has_scope(rule):
            index.lists_without_principal.append(key)
        index.by_route[slot] = entry
    index.stale = sorted(set(table) - keys)
    return index


def _has_scope(rule: Rule) -> bool:
    return any(grant.value != "all" for grant in rule.grants.values())


def built_once(app: Any, name: str, build: Callable[[Any], IndexT]) -> IndexT:
    """The index kept on the application's state as `name`, built on first use: routes
    do not change once the application runs, and every request looks its rule up."""
    index = getattr(app.state, name, None)
    if index is None:
        index = build(app)
        setattr(app.state, name, index)
    return index


def access_index(app: Any) -> AccessIndex:
    return built_once(app, "access_index", build_index)
