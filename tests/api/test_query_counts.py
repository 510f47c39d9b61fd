"""Query-count guards: the hot read paths issue a bounded number of SQL statements that
does not grow with the size of the organisation (issue 7).

Deterministic, not timing: each request is counted with SQLAlchemy's
`before_cursor_execute` event on the app's engine, against the `small` demo and the
`medium` one (four times the people and cases), on both databases. The same featured
NQSW exists in both organisations with the same caseload, so a count that differs
between the two can only come from a query per row somewhere (an N+1).
Transaction control (BEGIN, SAVEPOINT, COMMIT ...) is not counted: it differs by backend
and by nothing else. Requests are made by the test suite's all-access principal (no
reach to compute), and the what-if check once more by the NQSW's own team manager, as
managers make it: that one also counts what authorisation reads (the caller's reach and
the case and person the request names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlmodel import Session

from app.auth.testing import all_access_token, token_for_staff
from app.demo.service import load_demo
from app.main import create_app
from app.models import Allocation, Case, Staff, Team
from app.settings import Settings

AS_OF = date(2026, 11, 23)
SIZES = ("small", "medium")
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "SHOW ")

# The statements each request may issue, exactly as measured (authentication's own
# look-up included): a new statement on one of these paths must be a decision, made by
# raising the figure here, not an accident. The other guard is that small and medium
# issue the same number.
BOUNDS = {
    "allocation check": 6,
    "allocation check by the team manager": 9,
    "nqsw workload": 7,
    "team view": 5,
    "dashboard": 3,
    "dashboard filtered": 3,
    "dashboard summary": 2,
    "breach export": 3,
}


@dataclass
class Org:
    size: str
    client: TestClient
    engine: Engine
    featured: dict[str, int]
    team_of: dict[int, int]
    manager_token: str


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
                            scheduler_enabled=False, demo=False)  # type: ignore[call-arg]
        outcome = load_demo(settings, size=size, seed=7, as_of=AS_OF)
        assert outcome.data is not None
        app = create_app(settings)
        engine: Engine = app.state.engine
        with Session(engine) as session:
            team_of = {row[0]: row[1] for row in session.exec(select(Staff.id, Staff.team_id))}
            token = all_access_token(session)
            team = session.get(Team, team_of[outcome.data.featured["sole-cp-holder"]])
            assert team is not None and team.manager_id is not None
            manager = session.get(Staff, team.manager_id)
            assert manager is not None
            manager_token = token_for_staff(session, manager)
            session.commit()
        client = TestClient(app)
        client.__enter__()
        client.headers["Authorization"] = f"Bearer {token}"
        clients.append(client)
        built[size] = Org(size, client, engine, outcome.data.featured, team_of, manager_token)
    yield built
    for client in clients:
        client.__exit__(None, None, None)


def _open_case_for_check(org: Org, staff_id: int) -> int:
    """An open child-in-need case in the NQSW's team, held by someone else."""
    with Session(org.engine) as session:
        return session.exec(
            select(Case.id).join(Allocation, Allocation.case_id == Case.id)
            .where(Case.team_id == org.team_of[staff_id], Case.closed_on.is_(None),
                   Case.category == "child_in_need", Allocation.end_date.is_(None),
                   Allocation.worker_id != staff_id)
            .order_by(Case.id).limit(1)
        ).one()[0]


def measure(org: Org, name: str) -> int:
    """Statements for one request of the named kind, which must succeed."""
    nqsw = org.featured["sole-cp-holder"]
    on = AS_OF.isoformat()
    check = {"case_id": 0, "worker_id": nqsw, "role": "holder", "on": on}
    requests: dict[str, Callable[[], Any]] = {
        "allocation check": lambda: org.client.post("/api/v1/allocations/check", json=check),
        "allocation check by the team manager": lambda: org.client.post(
            "/api/v1/allocations/check", json=check,
            headers={"Authorization": f"Bearer {org.manager_token}"},
        ),
        "nqsw workload": lambda: org.client.get(f"/api/v1/nqsws/{nqsw}/workload",
                                                params={"on": on}),
        "team view": lambda: org.client.get(
            "/api/v1/nqsws", params={"team_id": org.team_of[nqsw], "on": on}
        ),
        "dashboard": lambda: org.client.get("/api/v1/breaches", params={"on": on}),
        "dashboard filtered": lambda: org.client.get(
            "/api/v1/breaches",
            params={"on": on, "team_id": org.team_of[nqsw], "severity": "severe"},
        ),
        "dashboard summary": lambda: org.client.get("/api/v1/breaches/summary",
                                                    params={"on": on}),
        "breach export": lambda: org.client.get("/api/v1/breaches.csv", params={"on": on}),
    }
    if name.startswith("allocation check"):
        check["case_id"] = _open_case_for_check(org, nqsw)
    requests[name]()  # warm caches (policy files, bank holidays) outside the count
    with counting(org.engine) as statements:
        response = requests[name]()
    assert response.status_code == 200, response.text
    return len(statements)


@pytest.mark.parametrize("name", list(BOUNDS))
def test_statements_are_bounded_and_do_not_grow(orgs: dict[str, Org], name: str) -> None:
    counts = {size: measure(org, name) for size, org in orgs.items()}
    assert counts["small"] <= BOUNDS[name], counts
    assert counts["medium"] == counts["small"], counts
