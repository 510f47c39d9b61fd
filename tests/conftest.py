"""Shared fixtures: every database test runs on real SQLite and real PostgreSQL.

The `backend` fixture is parametrised over both, at session scope, so pytest runs the
whole database suite once per backend. Each backend's database is migrated once with
the real Alembic revisions; each test then runs inside a transaction that is rolled
back (the request's commit only releases a savepoint), so tests never see each other.
Tests that need real commits (a running server, concurrency, migrations) ask for
`fresh_database_url`, a brand-new migrated database of their own. The Alembic revisions
run once per backend, into a template database; each migrated database after it is a
copy of that template (PostgreSQL's `CREATE DATABASE ... TEMPLATE`, SQLite's backup API),
the same schema and rows for a fraction of the time. The revisions themselves are tested
on empty databases (`migrated=False`) in tests/api/test_migrations.py.

A test (or one parametrisation of it) marked `only_backend("sqlite")` runs on that backend
alone: for checks that never reach the database, such as refusals given before any query,
running them on the second backend proves nothing more. Each such test says why.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth.testing import all_access_token, make_staff, token_for_staff
from app.db import get_session, make_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import Staff
from app.settings import Settings
from tests.support import postgres

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "only_backend(*names): run this test on these database backends only"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say what the run leaves on the machine, and how to remove it (`make clean`)."""
    kept = postgres.left_behind()
    if kept:
        terminalreporter.write_line(
            "Left on this machine: " + "; ".join(kept) + ". `make clean` removes them."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the parametrisations an `only_backend` marker leaves out."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("only_backend")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if marker is not None and backend is not None and backend not in marker.args:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_admin_url() -> object:
    """The PostgreSQL server for this test session (started on first use)."""
    return postgres.admin_url()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def make_database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[..., str]:
    """A factory of empty databases on this backend; `migrated=True` (the default) gives
    one at head: a copy of the backend's template, migrated on first use."""
    created: list[tuple[object, object]] = []
    templates: dict[str, object] = {}

    def empty() -> tuple[str, object]:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "ringfence.db"
            return f"sqlite:///{path}", path
        admin = request.getfixturevalue("pg_admin_url")
        pg_url = postgres.create_database(admin)
        created.append((admin, pg_url))
        return postgres.url_string(pg_url), pg_url

    def template() -> object:
        if "migrated" not in templates:
            url, where = empty()
            upgrade(url)
            templates["migrated"] = where
        return templates["migrated"]

    def make(*, migrated: bool = True) -> str:
        if not migrated:
            return empty()[0]
        source = template()
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "ringfence.db"
            _copy_sqlite(source, path)  # type: ignore[arg-type]
            return f"sqlite:///{path}"
        admin = request.getfixturevalue("pg_admin_url")
        pg_url = postgres.create_database(admin, template=source)  # type: ignore[arg-type]
        created.append((admin, pg_url))
        return postgres.url_string(pg_url)

    yield make
    for admin, pg_url in created:
        postgres.drop_database(admin, pg_url)  # type: ignore[arg-type]


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="session")
def database_url(make_database_url: Callable[..., str]) -> str:
    """The backend's shared, migrated test database."""
    return make_database_url()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test app: its own database and data dir, no background scheduler."""
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def test_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def app(test_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(test_settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def app_on_test_session(app: FastAPI, db_session: Session) -> Iterator[FastAPI]:
    """The app, its requests sharing the test's rolled-back transaction."""

    def _session() -> Iterator[Session]:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise

    app.dependency_overrides[get_session] = _session
    yield app
    app.dependency_overrides.pop(get_session, None)


@pytest.fixture
def client(app_on_test_session: FastAPI, db_session: Session) -> Iterator[TestClient]:
    """An HTTP client signed in as a test principal that every access rule lets through
    (app.auth.testing); access itself is tested with `client_as`."""
    token = all_access_token(db_session)
    db_session.commit()  # releases a savepoint only: a failing request cannot undo it
    with TestClient(app_on_test_session) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


@pytest.fixture
def client_as(
    app_on_test_session: FastAPI, db_session: Session
) -> Iterator[Callable[..., TestClient]]:
    """`client_as(staff)` or `client_as("team_manager", team_id=...)`: a client signed in
    as that staff member (a new one of that role when a role is given)."""
    with ExitStack() as stack:

        def make(who: Staff | str, **staff_fields: object) -> TestClient:
            staff = who if isinstance(who, Staff) else make_staff(db_session, who, **staff_fields)
            token = token_for_staff(db_session, staff)
            db_session.commit()
            test_client = stack.enter_context(TestClient(app_on_test_session))
            test_client.headers["Authorization"] = f"Bearer {token}"
            return test_client

        yield make


@pytest.fixture
def fresh_database_url(make_database_url: Callable[..., str]) -> str:
    """A brand-new migrated database for tests that need real commits."""
    return make_database_url()
