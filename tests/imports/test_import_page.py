"""The import result page while a preview runs: a fragment the page polls with the rows
read so far, then a full refresh once the preview is ready."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth import sessions
from app.models.imports import ImportRun
from tests.api.test_who_acts import page_visitor
from tests.scenarios import seed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"

pytestmark = pytest.mark.only_backend("sqlite")  # markup: the same on both databases

POLL = {"HX-Request": "true", "Accept": "text/html"}


def test_a_running_preview_is_polled_until_it_is_ready(
    app_on_test_session: FastAPI, db_session: Session, northgate: seed.Org
) -> None:
    run = ImportRun(kind="cases", profile="lcs", file_name="cases.csv", sha256="ab" * 32,
                    size=10, status="running", rows_done=12000)
    db_session.add(run)
    db_session.flush()
    cookie, _ = page_visitor(app_on_test_session, db_session, northgate.coordinator)
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        whole = browser.get(f"/imports/{run.id}", headers={"Accept": "text/html"})
        assert whole.status_code == 200 and "Checking cases.csv" in whole.text
        assert 'hx-trigger="every 1s"' in whole.text
        polled = browser.get(f"/imports/{run.id}", headers=POLL)
        assert "12000 rows read" in polled.text and "<h1" not in polled.text
        run.status, run.report = "previewed", {"errors": [], "consequences": []}
        db_session.add(run)
        db_session.commit()
        ready = browser.get(f"/imports/{run.id}", headers=POLL)
        assert ready.headers.get("HX-Refresh") == "true"
        page = browser.get(f"/imports/{run.id}", headers={"Accept": "text/html"})
        assert "Preview of cases.csv" in page.text and 'id="apply-import"' in page.text


def test_an_upload_without_javascript_carries_its_token_in_the_form(
    app_on_test_session: FastAPI, db_session: Session, northgate: seed.Org
) -> None:
    """The upload form posts as multipart with the token as a field, as a browser does
    with scripts off: accepted with the right token, refused with a forged one."""
    cookie, csrf = page_visitor(app_on_test_session, db_session, northgate.coordinator)
    upload = {"file": ("cases.csv", FIXTURES.joinpath("lcs-cases.csv").read_bytes(),
                       "text/csv")}
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        forged = browser.post("/imports", files=upload, headers={"Accept": "text/html"},
                              data={"csrf_token": "forged", "kind": "cases",
                                    "profile": "lcs"})
        assert forged.status_code == 403
        sent = browser.post("/imports", files=upload, headers={"Accept": "text/html"},
                            data={"csrf_token": csrf, "kind": "cases", "profile": "lcs"})
        assert sent.status_code == 303, sent.text[:300]
        assert sent.headers["location"].startswith("/imports/")
