"""Query-count guards: the hot read paths issue a bounded number of SQL statements that
does not grow with the size of the organisation (issue 7).

Deterministic, not timing: each request is counted with SQLAlchemy's
`before_cursor_execute` event on the app's engine, against the `small` demo and the
`medium` one, on both databases. For the comparison to mean anything, every path is
measured on records that are bigger in `medium`, so that a query per row (an N+1) would
change the count:

- the allocation check and the workload are asked about an NQSW who co-works
  `EXTRA_CASES_IN_MEDIUM` more open cases in `medium` (added before measuring: the demo
  gives its featured NQSWs the same caseload at every size);
- the team view, API and page, is of the team with the most NQSWs on a programme (more
  in `medium`), the page as seen by that team's manager;
- the dashboards, the export and the dashboard page cover every unresolved breach, of
  which `medium` has more.

`test_medium_is_bigger_on_every_measured_path` proves those differences hold, so this
guard cannot go quietly empty. Transaction control (BEGIN, SAVEPOINT, COMMIT ...) is not
counted: it differs by backend and by nothing else. API requests are made by the test
suite's all-access principal (no reach to compute), and the what-if check once more by
the NQSW's own team manager, as managers make it: that one also counts what
authorisation reads. Pages are asked for by people signed in through the sign-in form,
as in a browser: the page guard, the viewer and the unread-notification count included.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlmodel import Session

from app.auth import accounts, sessions
from app.auth.testing import all_access_token, token_for_staff
from app.demo.service import load_demo
from app.main import create_app
from app.models import Account, Allocation, Breach, Case, Enrolment, Staff, Team
from app.models.breach import UNRESOLVED_STATUSES
from app.repositories import account as repo
from app.settings import Settings

AS_OF = date(2026, 11, 23)
SIZES = ("small", "medium")
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "SHOW ")
EXTRA_CASES_IN_MEDIUM = 10
PASSWORD = "a long enough passphrase for counting"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

# The statements each request may issue (authentication's own look-up included). Each
# is the figure measured when it was last changed: a new statement on one of these paths
# must be a decision, made by raising the figure here, not an accident. The other guard
# is that `small` and `medium` issue the same number.
# The check asks what the write asks before any policy (the worker, a second holder, the
# worker already on the case): three statements more than a policy-only check.
CHECK_STATEMENTS = 9
CHECK_BY_TEAM_MANAGER_STATEMENTS = 12
WORKLOAD_STATEMENTS = 7
TEAM_VIEW_STATEMENTS = 5
DASHBOARD_STATEMENTS = 3
DASHBOARD_FILTERED_STATEMENTS = 3
DASHBOARD_SUMMARY_STATEMENTS = 2
EXPORT_STATEMENTS = 3
# A page adds who is looking (session, person, the teams and areas they run, unread
# notifications: 5 on every page) to what it shows.
DASHBOARD_PAGE_STATEMENTS = 10
TEAM_PAGE_STATEMENTS = 15

BOUNDS = {
    "allocation check": CHECK_STATEMENTS,
    "allocation check by the team manager": CHECK_BY_TEAM_MANAGER_STATEMENTS,
    "nqsw workload": WORKLOAD_STATEMENTS,
    "team view": TEAM_VIEW_STATEMENTS,
    "dashboard": DASHBOARD_STATEMENTS,
    "dashboard filtered": DASHBOARD_FILTERED_STATEMENTS,
    "dashboard summary": DASHBOARD_SUMMARY_STATEMENTS,
    "breach export": EXPORT_STATEMENTS,
    "dashboard page": DASHBOARD_PAGE_STATEMENTS,
    "team page": TEAM_PAGE_STATEMENTS,
}


@dataclass
class Org:
    size: str
    client: TestClient
    engine: Engine
    token: str  # the all-access principal's
    nqsw: int  # the NQSW the check and the workload are about
    team_of: dict[int, int]
    big_team: int  # the team with the most NQSWs on a programme
    manager_token: str  # the NQSW's own team manager's
    coordinator_cookie: str
    big_team_manager_cookie: str
    caseload: int  # the NQSW's open cases
    big_team_nqsws: int
    unresolved_breaches: int


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs (transaction control aside)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(CONTROL):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# ---- the organisations ------------------------------------------------------------------


def _held_by(staff_id: int) -> Any:
    return select(Allocation.case_id).where(Allocation.worker_id == staff_id,
                                            Allocation.end_date.is_(None))


def _co_work_more_cases(session: Session, staff_id: int, team_id: int, count: int) -> None:
    """Make the NQSW co-worker on `count` more open child-in-need cases of their team
    (each already held by someone else), from the newest case down, so that the cases
    the checks propose (the oldest) stay free."""
    cases = session.exec(
        select(Case.id).where(Case.team_id == team_id, Case.closed_on.is_(None),
                              Case.category == "child_in_need",
                              Case.opened_on < AS_OF - timedelta(days=30),
                              Case.id.not_in(_held_by(staff_id)))
        .order_by(Case.id.desc()).limit(count)
    ).all()
    assert len(cases) == count, f"only {len(cases)} cases to co-work in team {team_id}"
    for (case_id,) in cases:
        session.add(Allocation(case_id=case_id, worker_id=staff_id, role="co_worker",
                               start_date=AS_OF - timedelta(days=14)))
    session.flush()


def _biggest_team(session: Session) -> tuple[int, int]:
    """(team id, NQSWs on a programme in it) of the team with the most NQSWs."""
    row = session.exec(
        select(Staff.team_id, func.count().label("n"))
        .join(Enrolment, Enrolment.staff_id == Staff.id)
        .where(Enrolment.status.in_(("active", "paused")), Staff.team_id.is_not(None))
        .group_by(Staff.team_id).order_by(func.count().desc(), Staff.team_id).limit(1)
    ).one()
    return int(row[0]), int(row[1])


def _with_password(session: Session, staff_id: int) -> str:
    """The person's sign-in email, with a known password (an account made if need be)."""
    account = repo.account_for_staff(session, staff_id)
    if account is None:
        person = session.get(Staff, staff_id)
        assert person is not None
        account = Account(email=person.email.lower(), staff_id=staff_id)
        session.add(account)
        session.flush()
    accounts.set_password(session, account, PASSWORD, actor_id=None)
    return account.email


def _sign_in(client: TestClient, email: str) -> str:
    """A page session through the sign-in form, as a browser gets one."""
    client.cookies.clear()
    form = client.get("/login")
    token = CSRF_FIELD.search(form.text)
    assert token, "the sign-in page carries its CSRF token"
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": token.group(1), "next": "/"},
                            follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    cookie = client.cookies.get(sessions.COOKIE_NAME)
    assert cookie
    client.cookies.clear()
    return cookie


def _count(session: Session, statement: Any) -> int:
    return int(session.exec(statement).one()[0])


@pytest.fixture(scope="session")
def orgs(
    make_database_url: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Org]]:
    """The small and medium demo organisations on this backend, each behind its own app."""
    built: dict[str, Org] = {}
    clients: list[TestClient] = []
    for size in SIZES:
        url = make_database_url()
        settings = Settings(database_url=url, data_dir=tmp_path_factory.mktemp(size),
                            scheduler_enabled=False)  # type: ignore[call-arg]
        outcome = load_demo(settings, size=size, seed=7, as_of=AS_OF)
        assert outcome.data is not None
        nqsw = outcome.data.featured["sole-cp-holder"]
        app = create_app(settings)
        engine: Engine = app.state.engine
        with Session(engine) as session:
            team_of = {row[0]: row[1] for row in session.exec(select(Staff.id, Staff.team_id))}
            if size == "medium":
                _co_work_more_cases(session, nqsw, team_of[nqsw], EXTRA_CASES_IN_MEDIUM)
            big_team, big_team_nqsws = _biggest_team(session)
            coordinator = session.exec(
                select(Staff.id).where(Staff.role == "asye_coordinator").order_by(Staff.id)
            ).first()
            big = session.get(Team, big_team)
            own = session.get(Team, team_of[nqsw])
            assert coordinator and big and big.manager_id and own and own.manager_id
            # Passwords first: setting one ends the account's password-flow tokens.
            emails = (_with_password(session, coordinator[0]),
                      _with_password(session, big.manager_id))
            token = all_access_token(session)
            manager = session.get(Staff, own.manager_id)
            assert manager is not None
            manager_token = token_for_staff(session, manager)
            caseload = _count(session, select(func.count()).select_from(
                _held_by(nqsw).join(Case, Case.id == Allocation.case_id)
                .where(Case.closed_on.is_(None)).subquery()))
            breaches = _count(session, select(func.count()).select_from(Breach)
                              .where(Breach.status.in_(UNRESOLVED_STATUSES)))
            session.commit()
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        coordinator_cookie, manager_cookie = (_sign_in(client, e) for e in emails)
        built[size] = Org(size, client, engine, token, nqsw, team_of, big_team, manager_token,
                          coordinator_cookie, manager_cookie, caseload, big_team_nqsws,
                          breaches)
    yield built
    for client in clients:
        client.__exit__(None, None, None)


# ---- the requests -------------------------------------------------------------------------


def _open_case_for_check(org: Org, staff_id: int) -> int:
    """A new open child-in-need case in the NQSW's team that nobody holds (a case with a
    holder is refused before any policy is asked), opened before the date asked about."""
    with Session(org.engine) as session:
        case = Case(reference=f"QC-{uuid.uuid4().hex[:10]}", category="child_in_need", complexity=2,
                    team_id=org.team_of[staff_id], opened_on=AS_OF - timedelta(days=30))
        session.add(case)
        session.commit()
        assert case.id is not None
        return case.id


def _api(org: Org, method: str, path: str, *, token: str | None = None,
         **kwargs: Any) -> Callable[[], Any]:
    def call() -> Any:
        org.client.cookies.clear()
        return org.client.request(method, path, headers={
            "Authorization": f"Bearer {token or org.token}"}, **kwargs)
    return call


def _page(org: Org, path: str, cookie: str, **kwargs: Any) -> Callable[[], Any]:
    def call() -> Any:
        org.client.cookies.clear()
        org.client.cookies.set(sessions.COOKIE_NAME, cookie)
        try:
            return org.client.get(path, follow_redirects=False, **kwargs)
        finally:
            org.client.cookies.clear()
    return call


def requests_for(org: Org, name: str) -> Callable[[], Any]:
    on = AS_OF.isoformat()
    check = {"case_id": 0, "worker_id": org.nqsw, "role": "holder", "on": on}
    if name.startswith("allocation check"):
        check["case_id"] = _open_case_for_check(org, org.nqsw)
    table: dict[str, Callable[[], Any]] = {
        "allocation check": _api(org, "POST", "/api/v1/allocations/check", json=check),
        "allocation check by the team manager": _api(
            org, "POST", "/api/v1/allocations/check", json=check, token=org.manager_token),
        "nqsw workload": _api(org, "GET", f"/api/v1/nqsws/{org.nqsw}/workload",
                              params={"on": on}),
        "team view": _api(org, "GET", "/api/v1/nqsws",
                          params={"team_id": org.big_team, "on": on}),
        "dashboard": _api(org, "GET", "/api/v1/breaches", params={"on": on}),
        "dashboard filtered": _api(org, "GET", "/api/v1/breaches", params={
            "on": on, "team_id": org.team_of[org.nqsw], "severity": "severe"}),
        "dashboard summary": _api(org, "GET", "/api/v1/breaches/summary", params={"on": on}),
        "breach export": _api(org, "GET", "/api/v1/breaches.csv", params={"on": on}),
        "dashboard page": _page(org, "/breaches", org.coordinator_cookie, params={"on": on}),
        "team page": _page(org, "/", org.big_team_manager_cookie, params={"on": on}),
    }
    return table[name]


def measure(org: Org, name: str) -> int:
    """Statements for one request of the named kind, which must succeed."""
    request = requests_for(org, name)
    request()  # warm caches (policy files, bank holidays, a session's touch) outside the count
    with counting(org.engine) as statements:
        response = request()
    assert response.status_code == 200, response.text[:500]
    return len(statements)


def test_medium_is_bigger_on_every_measured_path(orgs: dict[str, Org]) -> None:
    small, medium = orgs["small"], orgs["medium"]
    assert medium.caseload >= small.caseload + EXTRA_CASES_IN_MEDIUM
    assert medium.big_team_nqsws > small.big_team_nqsws
    assert medium.unresolved_breaches > small.unresolved_breaches


@pytest.mark.parametrize("name", list(BOUNDS))
def test_statements_are_bounded_and_do_not_grow(orgs: dict[str, Org], name: str) -> None:
    counts = {size: measure(org, name) for size, org in orgs.items()}
    assert counts["medium"] == counts["small"], counts
    assert max(counts.values()) <= BOUNDS[name], counts
