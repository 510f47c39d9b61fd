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


def test_a_later_change_of_fte_or_team_leaves_an_earlier_benchmark_alone(
    db_session: Session, policies: object
) -> None:
    """The benchmark as of a date reads each worker's team and FTE *on that date*: a dated
    change from a later day (a move to another team, fewer hours) changes the benchmark
    from that day, never the days before it."""
    from datetime import timedelta

    from app.models import Team
    from app.services.history import change_staff_terms

    org = seed.organisation(db_session)
    workers = []
    for count in (6, 8, 10):
        worker = seed.person(db_session, "social_worker", team_id=org.team_id,
                             experienced=True)
        seed.load(db_session, worker, count, start=START)
        workers.append(worker)
    home = db_session.get(Team, org.team_id)
    assert home is not None
    other_team = Team(name="Elsewhere", service_area_id=home.service_area_id)
    db_session.add(other_team)
    nqsw, _ = seed.nqsw(db_session, org, start=START)
    db_session.flush()
    before = _snapshot(db_session, nqsw.id, policies).benchmark_load  # type: ignore[arg-type]
    assert before == pytest.approx(8 * PER_CASE + STABLE)

    later = ON + timedelta(days=14)
    change_staff_terms(db_session, workers[1], {"fte": 0.5}, later)
    change_staff_terms(db_session, workers[2], {"team_id": other_team.id}, later)
    db_session.flush()
    assert _snapshot(db_session, nqsw.id, policies).benchmark_load == pytest.approx(before)  # type: ignore[arg-type]
    moved = load_snapshot(db_session, nqsw.id, later, policies=policies)  # type: ignore[arg-type]
    assert moved is not None and moved.benchmark_load != pytest.approx(before)
