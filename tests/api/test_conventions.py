"""The API's one convention (docs/api.md, "Conventions"), checked over its OpenAPI schema.

`convention_breaches` reads the document the application serves and names every operation
under /api/v1 that breaks a rule:

- every operation documents 422; every signed-in one (all but the public token endpoint)
  401 and 403 too, and 404 if it names a record: a path parameter, or a query parameter
  or body field ending in `_id`/`_ids`;
- every 4xx it documents has the one error schema (`ErrorResponse`: `detail`, a list of
  `{loc, msg, type}`), or for the token endpoint `TokenError` (the same, with RFC 6749's
  `error` and `error_description` beside it);
- every list is `{data, count}`: a 2xx answer is never a bare array, a paginated
  operation (`limit`/`offset`) answers `data` and `count`, and an answer whose one array is
  named after the path's last segment (`GET .../reviews` -> `reviews: [...]`) is a list
  under the wrong name;
- every operation with `on` in its body takes `on` in the query too, as the same date: its
  query parameter says so (app.schemas.common.given_date). A body's `on` is never some
  other day (an event's own day has a field of its own: `resumed_on`, `taken_on`, ...),
  and no route is an exception.

The checker is tested against deliberately broken documents, so a pass means something.
The rest of the module checks behaviour the schema cannot show: where a 404's `loc`
points, whichever role asked, and the token endpoint's error bodies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.access_table import ACCESS
from app.auth.testing import make_staff

pytestmark = pytest.mark.only_backend("sqlite")  # the schema is the same on both databases

API_PREFIX = "/api/v1"
ERROR_SCHEMAS = {"ErrorResponse", "TokenError"}
# What the query's `on` says on a route that reads `on` from the body too, as one date
# (app.schemas.common.given_date).
SAME_ON = "may be given here or as `on` in the body"
METHODS = {"get", "post", "put", "patch", "delete"}


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while (name := _ref_name(schema)) is not None:
        schema = document["components"]["schemas"][name]
    return schema


def _variants(document: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema and, through `anyOf`/`oneOf`/`allOf`, each alternative (resolved)."""
    schema = _resolve(document, schema)
    yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _variants(document, part)


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for variant in _variants(document, schema):
        found.update(variant.get("properties", {}))
    return found


def _is_array(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    return any(v.get("type") == "array" for v in _variants(document, schema))


def _json_schema(response: dict[str, Any]) -> dict[str, Any] | None:
    content = response.get("content", {})
    media = content.get("application/json")
    return media.get("schema") if media else None


def names_a_record(name: str) -> bool:
    return name.endswith(("_id", "_ids"))


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _operation_breaches(
    document: dict[str, Any], method: str, path: str, operation: dict[str, Any],
    public: bool,
) -> Iterator[str]:
    key = f"{method} {path}"
    responses = operation.get("responses", {})
    params = operation.get("parameters", [])
    query = {p["name"] for p in params if p["in"] == "query"}
    body: dict[str, Any] = {}
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body.update(_properties(document, media.get("schema", {})))

    required = {"422"} if public else {"401", "403", "422"}
    names_record = any(p["in"] == "path" for p in params) or any(
        names_a_record(n) for n in query | set(body))
    if names_record and not public:
        required.add("404")
    for status in sorted(required - set(responses)):
        yield f"{key}: does not document {status}"

    for status, response in responses.items():
        schema = _json_schema(response)
        if status.startswith("4"):
            if schema is None or _ref_name(schema) not in ERROR_SCHEMAS:
                yield f"{key}: {status} is not the one error schema"
        elif status.startswith("2") and schema is not None:
            yield from _list_breaches(document, key, path, query, schema)

    if "on" in body:
        query_on = next((p for p in params if p["in"] == "query" and p["name"] == "on"), None)
        if query_on is None:
            yield f"{key}: takes `on` in the body but not in the query"
        elif SAME_ON not in query_on.get("description", ""):
            yield f"{key}: takes `on` in the body as another date than the query's"


def _list_breaches(
    document: dict[str, Any], key: str, path: str, query: set[str], schema: dict[str, Any]
) -> Iterator[str]:
    if _is_array(document, schema):
        yield f"{key}: answers a bare array, not {{data, count}}"
        return
    properties = _properties(document, schema)
    arrays = [n for n, s in properties.items() if _is_array(document, s)]
    paginated = {"limit", "offset"} & query
    named_list = arrays == [path.rstrip("/").rsplit("/", 1)[-1]]
    if (paginated or named_list) and not {"data", "count"} <= set(properties):
        yield f"{key}: is a list but does not answer {{data, count}}"


def _error_schema_breaches(document: dict[str, Any]) -> Iterator[str]:
    """The error schemas themselves have the one shape: `detail`, a list of items with
    `loc`, `msg` and `type`; the token endpoint's adds the two RFC 6749 fields."""
    schemas = document["components"]["schemas"]
    for name in sorted(ERROR_SCHEMAS & set(schemas)):
        detail = schemas[name].get("properties", {}).get("detail", {})
        items = _resolve(document, detail.get("items", {})) if detail.get("type") == "array" \
            else {}
        if not {"loc", "msg", "type"} <= set(items.get("properties", {})):
            yield f"{name}: `detail` is not a list of {{loc, msg, type}}"
    token = schemas.get("TokenError", {}).get("properties", {})
    if token and not {"error", "error_description"} <= set(token):
        yield "TokenError: lacks RFC 6749's error and error_description"


def convention_breaches(
    document: dict[str, Any], public: Callable[[str], bool] | None = None
) -> list[str]:
    """Every way the document breaks the convention (empty when it keeps it)."""
    is_public = public or (lambda key: bool(ACCESS.get(key) and ACCESS[key].public))
    found = list(_error_schema_breaches(document))
    for method, path, operation in _operations(document):
        found.extend(_operation_breaches(document, method, path, operation,
                                         is_public(f"{method} {path}")))
    return found


# ---- the document the application serves ---------------------------------------------


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return copy.deepcopy(app.openapi())


def test_every_operation_keeps_the_convention(document: dict[str, Any]) -> None:
    assert convention_breaches(document) == []


def test_the_token_endpoint_documents_its_errors_in_the_one_shape(
    document: dict[str, Any]
) -> None:
    responses = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"400", "422", "429"} <= set(responses)
    for status in ("400", "422", "429"):
        assert _json_schema(responses[status]) == {"$ref": "#/components/schemas/TokenError"}


# ---- the checker finds breaches ---------------------------------------------------------


def _break(document: dict[str, Any], path: str, method: str,
           change: Callable[[dict[str, Any]], None]) -> list[str]:
    broken = copy.deepcopy(document)
    change(broken["paths"][path][method])
    return convention_breaches(broken)


def test_the_checker_notices_an_undocumented_404(document: dict[str, Any]) -> None:
    found = _break(document, "/api/v1/staff/{staff_id}", "get",
                   lambda op: op["responses"].pop("404"))
    assert found == ["GET /api/v1/staff/{staff_id}: does not document 404"]


def test_the_checker_notices_a_body_reference_without_404(document: dict[str, Any]) -> None:
    found = _break(document, "/api/v1/teams", "post", lambda op: op["responses"].pop("404"))
    assert found == ["POST /api/v1/teams: does not document 404"]


def test_the_checker_notices_another_error_shape(document: dict[str, Any]) -> None:
    def other_shape(op: dict[str, Any]) -> None:
        op["responses"]["403"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/HTTPValidationError"}

    found = _break(document, "/api/v1/teams", "post", other_shape)
    assert found == ["POST /api/v1/teams: 403 is not the one error schema"]


def test_the_checker_notices_a_list_under_another_name(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    schemas = broken["components"]["schemas"]
    view = schemas["ReviewsView"]
    view["properties"]["reviews"] = view["properties"].pop("data")
    view["properties"].pop("count")
    assert convention_breaches(broken) == [
        "GET /api/v1/nqsws/{staff_id}/reviews: is a list but does not answer {data, count}"]


def test_the_checker_notices_a_bare_array(document: dict[str, Any]) -> None:
    def bare(op: dict[str, Any]) -> None:
        op["responses"]["200"]["content"]["application/json"]["schema"] = {
            "type": "array", "items": {"$ref": "#/components/schemas/StaffPublic"}}

    found = _break(document, "/api/v1/staff", "get", bare)
    assert found == ["GET /api/v1/staff: answers a bare array, not {data, count}"]


def test_the_checker_notices_on_only_in_the_body(document: dict[str, Any]) -> None:
    def body_only(op: dict[str, Any]) -> None:
        op["parameters"] = [p for p in op["parameters"] if p["name"] != "on"]

    found = _break(document, "/api/v1/teams/{team_id}/close", "post", body_only)
    assert found == ["POST /api/v1/teams/{team_id}/close: takes `on` in the body but not "
                     "in the query"]


def test_the_checker_notices_on_in_the_body_meaning_another_day(
    document: dict[str, Any]
) -> None:
    """A route reading its query's `on` alone (the `on` of every GET) while its body has
    an `on` of its own: two dates under one name."""
    def apart(op: dict[str, Any]) -> None:
        query_on = next(p for p in op["parameters"] if p["name"] == "on")
        query_on["description"] = "Effective date (YYYY-MM-DD, Europe/London); default today."

    found = _break(document, "/api/v1/nqsws/{staff_id}/diary/{entry_id}/taken", "post", apart)
    assert found == ["POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/taken: takes `on` in "
                     "the body as another date than the query's"]


class Thing(BaseModel):
    """A record of the plain FastAPI route below (at module level: this module's
    annotations are read as names, so a class local to the test would not be found)."""

    id: int


class CloseThing(BaseModel):
    on: str | None = None
    owner_id: int | None = None


def test_the_checker_fails_a_route_built_without_the_convention() -> None:
    """A route declared the plain FastAPI way breaks the convention at once."""
    tiny = FastAPI()

    @tiny.get("/api/v1/things")
    def list_things() -> list[Thing]:
        return []

    @tiny.post("/api/v1/things/{thing_id}/close")
    def close_thing(thing_id: int, body: CloseThing) -> Thing:
        return Thing(id=thing_id)

    found = convention_breaches(tiny.openapi(), public=lambda _key: False)
    assert "GET /api/v1/things: answers a bare array, not {data, count}" in found
    assert "GET /api/v1/things: does not document 401" in found
    assert "POST /api/v1/things/{thing_id}/close: does not document 404" in found
    assert "POST /api/v1/things/{thing_id}/close: 422 is not the one error schema" in found
    assert ("POST /api/v1/things/{thing_id}/close: takes `on` in the body but not in the "
            "query") in found


# ---- behaviour the schema cannot show ---------------------------------------------------


def _detail(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


MISSING = 987654


@pytest.mark.parametrize(("url", "body", "loc"), [
    ("/api/v1/service-areas", {"name": "North", "senior_manager_id": MISSING},
     ["body", "senior_manager_id"]),
    ("/api/v1/teams", {"name": "Alpha", "service_area_id": MISSING},
     ["body", "service_area_id"]),
    ("/api/v1/staff", {"name": "Ann Ash", "email": "ann@example.org", "role": "social_worker",
                       "fte": 1, "start_date": "2026-01-05", "team_id": MISSING},
     ["body", "team_id"]),
])
def test_a_missing_record_named_in_the_body_is_404_naming_the_field(
    client_as: Callable[..., TestClient], url: str, body: dict[str, Any], loc: list[str]
) -> None:
    admin = client_as("admin")
    [error] = _detail(admin.post(url, json=body), 404)
    assert error["loc"] == loc and error["type"] == "not_found"
    assert str(MISSING) in error["msg"]


def test_a_missing_record_in_the_path_is_named_alike_for_every_role(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    """The handler (an admin's request) and the access check (a team manager's) report
    a missing record at the same place: the path parameter that names it."""
    team = make_staff(db_session, "team_manager")
    answers = [client_as("admin").get(f"/api/v1/staff/{MISSING}"),
               client_as(team).get(f"/api/v1/staff/{MISSING}")]
    assert [_detail(a, 404)[0]["loc"] for a in answers] == [["path", "staff_id"]] * 2


def test_a_dated_change_takes_on_in_the_query_and_refuses_two_dates(
    client_as: Callable[..., TestClient]
) -> None:
    admin = client_as("admin")
    area = admin.post("/api/v1/service-areas", json={"name": "South"}).json()
    team = admin.post("/api/v1/teams", json={"name": "Beta", "service_area_id": area["id"]})
    url = f"/api/v1/teams/{team.json()['id']}/close"
    [error] = _detail(admin.post(url, params={"on": "2026-01-31"}, json={"on": "2026-02-01"}),
                      422)
    assert error["loc"] == ["body", "on"]
    closed = admin.post(url, params={"on": "2026-01-31"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_on"] == "2026-01-31"


def _token_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], list) and body["detail"]
    assert {"loc", "msg", "type"} <= set(body["detail"][0])
    assert body["error_description"] == body["detail"][0]["msg"]
    return body


def test_token_endpoint_errors_have_the_one_shape_and_the_oauth2_fields(
    client: TestClient
) -> None:
    url = "/api/v1/auth/token"
    wrong = client.post(url, data={"username": "nobody@example.org", "password": "x" * 12})
    assert _token_error(wrong, 400, "invalid_grant")["detail"][0]["loc"] == ["body"]
    scope = client.post(url, data={"username": "a@example.org", "password": "x" * 12,
                                   "scope": "admin"})
    assert _token_error(scope, 400, "invalid_scope")["detail"][0]["loc"] == ["body", "scope"]
    missing = client.post(url, data={"username": "a@example.org"})
    assert _token_error(missing, 422, "invalid_request")["detail"][0]["loc"] == [
        "body", "password"]
    as_json = client.post(url, json={"username": "a@example.org", "password": "x"})
    _token_error(as_json, 415, "invalid_request")


def test_an_http_error_has_the_one_shape(client: TestClient) -> None:
    """401 (no credentials) and 405 (a method the route does not take) alike."""
    anonymous = client.get("/api/v1/me", headers={"Authorization": ""})
    [error] = _detail(anonymous, 401)
    assert error["loc"] == ["header", "Authorization"] and error["type"] == "unauthorized"
    [error] = _detail(client.put("/api/v1/me"), 405)
    assert error["type"] == "method_not_allowed"
