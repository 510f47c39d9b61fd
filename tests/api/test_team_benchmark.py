"""The "experienced worker" an NQSW is compared with: the team's case-holding social workers.

Team managers and advanced practitioners carry reduced caseloads by design; counting them
would make the benchmark, and so the NQSW's share of it, say the opposite of the truth.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from app.policy.registry import load_policy_set
from app.policy.snapshot import Snapshot
from app.services.snapshots import load_snapshot
from app.settings import PROJECT_ROOT
from tests.scenarios import seed

START = date(2026, 9, 1)
ON = date(2026, 11, 16)
PER_CASE = 4  # child in need, complexity 2, in the shipped weighting
STABLE = 15


@pytest.fixture
def policies(tmp_path: Path) -> object:
    directory = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    (directory / "active.toml").write_text('asye = ["stage-caps", "working-towards-90"]\n'
                                           'swip = ["stage-caps"]\n')
    return load_policy_set(directory)


def _snapshot(session: Session, worker_id: int, policies: object) -> Snapshot:
    snapshot = load_snapshot(session, worker_id, ON, policies=policies)
    assert snapshot is not None
    return snapshot


def test_managers_and_practitioners_are_not_the_benchmark(
    db_session: Session, policies: object
) -> None:
    org = seed.organisation(db_session)
    org.team_manager.experienced = True
    seed.load(db_session, org.ap, 2, start=START)  # the AP's deliberately light load
    for count in (6, 8, 10):
        worker = seed.person(db_session, "social_worker", team_id=org.team_id,
                             experienced=True)
        seed.load(db_session, worker, count, start=START)
    nqsw, _ = seed.nqsw(db_session, org, start=START)
    db_session.flush()
    assert _snapshot(db_session, nqsw.id, policies).benchmark_load == pytest.approx(  # type: ignore[arg-type]
        8 * PER_CASE + STABLE)


def test_too_few_comparable_workers_fall_back_to_the_fixed_benchmark(
    db_session: Session, policies: object
) -> None:
    org = seed.organisation(db_session)
    for count in (6, 8):
        worker = seed.person(db_session, "social_worker", team_id=org.team_id,
                             experienced=True)
        seed.load(db_session, worker, count, start=START)
    seed.person(db_session, "social_worker", team_id=org.team_id, experienced=True)  # no cases
    nqsw, _ = seed.nqsw(db_session, org, start=START)
    db_session.flush()
    assert _snapshot(db_session, nqsw.id, policies).benchmark_load is None  # type: ignore[arg-type]
