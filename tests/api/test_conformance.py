"""Schemathesis's conformance checks, as every role: each answer is one the schema lists.

The status-code check fails on any status an operation does not document (the check
that found 54 of 90 operations answering 403 or 404 undocumented, as an ASYE
coordinator); the response-schema check fails on any body that does not match the
schema of its status, the one error shape included. Both run for every role, since what
a request is refused with depends on who sends it: a team manager meets 404s from the
access check, an admin from the handler, an NQSW 403s almost everywhere.

Bounded to stay quick: a few generated requests per operation and role (valid and
invalid ones, Hypothesis's generation phase; the coverage walk of every boundary is
tests/api/test_fuzz.py's), the same ones every run, over one small organisation built
once for the module (test_access_matrix.build_world) so that generated ids sometimes
name real records. Requests commit: a change one makes stays for the next, as it would
for a real client. `POST /auth/revoke` is left out: it would sign the role's shared client
out for every later operation.

SQLite only: the checks are about the schema and the shapes of the answers, which the
same code gives on both databases; tests/api/test_fuzz.py runs generated requests on
PostgreSQL too, for what differs between them (the queries).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import response_schema_conformance, status_code_conformance
from sqlmodel import Session

from app.main import create_app
from tests.api.test_access_matrix import ROLES, build_world
from tests.conftest import make_settings

CHECKS = [status_code_conformance, response_schema_conformance]


def _openapi() -> dict[str, object]:
    """The schema, read from an application over a throwaway database at collection."""
    import tempfile

    logging.getLogger("ringfence.auth").disabled = True
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings(f"sqlite:///{Path(tmp) / 'schema.db'}", Path(tmp)))
        document = app.openapi()
        app.state.engine.dispose()
    logging.getLogger("ringfence.auth").disabled = False
    return document


schema = schemathesis.openapi.from_dict(_openapi()).exclude(
    method="POST", path="/api/v1/auth/revoke"
)


@pytest.fixture(scope="module")
def signed_in(
    make_database_url: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    """A client per role, over one organisation in a database of the module's own."""
    app: FastAPI = create_app(make_settings(make_database_url(),
                                            tmp_path_factory.mktemp("conformance")))
    with Session(app.state.engine, expire_on_commit=False) as session:
        world = build_world(session)
        session.commit()
    clients: dict[str, TestClient] = {}
    for role in ROLES:
        client = TestClient(app, follow_redirects=False)
        client.headers["Authorization"] = f"Bearer {world.tokens[role]}"
        clients[role] = client
    yield clients
    for client in clients.values():
        client.close()
    app.state.engine.dispose()


BOUNDED = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@pytest.mark.only_backend("sqlite")
@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=2, **BOUNDED)  # type: ignore[arg-type]
def test_answers_conform_to_the_schema(
    case: schemathesis.Case, role: str, signed_in: dict[str, TestClient], backend: str
) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # no operation takes cookie parameters
    response = signed_in[role].request(**kwargs)
    # An upload refused before its body is read (401, 403) leaves the client's multipart
    # stream unread; the checker reads what was sent, so render it here.
    response.request.read()
    case.validate_response(response, checks=CHECKS)
