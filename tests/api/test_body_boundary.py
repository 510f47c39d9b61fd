"""The access check and the handler read one body, whatever the request's headers say.

Generated from the route table: every API route that takes a body is sent, by a team
manager and by a senior manager, a body that names records and people outside their reach
(another service area's team, case, NQSW and managers), under each spelling of the
content type an attacker would try. A JSON media type however spelt (letter case,
parameters) must be read as JSON by the check too, so the out-of-reach names are refused;
anything else must be refused before the handler sees it (415). Any 2xx fails the test.
A route added later is covered without editing this file.

On SQLite every route is probed as both roles with every spelling. On PostgreSQL every
route and every spelling is probed as the team manager only: what the boundary reads and
refuses does not depend on the database (the media type, charset and size are judged
before any query), so the second role there repeated SQLite's answer. The team manager's
probe still runs the access check's lookups and reads the audit trail through PostgreSQL,
the reproduction below runs on both, and each role's reach is read through both databases
by tests/api/test_access_matrix.py.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api.boundary import BoundaryRoute, body_kind, media_type
from app.auth.access_index import api_routes
from app.main import create_app
from app.models import Allocation, AuditEvent
from app.settings import Settings
from tests.api.test_access_matrix import Family, World, _ids, build_world

# Spellings of the JSON media type that HTTP says are the same type: the check must read
# these bodies exactly as the handler does.
JSON_SPELLINGS = (
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    'APPLICATION/JSON;Charset="UTF-8"',
)
# Anything else a client might send a JSON text with: refused before any handler runs.
OTHER_SPELLINGS = (
    None,  # no Content-Type at all
    "text/plain",
    "application/merge-patch+json",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "json",
)
ROLES = (
    "team_manager",  # on both databases
    pytest.param("senior_manager", marks=pytest.mark.only_backend("sqlite")),
)


def _body_route_keys() -> dict[str, str]:
    """Every API change that takes a body, and its kind, read from the application."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'routes.db'}", data_dir=Path(tmp),
            scheduler_enabled=False,
        ))
        keys = {key: kind for key, route in api_routes(app)
                if key.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE")
                and (kind := body_kind(route)) is not None}
        app.state.engine.dispose()
    return keys


BODY_ROUTES = _body_route_keys()


def _person_for(field: str, family: Family) -> int:
    people = family.people
    for role in ("team_manager", "senior_manager", "advanced_practitioner"):
        if field.startswith(role):
            return people[role].id or 0
    if field.startswith("supervisor") or field.startswith("manager"):
        return people["team_manager"].id or 0
    return family.nqsw


RECORD_FIELDS = {
    "team_id": lambda f: f.team, "case_id": lambda f: f.case,
    "service_area_id": lambda f: f.area, "area_id": lambda f: f.area,
    "enrolment_id": lambda f: f.enrolment, "allocation_id": lambda f: f.allocation,
    "breach_id": lambda f: f.breach,
}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            if options:
                return _resolve(options[0], document)
    return schema


def _value(name: str, schema: dict[str, Any], document: dict[str, Any], hostile: Family,
           depth: int = 0) -> Any:
    """A plausible value for a field; record and person ids name the hostile family."""
    schema = _resolve(schema, document)
    if name in RECORD_FIELDS:
        return RECORD_FIELDS[name](hostile)
    if name.endswith("_id") and schema.get("type") in ("integer", None):
        return _person_for(name, hostile)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return {}
        return {key: _value(key, sub, document, hostile, depth + 1)
                for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 0.5)
    if schema.get("format") == "date":
        return "2026-11-02"
    if name.endswith("_time"):
        return "10:00"
    if schema.get("format") == "date-time":
        return "2026-11-02T10:00:00Z"
    if schema.get("format") == "email":
        return "probe@boundary.invalid"
    return "boundary probe"


def _hostile_body(key: str, document: dict[str, Any], hostile: Family) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    operation = document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {})
    body = _value("body", schema, document, hostile)
    return body if isinstance(body, dict) else {}


def _names_out_of_reach(body: dict[str, Any]) -> bool:
    return any(key.endswith("_id") for key in body)


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session)


@pytest.fixture
def anonymous(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session) as client:
        yield client


def _send(client: TestClient, method: str, url: str, token: str, raw: bytes,
          content_type: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.request(method, url, content=raw, headers=headers).status_code


def test_the_route_table_has_bodies_to_probe() -> None:
    assert len(BODY_ROUTES) > 20 and "PATCH /api/v1/allocations/{allocation_id}" in BODY_ROUTES


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(BODY_ROUTES))
def test_no_spelling_of_the_media_type_gets_a_body_past_the_check(
    key: str, role: str, anonymous: TestClient, world: World, app_on_test_session: FastAPI,
    db_session: Session,
) -> None:
    """Every JSON spelling gets exactly the canonical answer (the check read the body the
    handler would act on), never a 2xx while the body names anyone out of reach; every
    other spelling is refused before the handler (415, or the refusal that needs no body)."""
    method, template = key.split(" ", 1)
    url = template.format(**_ids(world, world.own, role))
    body = _hostile_body(key, app_on_test_session.openapi(), world.other)
    raw = json.dumps(body).encode()
    token = world.tokens[role]
    actors_before = set(db_session.exec(select(AuditEvent.actor_id)).all())
    kind = BODY_ROUTES[key]
    canonical = None
    if kind == "json" and _names_out_of_reach(body):
        answers = {spelling: _send(anonymous, method, url, token, raw, spelling)
                   for spelling in JSON_SPELLINGS}
        canonical = answers["application/json"]
        assert not 200 <= canonical < 300, f"{key} accepted {body}"
        assert set(answers.values()) == {canonical}, f"{key}: {answers}"
    before_body = _send(anonymous, method, url, token, b"", None)
    for spelling in OTHER_SPELLINGS:
        if kind == "form" and spelling and media_type(spelling)[0] in (
            "application/x-www-form-urlencoded", "multipart/form-data"
        ):
            continue
        if kind == "upload" and spelling and media_type(spelling)[0] == "multipart/form-data":
            continue  # the upload's own type: its parts are checked by the route
        status = _send(anonymous, method, url, token, raw, spelling)
        assert status == 415 or (status in (401, 403, 404) and status == before_body), (
            f"{key} [{spelling}] -> {status}"
        )
    # Nobody was recorded as having acted who did not sign in.
    actors = set(db_session.exec(select(AuditEvent.actor_id)).all()) - actors_before
    signed_in = world.principal(role).id
    assert actors <= {signed_in, None}, f"audit names {actors - {signed_in, None}}"


def test_the_reproduction_moves_nothing(
    anonymous: TestClient, world: World, db_session: Session
) -> None:
    """PATCH /allocations/{id} naming a worker in another service area, as `application/json`
    and as `Application/JSON`: both refused, and the allocation stays where it was. Naming
    a worker within reach, the same spellings are accepted (the check reads them as JSON)."""
    url = f"/api/v1/allocations/{world.own.allocation}"
    token = world.tokens["team_manager"]
    outsider = json.dumps({"worker_id": world.other.nqsw}).encode()
    for spelling in ("application/json", "Application/JSON", "APPLICATION/JSON; charset=UTF-8"):
        assert _send(anonymous, "PATCH", url, token, outsider, spelling) == 403
    db_session.expire_all()
    allocation = db_session.get(Allocation, world.own.allocation)
    assert allocation is not None and allocation.worker_id == world.own.nqsw
    assert _send(anonymous, "PATCH", url, token, outsider, None) == 415
    assert _send(anonymous, "PATCH", url, token, outsider, "text/plain") == 415


def test_every_api_route_is_behind_the_boundary(app: FastAPI) -> None:
    """A route built without the boundary's route class would skip the ordered checks;
    `authorize` refuses such a route at request time, and this finds it before then."""
    outside = [key for key, route in api_routes(app) if not isinstance(route, BoundaryRoute)]
    assert outside == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", ("application/json", {})),
        ("Application/JSON; Charset=UTF-8", ("application/json", {"charset": "UTF-8"})),
        ('application/json;charset="utf-8"', ("application/json", {"charset": "utf-8"})),
        ("text/plain", ("text/plain", {})),
        ("json", ("json", {})),
        (None, ("", {})),
    ],
)
def test_media_types_are_read_as_http_says(header: str | None,
                                           expected: tuple[str, dict[str, str]]) -> None:
    assert media_type(header) == expected
