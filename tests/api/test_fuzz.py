"""Schemathesis against the application's OpenAPI schema: no 500s, answers that match it.

Every operation gets generated requests (valid and invalid), signed in as a real person:
a team manager (who reaches the most handlers: casework, programme events, allocations)
and an NQSW (their own records only), over a small organisation so that generated ids
sometimes name real records, on both databases. Answers the schema documents (2xx, 422)
are checked against it, whether the access layer or the handler gave them.

Most requests come from schemathesis's coverage phase, which walks each parameter's
boundaries: valid values (positive) and values the schema forbids (negative: a wrong
type, out of range, a missing field, an unlisted method or media type). On SQLite every
one of them is sent. On PostgreSQL only the valid ones are, plus the whole generated
(fuzzing) phase in both modes: a value the schema forbids never reaches a query there,
because the access layer turns every record id it reads into an integer within range or
answers 422 before any lookup (`app.auth.dependencies._target_value`), and the route's
own validation answers 422 before the handler opens any query. What an invalid request
touches in the database is therefore only the sign-in lookup that every valid request
makes too, so sending the negative walk again on PostgreSQL proved nothing SQLite had not;
it was half the run.

Bounded for CI: a few generated examples per operation (the NQSW only on their own
programme's routes and their account), no deadline, the same examples every run. (The
schema is read from the application when the tests are collected; the first test checks
that the running application still serves exactly that schema.)
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session

from app.main import create_app
from app.settings import Settings
from tests.api.test_access_matrix import build_world

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _openapi() -> dict[str, Any]:
    logging.getLogger("ringfence.auth").disabled = True
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'schema.db'}", data_dir=Path(tmp),
            scheduler_enabled=False,
        ))
        document = app.openapi()
        app.state.engine.dispose()
    logging.getLogger("ringfence.auth").disabled = False
    return document


OPENAPI = _openapi()
# Every coverage scenario, valid and invalid (run on SQLite).
schema = schemathesis.openapi.from_dict(OPENAPI)
# The coverage phase's valid values only (run on PostgreSQL; see the module docstring).
# The fuzzing phase keeps both modes.
valid_coverage = schemathesis.openapi.from_dict(OPENAPI, config=SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"generation": {"mode": "positive"}}}}))


def _signed_in_as(role: str, app: FastAPI, session: Session) -> Iterator[TestClient]:
    world = build_world(session)
    token = world.tokens[role]
    session.commit()
    with TestClient(app, follow_redirects=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


@pytest.fixture
def as_team_manager(app_on_test_session: FastAPI, db_session: Session) -> Iterator[TestClient]:
    """The team manager of the organisation's first team: reaches most handlers."""
    yield from _signed_in_as("team_manager", app_on_test_session, db_session)


@pytest.fixture
def as_nqsw(app_on_test_session: FastAPI, db_session: Session) -> Iterator[TestClient]:
    """An NQSW: the narrowest reach (their own records only)."""
    yield from _signed_in_as("nqsw", app_on_test_session, db_session)


def _sendable(files: Any) -> Any:
    """Generated multipart parts as the client can send them: a part generated as a
    number or null (the schema's negative cases) is sent as its text, as a browser would."""
    def part(value: Any) -> Any:
        if isinstance(value, tuple):
            return (value[0], part(value[1]), *value[2:])
        return value if isinstance(value, (bytes, str)) else str(value).encode()

    if isinstance(files, dict):
        return {name: part(value) for name, value in files.items()}
    return [(name, part(value)) for name, value in files]


def _check(case: schemathesis.Case, client: TestClient) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # no operation takes cookie parameters
    if kwargs.get("files"):
        kwargs["files"] = _sendable(kwargs["files"])
    response = client.request(**kwargs)
    response.request.read()  # an upload refused before its body was read
    case.validate_response(response, checks=CHECKS)


def test_the_fuzzed_schema_is_the_live_one(client: TestClient) -> None:
    assert client.get("/openapi.json").json() == OPENAPI


BOUNDED = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@pytest.mark.only_backend("sqlite")
@schema.parametrize()
@settings(max_examples=3, **BOUNDED)  # type: ignore[arg-type]
def test_api_survives_generated_requests_from_a_team_manager(
    case: schemathesis.Case, as_team_manager: TestClient
) -> None:
    _check(case, as_team_manager)


@pytest.mark.only_backend("postgresql")
@valid_coverage.parametrize()
@settings(max_examples=3, **BOUNDED)  # type: ignore[arg-type]
def test_api_survives_valid_coverage_and_generated_requests_from_a_team_manager(
    case: schemathesis.Case, as_team_manager: TestClient
) -> None:
    _check(case, as_team_manager)


# What an NQSW uses: their own programme's routes and their own account. (Fuzzing every
# operation twice would double the run for little: elsewhere an NQSW is refused early.)
NQSW_SURFACE = r"^/api/v1/(me\b|nqsws/\{staff_id\})"


@pytest.mark.only_backend("sqlite")
@schema.include(path_regex=NQSW_SURFACE).parametrize()
@settings(max_examples=2, **BOUNDED)  # type: ignore[arg-type]
def test_api_survives_generated_requests_from_an_nqsw(
    case: schemathesis.Case, as_nqsw: TestClient
) -> None:
    _check(case, as_nqsw)


@pytest.mark.only_backend("postgresql")
@valid_coverage.include(path_regex=NQSW_SURFACE).parametrize()
@settings(max_examples=2, **BOUNDED)  # type: ignore[arg-type]
def test_api_survives_valid_coverage_and_generated_requests_from_an_nqsw(
    case: schemathesis.Case, as_nqsw: TestClient
) -> None:
    _check(case, as_nqsw)
