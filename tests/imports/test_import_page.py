"""The import result page while a preview or an import runs: a fragment the page polls
with the rows read or imported so far, then a full refresh once the run is done."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import sessions
from app.imports.plan import Scope
from app.imports.profiles import find_profile
from app.jobs import imports as jobs
from app.main import create_app
from app.models import Case
from app.models.imports import ImportKind, ImportRun
from app.policy.registry import load_policy_set
from app.settings import PROJECT_ROOT
from tests.api.test_who_acts import page_visitor
from tests.conftest import make_settings
from tests.imports.conftest import TEAM
from tests.scenarios import seed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"

POLL = {"HX-Request": "true", "Accept": "text/html"}
PAGE = {"Accept": "text/html"}
ON = date(2026, 11, 20)  # the example files' export date


@pytest.mark.only_backend("sqlite")  # markup: the same on both databases
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


@pytest.mark.only_backend("sqlite")  # markup: the same on both databases
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


@pytest.mark.only_backend("sqlite")  # markup: the same on both databases
def test_an_import_under_way_shows_the_rows_imported_until_it_is_done(
    app_on_test_session: FastAPI, db_session: Session, northgate: seed.Org
) -> None:
    run = ImportRun(kind="cases", profile="lcs", file_name="cases.csv", sha256="cd" * 32,
                    size=10, status=jobs.APPLYING, rows_done=4000, rows_total=12000)
    db_session.add(run)
    db_session.flush()
    cookie, _ = page_visitor(app_on_test_session, db_session, northgate.coordinator)
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        whole = browser.get(f"/imports/{run.id}", headers=PAGE)
        assert "Importing cases.csv" in whole.text and 'hx-trigger="every 1s"' in whole.text
        assert 'id="apply-import"' not in whole.text
        polled = browser.get(f"/imports/{run.id}", headers=POLL)
        assert "4,000 of 12,000 rows imported" in polled.text and "<h1" not in polled.text
        run.status, run.report = "applied", {"errors": [], "consequences": []}
        db_session.add(run)
        db_session.commit()
        assert browser.get(f"/imports/{run.id}", headers=POLL).headers.get(
            "HX-Refresh") == "true"


@pytest.fixture
def live_app(fresh_database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    """The app on a database of its own: its background jobs commit for real."""
    application = create_app(make_settings(fresh_database_url, tmp_path))
    yield application
    application.state.engine.dispose()


def _org(app: FastAPI) -> tuple[seed.Org, str, str]:
    """Northgate, committed, and a page session for its coordinator."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        org = seed.organisation(session)
        org.team.name = TEAM
        session.add(org.team)
        session.commit()
        cookie, csrf = page_visitor(app, session, org.coordinator)
    return org, cookie, csrf


def _status(app: FastAPI, run_id: int) -> str:
    with Session(app.state.engine) as session:
        run = session.get(ImportRun, run_id)
        assert run is not None
        return run.status


def _until_done(app: FastAPI, run_id: int) -> str:
    deadline = time.monotonic() + 60
    while (status := _status(app, run_id)) in ("running", jobs.APPLYING):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(0.1)
    return status


def _cases(app: FastAPI) -> list[str]:
    with Session(app.state.engine) as session:
        return sorted(session.exec(select(Case.reference).where(
            col(Case.reference).startswith("LCS-"))).all())


def test_importing_a_preview_runs_in_the_background_then_shows_what_changed(
    live_app: FastAPI,
) -> None:
    _, cookie, csrf = _org(live_app)
    upload = {"file": ("cases.csv", FIXTURES.joinpath("lcs-cases.csv").read_bytes(),
                       "text/csv")}
    with TestClient(live_app, follow_redirects=False) as browser:
        browser.cookies.set(sessions.cookie_name(live_app.state.settings), cookie)
        sent = browser.post("/imports", files=upload, headers=PAGE, data={
            "csrf_token": csrf, "kind": "cases", "profile": "lcs", "on-day": str(ON.day),
            "on-month": str(ON.month), "on-year": str(ON.year)})
        assert sent.status_code == 303, sent.text[:300]
        preview_id = int(sent.headers["location"].rsplit("/", 1)[1])
        assert _until_done(live_app, preview_id) == "previewed"
        assert _cases(live_app) == []

        applied = browser.post(f"/imports/{preview_id}/apply", headers=PAGE,
                               data={"csrf_token": csrf})
        assert applied.status_code == 303
        run_id = int(applied.headers["location"].rsplit("/", 1)[1])
        assert run_id != preview_id
        first = browser.get(f"/imports/{run_id}", headers=PAGE)
        if "Importing cases.csv" in first.text:  # still under way: the page says how far
            assert "of 9 rows imported" in first.text
        assert _until_done(live_app, run_id) == "applied"
        assert browser.get(f"/imports/{run_id}", headers=POLL).headers.get(
            "HX-Refresh") == "true"
        result = browser.get(f"/imports/{run_id}", headers=PAGE)
        assert "Imported cases.csv" in result.text
        assert len(_cases(live_app)) == 9
        assert _status(live_app, preview_id) == "superseded"
        again = browser.post(f"/imports/{preview_id}/apply", headers=PAGE,
                             data={"csrf_token": csrf})
        assert again.status_code == 409  # a preview is imported once


def test_an_import_that_cannot_finish_writes_nothing_and_says_why(
    live_app: FastAPI, tmp_path: Path,
) -> None:
    """The kept upload changed between the preview and the import (a disk clean-up, a
    restore): the import stops, nothing of it is written, and its page says so."""
    org, cookie, _ = _org(live_app)
    source = FIXTURES.joinpath("lcs-cases.csv").read_bytes()
    kept = tmp_path / "kept.csv"
    kept.write_bytes(source.replace(b"LCS-2001", b"LCS-2991"))
    with Session(live_app.state.engine, expire_on_commit=False) as session:
        preview = ImportRun(kind="cases", profile="lcs", file_name="cases.csv",
                            sha256="ef" * 32, size=len(source), status="superseded",
                            as_of=ON, rows_total=9)
        run = ImportRun(kind="cases", profile="lcs", file_name="cases.csv",
                        sha256="ef" * 32, size=len(source), status=jobs.APPLYING,
                        as_of=ON, rows_total=9)
        session.add(preview)
        session.add(run)
        session.commit()
    assert preview.id is not None and run.id is not None
    job = jobs.ApplyJob(
        run_id=run.id, preview_id=preview.id, kind=ImportKind.cases, path=kept,
        sha256="ef" * 32, file_name="cases.csv", profile=find_profile("lcs"), as_of=ON,
        max_bytes=1024 * 1024, close_missing=False, actor_id=org.coordinator.id,
        scope=Scope())
    assert jobs.apply(live_app.state.engine, load_policy_set(PROJECT_ROOT / "policies"),
                      job) is None
    assert _status(live_app, run.id) == "failed"
    assert _cases(live_app) == []
    with TestClient(live_app, follow_redirects=False) as browser:
        browser.cookies.set(sessions.cookie_name(live_app.state.settings), cookie)
        page = browser.get(f"/imports/{run.id}", headers=PAGE)
    assert "cases.csv cannot be imported" in page.text
    assert "has changed since its preview, so nothing was imported" in page.text
