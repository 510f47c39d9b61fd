"""Limits before work: credentials before the body, a size limit, text that is text, and
422s that echo only an excerpt.

Run against a real uvicorn (tests.support.live_server) where the order of reading matters:
a client that streams a body larger than the limit is answered 413 without the server
reading the rest, and a client without credentials is answered 401 before any of it.
Those three run on SQLite only: the order of reading is the server's and the boundary's,
decided before any query, so a second server on PostgreSQL (its own database and uvicorn
start) answered the same. Everything that stores or refuses text runs on both databases,
since what a database accepts in a text column (a NUL, a lone surrogate) is the point.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.auth.testing import make_staff, token_for_staff
from app.db import make_engine
from app.errors import EXCERPT_CHARS
from app.models import Case, Team
from tests.api.test_access_matrix import _ids, build_world
from tests.api.test_body_boundary import BODY_ROUTES, _hostile_body, _resolve
from tests.support.live_server import live_server

LIMIT = 1024 * 1024  # the default `max_json_bytes`


@pytest.fixture
def tm(client_as: Any, db_session: Session) -> tuple[TestClient, Team]:
    """A team manager of a team with an area, and their client."""
    from app.models import ServiceArea

    area = ServiceArea(name="Limits area")
    db_session.add(area)
    db_session.flush()
    team = Team(name="Limits team", service_area_id=area.id)
    db_session.add(team)
    db_session.flush()
    manager = make_staff(db_session, "team_manager", team_id=team.id)
    team.manager_id = manager.id
    db_session.flush()
    return client_as(manager), team


def _case(team: Team, **fields: Any) -> dict[str, Any]:
    return {"reference": "LIM-1", "category": "child_in_need", "complexity": 2,
            "opened_on": "2026-11-02", "team_id": team.id, **fields}


def test_a_body_over_the_limit_is_413_in_the_error_shape(tm: tuple[TestClient, Team]) -> None:
    client, team = tm
    body = _case(team, reference="L" * 10)
    padded = json.dumps(body)[:-1] + ', "pad": "' + "x" * LIMIT + '"}'
    response = client.post("/api/v1/cases", content=padded,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "body_too_large"
    assert len(response.content) < 500  # nothing of the body echoed back


def test_a_body_just_under_the_limit_is_read(tm: tuple[TestClient, Team]) -> None:
    client, team = tm
    response = client.post("/api/v1/cases", json=_case(team, reference="Y" * (LIMIT // 2)))
    assert response.status_code == 422  # read and validated: the reference is too long
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "reference"]
    assert len(detail["input"]) <= EXCERPT_CHARS + 1 and detail["input"].endswith("…")
    assert len(response.content) < 2000


def test_a_422_echoes_only_an_excerpt_of_a_large_object(tm: tuple[TestClient, Team]) -> None:
    client, team = tm
    response = client.post("/api/v1/cases", json=_case(team, reference=["z" * 1000] * 50))
    assert response.status_code == 422
    assert len(response.content) < 4000, "the whole body came back"


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (b'{"reference": "SEC-\xff\xfe", "category": "child_in_need"}', ["body"],
         "unicode_decode"),
        (b'{"reference": "SEC-\\ud800", "category": "child_in_need"}', ["body", "reference"],
         "string_unicode"),
        (b'{"reference": "SEC-\\udfff\\ud800", "category": "x"}', ["body", "reference"],
         "string_unicode"),
        (b'{"reference": "SEC-\\u0000", "category": "child_in_need"}', ["body", "reference"],
         "string_nul"),
        (b'{"reference\\ud800": "x"}', ["body"], "string_unicode"),
        (b'[' * 200 + b']' * 200, ["body"], "too_deep"),
        (b'{"reference": ', ["body", 14], "json_invalid"),
    ],
)
def test_text_that_is_not_text_is_422_naming_the_field(
    tm: tuple[TestClient, Team], raw: bytes, loc: list[Any], kind: str
) -> None:
    client, _team = tm
    response = client.post("/api/v1/cases", content=raw,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["type"] == kind
    assert detail["loc"] == loc


def test_415_names_the_media_type_expected(tm: tuple[TestClient, Team]) -> None:
    client, team = tm
    response = client.post("/api/v1/cases", content=json.dumps(_case(team)),
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["header", "content-type"]
    assert "application/json" in detail["msg"]


# ---- against a real server: what is read, in which order --------------------------------


def _raw_request(port: int, head: str, body_prefix: bytes) -> bytes:
    """Send the head and only the start of a body that claims to be much longer, then read
    what the server answers without sending the rest."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode() + body_prefix)
        conn.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


# The reading order is decided before any query: one database proves it (see above).
ON_SQLITE = pytest.mark.only_backend("sqlite")


@dataclass(frozen=True)
class Live:
    port: int
    token: str


@pytest.fixture(scope="module")
def live(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real server on its own database, with a team manager's token."""
    url = make_database_url()
    engine = make_engine(url)
    with Session(engine) as session:
        manager = make_staff(session, "team_manager")
        token = token_for_staff(session, manager)
        session.commit()
    engine.dispose()
    with live_server(url, tmp_path_factory.mktemp("live")) as server:
        yield Live(port=int(server.base_url.rsplit(":", 1)[1]), token=token)


@ON_SQLITE
def test_credentials_are_checked_before_the_body_is_read(live: Any) -> None:
    """No credentials and a declared 50 MB body: 401 at once, with the body never sent."""
    head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 * LIMIT}\r\n\r\n")
    answer = _raw_request(live.port, head, b'{"reference": "')
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


@ON_SQLITE
def test_a_declared_length_over_the_limit_is_413_before_the_body(live: Any) -> None:
    head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {live.token}\r\n"
            f"Content-Length: {50 * LIMIT}\r\n\r\n")
    answer = _raw_request(live.port, head, b'{"reference": "')
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@ON_SQLITE
def test_a_streamed_body_is_cut_off_at_the_limit(live: Any) -> None:
    """Chunked, with no declared length: refused once the stream passes the limit, while
    the client still has most of its 12 MB to send."""
    head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {live.token}\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as conn:
        conn.sendall(head.encode())
        sent = 0
        answer = b""
        conn.setblocking(False)
        while sent < 200 and not answer:
            try:
                conn.sendall(framed)
                sent += 1
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
            try:
                answer = conn.recv(4096)
            except BlockingIOError:
                continue
        conn.setblocking(True)
        conn.settimeout(10)
        while answer and b"\r\n\r\n" not in answer:
            more = conn.recv(4096)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 200, "the server read the whole stream before answering"


# ---- every string field takes any text without a server error ---------------------------


TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, field=st.sampled_from(["reference", "category"]))
def test_any_text_in_a_case_field_is_stored_or_refused_never_a_500(
    tm: tuple[TestClient, Team], db_session: Session, text: str, field: str
) -> None:
    """Whatever the text (lone surrogates, NULs, controls, any script), the answer is a
    201 with the text stored as sent (trimmed), or a 409/422 naming the field."""
    client, team = tm
    raw = json.dumps(_case(team, **{field: text}), ensure_ascii=True)
    response = client.post("/api/v1/cases", content=raw,
                           headers={"Content-Type": "application/json"})
    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 201:
        stored = db_session.get(Case, response.json()["id"])
        assert stored is not None
        assert getattr(stored, field) == response.json()[field]
    elif response.status_code == 422:
        assert response.json()["detail"][0]["loc"][:2] in (["body", field], ["body"])


# ---- ...and so does every string field of every route ----------------------------------


JSON_ROUTES = sorted(key for key, kind in BODY_ROUTES.items() if kind == "json")


def _string_fields(key: str, document: dict[str, Any]) -> list[str]:
    method, path = key.split(" ", 1)
    operation = document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = _resolve(next(iter(content.values()), {}).get("schema", {}), document)
    return sorted(name for name, sub in schema.get("properties", {}).items()
                  if _resolve(sub, document).get("type") == "string")


@pytest.mark.parametrize("key", JSON_ROUTES)
def test_any_text_in_any_string_field_is_never_a_server_error(
    key: str, client: TestClient, db_session: Session, app_on_test_session: Any
) -> None:
    """Arbitrary text, lone surrogates and NULs included, in each string field of a body
    that is otherwise plausible: the service stores it or refuses it, never a 500."""
    document = app_on_test_session.openapi()
    fields = _string_fields(key, document)
    if not fields:
        return
    world = build_world(db_session)
    method, template = key.split(" ", 1)
    url = template.format(**_ids(world, world.own, "team_manager"))
    base = _hostile_body(key, document, world.own)

    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from(fields), text=TEXT)
    def probe(field: str, text: str) -> None:
        raw = json.dumps({**base, field: text}, ensure_ascii=True)
        response = client.request(method, url, content=raw,
                                  headers={"Content-Type": "application/json"})
        assert response.status_code < 500, f"{key} {field}={text!r}: {response.text[:300]}"

    probe()
