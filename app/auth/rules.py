"""The vocabulary of the access table: who may call a route, and on which records.

A `Rule` names, per role, a `Grant`:

- `ALL`: on any record (e.g. the ASYE coordinator reads everything);
- `SCOPE`: only on records within the person's reach (their own, their co-worked cases and
  those NQSWs, their team, their service area; see `app.auth.reach`);
- `SELF`: only on the person's own staff record (e.g. an NQSW books their own diary).

A role missing from a rule is refused (403). A `Target` says where the record a request
is about comes from (a path parameter, a body field or a query parameter) and what kind
of record it is; `SCOPE` and `SELF` are checked against it. Out-of-reach records answer
404 where their existence is private (`hide=True`, the default), 403 otherwise.

A `SCOPE` grant on a list (`lists=True`, no target) means "the handler filters the rows
to the caller's reach"; it only takes effect when the handler receives the principal
(`PrincipalDep`), otherwise scoped roles are refused. This keeps lists deny-by-default
until their service filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from app.models.base import Role


class Grant(StrEnum):
    ALL = "all"
    SCOPE = "scope"
    SELF = "self"


Source = Literal["path", "body", "query"]

# Kinds of record a target can name; each has a resolver in app.auth.subjects.
TargetKind = Literal[
    "staff",
    "case",
    "team",
    "area",
    "allocation",
    "breach",
    "enrolment",
    "adjustment",
    "protected_time",
    "supervision",
    "notification",
    "sign_off",
    # A person the caller names in a change (a supervisor, the managers of a sign-off, an
    # assessor): someone in a service area the caller works in or reaches, not
    # necessarily someone whose records they may read.
    "colleague",
]


@dataclass(frozen=True)
class Target:
    """Where the record a request is about comes from."""

    param: str
    kind: TargetKind
    source: Source = "path"
    # A body/query target that may be absent: then the scope check uses the other targets.
    optional: bool = False


@dataclass(frozen=True)
class Rule:
    grants: Mapping[str, Grant] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()
    public: bool = False
    hide: bool = True
    lists: bool = False
    note: str = ""

    def grant_for(self, role: str | None) -> Grant | None:
        return self.grants.get(role) if role else None


ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)
CASEWORK_ROLES: tuple[str, ...] = (
    Role.nqsw,
    Role.social_worker,
    Role.advanced_practitioner,
    Role.team_manager,
    Role.senior_manager,
)
MANAGERS: tuple[str, ...] = (Role.team_manager, Role.senior_manager)


def public(note: str = "") -> Rule:
    """No credentials needed (the token endpoint; feeds that carry their own secret)."""
    return Rule(public=True, note=note)


def signed_in(note: str = "") -> Rule:
    """Anyone signed in, on anything: organisation structure, their own `/me` records."""
    return Rule(grants=dict.fromkeys(ALL_ROLES, Grant.ALL), note=note)


def allow(
    *targets: Target,
    hide: bool = True,
    lists: bool = False,
    note: str = "",
    **grants: Grant,
) -> Rule:
    """A rule from role=grant keywords, e.g. `allow(path("case_id", "case"), nqsw=SCOPE)`."""
    unknown = set(grants) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles in access rule: {sorted(unknown)}")
    return Rule(grants=dict(grants), targets=targets, hide=hide, lists=lists, note=note)


def path(param: str, kind: TargetKind) -> Target:
    return Target(param=param, kind=kind, source="path")


def body(param: str, kind: TargetKind, *, optional: bool = False) -> Target:
    return Target(param=param, kind=kind, source="body", optional=optional)


def query(param: str, kind: TargetKind) -> Target:
    return Target(param=param, kind=kind, source="query", optional=True)
