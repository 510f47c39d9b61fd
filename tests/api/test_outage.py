"""An unreachable database is a 503 with Retry-After, logged once, and survived.

The main test runs the service under real uvicorn on a PostgreSQL server of its own
(never the one the suite shares), keeps a dozen clients busy on an API route and a page,
stops PostgreSQL with `pg_ctl stop -m fast`, and starts it again, without touching the
service. Every answer must be a 200 or a 503 (never a 500): while the database is down,
the API's 503 in the service's error shape and the pages' "service unavailable" page,
both with Retry-After; the log gains exactly one line when the outage starts and one when
it ends, and no traceback; after the restart every request succeeds again.

What is not an outage stays what it was: a lock wait that times out, a cancelled
statement, a missing table, on both databases.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from app.auth import sessions
from app.auth.testing import token_for_staff
from app.db import DATABASE_USED, is_sqlite, make_engine, write_bind
from app.main import create_app
from app.migrate import upgrade
from app.outage import OUTAGE_MESSAGE, OutageMonitor, is_outage
from app.repositories import account as repo
from app.settings import Settings
from tests.scenarios import seed
from tests.support import postgres
from tests.support.live_server import live_server
from tests.support.private_postgres import private_postgres

RETRY_AFTER = "7"
API_PATH = "/api/v1/nqsws"
PAGE_PATH = "/"
API_CLIENTS = 8
PAGE_CLIENTS = 4
OUTAGE_SECONDS = 3.0
OUTAGE_BODY = {"detail": [{"loc": [], "msg": OUTAGE_MESSAGE, "type": "service_unavailable"}]}
UNAVAILABLE_TITLE = "Sorry, the service is unavailable"
OUTAGE_LINE = re.compile(r"database unreachable: \S")
RECOVERY_LINE = re.compile(r"database reachable again after (\d+) s, (\d+) requests refused")


@dataclass(frozen=True)
class Person:
    """A team manager with a bearer token for the API and a page session for the pages."""

    name: str
    token: str
    cookie: str


@dataclass(frozen=True)
class Answer:
    kind: str  # "api" or "page"
    began: float
    ended: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    content_type: str
    text: str


def _seed(database_url: str, data_dir: Path) -> Person:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            org = seed.organisation(session)
            manager = org.team_manager
            token = token_for_staff(session, manager)
            assert manager.id is not None
            account = repo.account_for_staff(session, manager.id)
            assert account is not None
            settings = Settings(database_url=database_url, data_dir=data_dir,
                                scheduler_enabled=False)  # type: ignore[call-arg]
            cookie, _row = sessions.start(session, account, settings)
            session.commit()
            return Person(manager.name, token, cookie)
    finally:
        engine.dispose()


def _request(client: httpx.Client, kind: str, person: Person) -> Answer:
    began = time.monotonic()
    try:
        if kind == "api":
            response = client.get(API_PATH, headers={"Authorization": f"Bearer {person.token}"})
        else:
            response = client.get(PAGE_PATH, headers={"Accept": "text/html"})
    except httpx.HTTPError as exc:
        return Answer(kind, began, time.monotonic(), 0, None, "", repr(exc))
    return Answer(kind, began, time.monotonic(), response.status_code,
                  response.headers.get("retry-after"),
                  response.headers.get("content-type", ""), response.text)


def _keep_busy(base_url: str, kind: str, person: Person, done: threading.Event,
               answers: list[Answer]) -> None:
    cookies = {sessions.COOKIE_NAME: person.cookie} if kind == "page" else None
    with httpx.Client(base_url=base_url, timeout=30, cookies=cookies) as client:
        while not done.is_set():
            answers.append(_request(client, kind, person))


def _assert_outage_answer(answer: Answer, person: Person) -> None:
    assert answer.retry_after == RETRY_AFTER, answer
    if answer.kind == "api":
        assert answer.content_type.startswith("application/json"), answer
        assert httpx.Response(503, text=answer.text).json() == OUTAGE_BODY
    else:
        assert answer.content_type.startswith("text/html"), answer
        assert UNAVAILABLE_TITLE in answer.text
        # Drawn without the database: no header naming the signed-in person.
        assert person.name not in answer.text
        assert "Sign out" not in answer.text


@pytest.mark.slow
def test_a_postgres_outage_under_load_is_a_503_logged_once_and_survived(
    tmp_path: Path,
) -> None:
    with private_postgres() as pg:
        url = postgres.url_string(postgres.create_database(pg.admin_url))
        upgrade(url)
        person = _seed(url, tmp_path / "seed")
        env = {"RINGFENCE_OUTAGE_RETRY_AFTER_SECONDS": RETRY_AFTER}
        with live_server(url, tmp_path / "server", env=env) as server:
            answers: list[Answer] = []
            done = threading.Event()
            kinds = ["api"] * API_CLIENTS + ["page"] * PAGE_CLIENTS
            with ThreadPoolExecutor(len(kinds)) as pool:
                clients = [pool.submit(_keep_busy, server.base_url, kind, person, done, answers)
                           for kind in kinds]
                try:
                    time.sleep(1.5)
                    log_before = len(server.log())
                    stopping = time.monotonic()
                    pg.stop()
                    stopped = time.monotonic()
                    time.sleep(OUTAGE_SECONDS)
                    health = httpx.get(f"{server.base_url}/healthz", timeout=30)
                    starting = time.monotonic()
                    pg.start()
                    started = time.monotonic()
                    time.sleep(2.0)
                finally:
                    done.set()
                for client in clients:
                    client.result()
            final = httpx.get(f"{server.base_url}/healthz", timeout=30)
            log = server.log()[log_before:]

    # Never a 500, never a dropped connection: a 200 or the outage's 503, and nothing else.
    assert {a.status for a in answers} <= {200, 503}, [
        (a.kind, a.status, a.text[:300]) for a in answers if a.status not in (200, 503)]
    for kind in ("api", "page"):
        mine = [a for a in answers if a.kind == kind]
        assert any(a.status == 200 for a in mine if a.ended < stopping), kind
        # Asked and answered while the database was down: every one a 503.
        down = [a for a in mine if a.began > stopped and a.ended < starting]
        assert len(down) >= 10, (kind, len(down))
        assert {a.status for a in down} == {503}, kind
        # Asked after it was back: every one succeeds, with no restart of the service.
        after = [a for a in mine if a.began > started]
        assert after, kind
        assert {a.status for a in after} == {200}, [(a.status, a.text[:200]) for a in after]
    for answer in answers:
        if answer.status == 503:
            _assert_outage_answer(answer, person)

    assert health.status_code == 503
    assert health.headers["retry-after"] == RETRY_AFTER
    assert health.json() == OUTAGE_BODY
    assert final.status_code == 200

    # One line when the outage starts, one when it ends, and nothing else at all.
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) == 2, log
    assert OUTAGE_LINE.search(lines[0]) and "ERROR" in lines[0], log
    recovery = RECOVERY_LINE.search(lines[1])
    assert recovery is not None and "INFO" in lines[1], log
    refused = int(recovery.group(2))
    refused_down = sum(1 for a in answers if a.status == 503 and a.ended < starting) + 1
    refused_all = sum(1 for a in answers if a.status == 503) + 1  # + the health check
    assert refused_down <= refused <= refused_all, (refused, refused_down, refused_all)
    assert OUTAGE_SECONDS - 1 <= int(recovery.group(1)) <= OUTAGE_SECONDS + 15
    assert "Traceback" not in log


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[tuple[TestClient, Person, Path]]:
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'ringfence.db'}"
    upgrade(url)
    person = _seed(url, tmp_path / "seed")
    settings = Settings(database_url=url, data_dir=tmp_path / "data", scheduler_enabled=False,
                        outage_retry_after_seconds=int(RETRY_AFTER))  # type: ignore[call-arg]
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, person, folder
    app.state.engine.dispose()


def test_an_sqlite_database_that_cannot_be_opened_is_a_503_logged_once(
    sqlite_app: tuple[TestClient, Person, Path], caplog: pytest.LogCaptureFixture
) -> None:
    client, person, folder = sqlite_app
    caplog.set_level(logging.INFO)
    api = {"Authorization": f"Bearer {person.token}"}
    page = {"Accept": "text/html"}
    client.cookies.set(sessions.COOKIE_NAME, person.cookie)
    assert client.get(API_PATH, headers=api).status_code == 200

    # The volume holding the database goes away. Connections already open keep their file;
    # the worker's next new connection is where it shows, so the pool is emptied first.
    away = folder.with_name("away")
    folder.rename(away)
    client.app.state.engine.dispose()  # type: ignore[attr-defined]
    answers = [client.get(API_PATH, headers=api) for _ in range(3)]
    answers.append(client.get(PAGE_PATH, headers=page))
    fragment = client.get(PAGE_PATH, headers={**page, "HX-Request": "true"})
    health = client.get("/healthz")
    away.rename(folder)
    back = client.get(API_PATH, headers=api)

    for response in [*answers[:3], health]:
        assert response.status_code == 503
        assert response.headers["retry-after"] == RETRY_AFTER
        assert response.json() == OUTAGE_BODY
    page_answer = answers[3]
    assert page_answer.status_code == 503
    assert page_answer.headers["retry-after"] == RETRY_AFTER
    assert UNAVAILABLE_TITLE in page_answer.text
    assert person.name not in page_answer.text
    # htmx gets the message alone, put where the page shows its messages.
    assert fragment.status_code == 503
    assert fragment.headers["retry-after"] == RETRY_AFTER
    assert fragment.headers["hx-retarget"] == "#rf-messages"
    assert UNAVAILABLE_TITLE in fragment.text and "<html" not in fragment.text
    assert back.status_code == 200

    records = [r for r in caplog.records if r.levelno >= logging.INFO
               and r.name.startswith(("ringfence", "sqlalchemy", "uvicorn", "starlette"))]
    messages = [r.getMessage() for r in records]
    assert len(records) == 2, messages
    assert records[0].levelno == logging.ERROR
    assert messages[0] == "database unreachable: unable to open database file"
    assert records[0].exc_info is None
    assert RECOVERY_LINE.fullmatch(messages[1]) is not None, messages
    assert messages[1].endswith(", 6 requests refused")


@pytest.fixture
def postgres_app(pg_admin_url: URL, tmp_path: Path) -> Iterator[tuple[TestClient, Person]]:
    """The service in-process on a new database on the suite's shared PostgreSQL."""
    database = postgres.create_database(pg_admin_url)
    url = postgres.url_string(database)
    upgrade(url)
    person = _seed(url, tmp_path / "seed")
    settings = Settings(database_url=url, data_dir=tmp_path / "data", scheduler_enabled=False,
                        outage_retry_after_seconds=int(RETRY_AFTER))  # type: ignore[call-arg]
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, person
    finally:
        app.state.engine.dispose()
        postgres.drop_database(pg_admin_url, database)


def test_a_connection_lost_at_commit_is_a_503(
    postgres_app: tuple[TestClient, Person], pg_admin_url: URL,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The request's work is done and its answer made; then the server ends the session
    just before COMMIT. The answer must still be the outage's 503, not a 500."""
    client, person = postgres_app
    caplog.set_level(logging.INFO)
    api = {"Authorization": f"Bearer {person.token}"}
    assert client.get(API_PATH, headers=api).status_code == 200
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    ended: list[int] = []

    def end_the_session(session: Session) -> None:
        if ended or not session.info.get(DATABASE_USED):  # the request's session, once
            return
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        ended.append(pid)

    event.listen(Session, "before_commit", end_the_session)
    try:
        response = client.get(API_PATH, headers=api)
    finally:
        event.remove(Session, "before_commit", end_the_session)
        admin.dispose()
    assert ended, "the session was not ended before its commit"
    assert response.status_code == 503
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.json() == OUTAGE_BODY
    # The lost connection was discarded: the next request gets a working one.
    assert client.get(API_PATH, headers=api).status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "ringfence.outage"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unreachable: "), messages
    assert messages[1].endswith(", 1 requests refused")


def test_an_unreachable_postgres_is_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@/postgres?host={tmp_path}")
    try:
        with pytest.raises(OperationalError) as caught, engine.connect():
            pass
    finally:
        engine.dispose()
    assert is_outage(caught.value)


def test_a_lock_wait_a_cancelled_statement_and_a_missing_table_are_not_outages(
    fresh_database_url: str,
) -> None:
    engine = make_engine(fresh_database_url)
    failures: list[DBAPIError] = []
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE outage_probe (id integer)")
            conn.commit()
        with write_bind(engine).connect() as holder, engine.connect() as waiter:
            holder.exec_driver_sql("INSERT INTO outage_probe VALUES (1)")  # holds a lock
            if is_sqlite(engine):
                waiter.exec_driver_sql("PRAGMA busy_timeout = 50")
                wait = "INSERT INTO outage_probe VALUES (2)"
            else:
                holder.exec_driver_sql("LOCK TABLE outage_probe IN ACCESS EXCLUSIVE MODE")
                waiter.exec_driver_sql("SET lock_timeout = '50ms'")
                wait = "SELECT * FROM outage_probe"
            with pytest.raises(OperationalError) as caught:
                waiter.exec_driver_sql(wait)
            failures.append(caught.value)
            waiter.rollback()
            with pytest.raises(DBAPIError) as missing:
                waiter.exec_driver_sql("SELECT * FROM no_such_table")
            failures.append(missing.value)
            waiter.rollback()
            if not is_sqlite(engine):
                waiter.exec_driver_sql("SET statement_timeout = '50ms'")
                with pytest.raises(OperationalError) as cancelled:
                    waiter.exec_driver_sql("SELECT pg_sleep(2)")
                failures.append(cancelled.value)
                waiter.rollback()
            # The connection that saw them still works: none of them was taken for a
            # lost connection.
            assert waiter.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
    assert [is_outage(failure) for failure in failures] == [False] * len(failures), failures


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_outage_and_none_for_its_stragglers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ringfence.outage")
    clock = Clock()
    monitor = OutageMonitor(clock)
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection\n\t"
                                                      "unexpectedly"))
    monitor.answered(99.0)  # nothing to recover from
    monitor.refused(lost, 99.0)
    clock.now = 101.0
    monitor.refused(lost, 100.5)
    monitor.answered(99.5)  # began before the outage: proves nothing
    assert monitor.down
    clock.now = 112.0
    monitor.answered(111.0)
    assert not monitor.down
    monitor.refused(lost, 111.5)  # began before the recovery: a straggler, not a new outage
    assert not monitor.down
    clock.now = 130.0
    monitor.refused(lost, 129.0)
    assert [r.getMessage() for r in caplog.records] == [
        "database unreachable: server closed the connection unexpectedly",
        "database reachable again after 12 s, 2 requests refused",
        "database unreachable: server closed the connection unexpectedly",
    ]


def test_a_background_job_logs_an_outage_once_not_every_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outbox job runs every few seconds; while the database is down it says so once,
    and once again when it runs again, never a traceback per run."""
    import threading

    from sqlalchemy.exc import DisconnectionError

    from app.jobs.scheduler import IntervalScheduler

    runs: list[int] = []
    done = threading.Event()

    def job() -> None:
        runs.append(1)
        if len(runs) <= 5:
            raise DisconnectionError("server closed the connection unexpectedly")
        if len(runs) >= 7:
            done.set()

    caplog.set_level(logging.INFO, logger="app.jobs.scheduler")
    scheduler = IntervalScheduler(job, seconds=0.01, name="outbox").start()
    assert done.wait(5)
    scheduler.stop()
    lines = [r.getMessage() for r in caplog.records if "outbox" in r.getMessage()]
    assert lines == [
        "scheduled job outbox paused: database unreachable: server closed the connection "
        "unexpectedly",
        "scheduled job outbox running again",
    ]
    assert not any(r.exc_info for r in caplog.records)
