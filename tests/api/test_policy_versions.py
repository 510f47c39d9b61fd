"""Policy versions on the audit trail: once per version, with the text, whoever starts first.

Each test has a database and a copy of the shipped policy directory of its own, so what
it counts is only what its own starts wrote.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth.testing import all_access_token
from app.jobs.policy_versions import record_policy_versions
from app.main import create_app
from app.models import AuditEvent
from app.policy.registry import load_policy_set
from app.services.policy_versions import ACTION
from app.settings import PROJECT_ROOT
from tests.conftest import make_settings


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", directory)
    return directory


def version_events(app_engine: object) -> list[AuditEvent]:
    with Session(app_engine) as session:  # type: ignore[arg-type]
        return list(session.exec(select(AuditEvent).where(col(AuditEvent.action) == ACTION)
                                 .order_by(col(AuditEvent.id))).all())


def test_each_policy_version_is_recorded_once_with_its_text(
    fresh_database_url: str, tmp_path: Path, policy_dir: Path
) -> None:
    settings = make_settings(fresh_database_url, tmp_path / "data", policy_dir=policy_dir)
    app = create_app(settings)
    loaded = {p.id: p for p in app.state.policies}
    first = version_events(app.state.engine)
    assert sorted(e.entity_id or "" for e in first) == sorted(loaded)
    caps = next(e for e in first if e.entity_id == "stage-caps")
    assert caps.entity == "policy" and caps.before is None and caps.after is not None
    assert caps.after["version"] == loaded["stage-caps"].version
    assert caps.after["file"] == "stage-caps.toml"
    assert caps.after["source"] == (policy_dir / "stage-caps.toml").read_text()
    assert "asye" in caps.after["programmes"]
    app.state.engine.dispose()

    # Starting again on the same files records nothing new.
    again = create_app(settings)
    assert len(version_events(again.state.engine)) == len(first)
    again.state.engine.dispose()

    # An edited policy is a new version: recorded with the one it replaces.
    path = policy_dir / "stage-caps.toml"
    path.write_text(path.read_text().replace("cap = 5\n", "cap = 4\n", 1))
    edited = create_app(settings)
    events = version_events(edited.state.engine)
    assert len(events) == len(first) + 1
    latest = events[-1]
    assert latest.entity_id == "stage-caps" and latest.before == loaded["stage-caps"].version
    assert latest.after is not None
    assert latest.after["version"] == edited.state.policies.policy("stage-caps").version
    assert "cap = 4" in latest.after["source"]
    # And it is on the audit API, for anyone explaining an old breach.
    with Session(edited.state.engine) as session:
        token = all_access_token(session)
        session.commit()
    with TestClient(edited) as client:
        listed = client.get("/api/v1/audit", params={"action": ACTION, "limit": 50},
                            headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert {e["entity_id"] for e in listed.json()["data"]} == set(loaded)
    edited.state.engine.dispose()


def test_workers_starting_together_record_each_version_once(
    fresh_database_url: str, tmp_path: Path, policy_dir: Path
) -> None:
    from app.db import make_engine

    policies = load_policy_set(policy_dir)
    engines = [make_engine(fresh_database_url) for _ in range(6)]
    barrier = threading.Barrier(len(engines))
    written: list[list[str]] = []

    def start(engine: object) -> None:
        barrier.wait()
        written.append(record_policy_versions(engine, policies))  # type: ignore[arg-type]

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert len(written) == len(engines)
        assert sorted(i for ids in written for i in ids) == sorted(p.id for p in policies)
        events = version_events(engines[0])
        assert sorted(e.entity_id or "" for e in events) == sorted(p.id for p in policies)
    finally:
        for engine in engines:
            engine.dispose()
