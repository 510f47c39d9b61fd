"""Schemathesis against the application's OpenAPI schema: no 500s, answers that match it.

Every operation gets a handful of generated requests (valid and invalid), signed in as the
test suite's all-access principal so that requests reach the handlers, over a small
organisation so that generated ids sometimes name real records, on both databases.
Bounded for CI: a few examples per operation, no deadline, the same examples every run.
(The schema is read from the application when the tests are collected; the first test
checks that the running application still serves exactly that schema.)
"""

from __future__ import annotations

import logging
import tempfile
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
from sqlmodel import Session

from app.auth.testing import all_access_token
from app.main import create_app
from app.settings import Settings
from tests.api.test_access_matrix import build_world

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _openapi() -> dict[str, Any]:
    logging.getLogger("ringfence.auth").disabled = True
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'schema.db'}", data_dir=Path(tmp),
            scheduler_enabled=False, demo=False,
        ))
        document = app.openapi()
        app.state.engine.dispose()
    logging.getLogger("ringfence.auth").disabled = False
    return document


OPENAPI = _openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.fixture
def fuzz_client(app_on_test_session: FastAPI, db_session: Session) -> Any:
    build_world(db_session)
    token = all_access_token(db_session)
    db_session.commit()
    with TestClient(app_on_test_session, follow_redirects=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def test_the_fuzzed_schema_is_the_live_one(client: TestClient) -> None:
    assert client.get("/openapi.json").json() == OPENAPI


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_survives_generated_requests(case: schemathesis.Case, fuzz_client: TestClient) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # no operation takes cookie parameters
    response = fuzz_client.request(**kwargs)
    case.validate_response(response, checks=CHECKS)
