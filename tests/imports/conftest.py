"""Shared helpers for the import tests: the example files, a team they name, one call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.imports.apply import ImportReport, run_import
from app.imports.plan import Scope
from app.imports.profiles import find_profile
from app.models import Team
from app.models.imports import ImportKind
from app.policy.registry import PolicySet, load_policy_set
from app.settings import PROJECT_ROOT
from tests.scenarios import seed

EXAMPLES = PROJECT_ROOT / "tests" / "fixtures" / "imports"
TEAM = "Northgate Children's Team"
LIMIT = 20 * 1024 * 1024


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    return load_policy_set(PROJECT_ROOT / "policies")


@pytest.fixture
def northgate(db_session: Session) -> seed.Org:
    """The organisation the example files describe: its team is named in every file."""
    org = seed.organisation(db_session)
    org.team.name = TEAM
    db_session.add(org.team)
    db_session.flush()
    return org


ImportFn = Callable[..., ImportReport]


@pytest.fixture
def do_import(db_session: Session, policies: PolicySet) -> ImportFn:
    def run(kind: str, path: Path, profile: str = "lcs", *, on: date = date(2026, 11, 20),
            **options: Any) -> ImportReport:
        return run_import(
            db_session, kind=ImportKind(kind), path=path, file_name=path.name,
            profile=find_profile(profile), policies=policies, as_of=on, max_bytes=options.pop(
                "max_bytes", LIMIT), scope=options.pop("scope", Scope()), **options)

    return run


def other_team(session: Session, org: seed.Org, name: str) -> Team:
    team = Team(name=name, service_area_id=org.area.id)  # type: ignore[arg-type]
    session.add(team)
    session.flush()
    return team
