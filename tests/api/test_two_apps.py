"""Two applications in one process, on one database, each judging with its own policies.

An organisation's policies are the application's, loaded from its folder at start-up and
passed to every evaluation. Nothing is remembered per database: two applications on the
same database URL (two tenants' test instances, a blue/green pair, these tests) must never
evaluate with each other's rules, whichever of them started last.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth.testing import all_access_token
from app.db import make_engine
from app.main import create_app
from app.models import Breach
from app.settings import PROJECT_ROOT
from tests.conftest import make_settings
from tests.scenarios import seed

START = date(2030, 9, 1)  # programme start; month 1 runs to 2030-10-01
IN_MONTH_ONE = "2030-10-05"
CAP_RULE = "caseload-cap"


def policies_with_first_cap(directory: Path, cap: int) -> Path:
    """The shipped policies, with the first three months' stage cap set to `cap`."""
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    path = directory / "stage-caps.toml"
    text = path.read_text()
    assert text.count("cap = 5\n") == 1
    path.write_text(text.replace("cap = 5\n", f"cap = {cap}\n"))
    return directory


@pytest.fixture
def two_apps(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Apps capping month one at 5 and at 3 cases, both on the same database URL."""
    apps = tuple(
        create_app(make_settings(
            fresh_database_url, tmp_path / f"data-{cap}",
            policy_dir=policies_with_first_cap(tmp_path / f"policies-{cap}", cap),
        ))
        for cap in (5, 3)
    )
    try:
        yield apps
    finally:
        for application in apps:
            application.state.engine.dispose()


def cap_findings(body: dict[str, object]) -> list[dict[str, object]]:
    findings = body["findings"]
    assert isinstance(findings, list)
    return [f for f in findings if f["rule_id"] == CAP_RULE]


def open_cap_breaches(session: Session, worker_id: int) -> int:
    session.expire_all()
    return len(session.exec(select(Breach).where(
        Breach.staff_id == worker_id, Breach.rule_id == CAP_RULE,
        col(Breach.status) != "resolved",
    )).all())


def test_each_app_evaluates_with_its_own_policies(
    two_apps: tuple[FastAPI, FastAPI], fresh_database_url: str
) -> None:
    five, three = two_apps
    engine = make_engine(fresh_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            org = seed.organisation(session)
            worker, _ = seed.nqsw(session, org, start=START)
            held = seed.load(session, worker, 4, start=START)
            offered = seed.case(session, opened_on=START)
            token = all_access_token(session)
            session.commit()
            worker_id, offered_id, changed_id = worker.id, offered.id, held[0].id

        # Both running at once, the one capped at 3 started last.
        with TestClient(five) as client_five, TestClient(three) as client_three:
            for client in (client_five, client_three):
                client.headers["Authorization"] = f"Bearer {token}"
            proposal = {"case_id": offered_id, "worker_id": worker_id, "role": "holder",
                        "on": IN_MONTH_ONE}

            # A what-if: a fifth case is within a cap of 5 and past a cap of 3.
            under_five = client_five.post("/api/v1/allocations/check", json=proposal)
            assert under_five.status_code == 200, under_five.text
            assert [f["outcome"] for f in cap_findings(under_five.json())] in ([], ["ok"])
            under_three = client_three.post("/api/v1/allocations/check", json=proposal)
            assert under_three.status_code == 200, under_three.text
            assert [f["outcome"] for f in cap_findings(under_three.json())] == ["block"]

            # A change of facts re-evaluates the worker with the policies of the app that
            # took it: four cases are within 5 and past 3.
            change = {"complexity": 3, "reason": "more involved than first thought"}
            changed = client_five.patch(f"/api/v1/cases/{changed_id}",
                                        params={"on": IN_MONTH_ONE}, json=change)
            assert changed.status_code == 200, changed.text
            with Session(engine) as session:
                assert open_cap_breaches(session, worker_id) == 0
            change = {"complexity": 2, "reason": "back as it was"}
            changed = client_three.patch(f"/api/v1/cases/{changed_id}",
                                         params={"on": IN_MONTH_ONE}, json=change)
            assert changed.status_code == 200, changed.text
            with Session(engine) as session:
                assert open_cap_breaches(session, worker_id) == 1
    finally:
        engine.dispose()
