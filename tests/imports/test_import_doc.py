"""The worked example in docs/import.md imports as the page says it does."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from app.imports.apply import run_import
from app.imports.profiles import load_profile
from app.models import Allocation
from app.models.base import utcnow
from app.models.imports import ImportKey, ImportKind
from app.policy.registry import PolicySet
from app.repositories.imports import insert_rows
from app.settings import PROJECT_ROOT
from tests.imports.conftest import LIMIT
from tests.scenarios import seed

DOC = PROJECT_ROOT / "docs" / "import.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_worked_example_imports(db_session: Session, northgate: seed.Org,
                                    policies: PolicySet, tmp_path: Path) -> None:
    [profile_text] = _blocks("toml")
    allocations_text, cases_text = _blocks("csv")
    (tmp_path / "ours.toml").write_text(profile_text)
    profile = load_profile(tmp_path / "ours.toml")
    worker = seed.person(db_session, "nqsw", team_id=northgate.team_id)
    # The staff import remembers staff numbers; here W1001 is an existing worker.
    insert_rows(db_session, ImportKey, [{"kind": "staff", "source_ref": "W1001",
                                         "entity_id": worker.id, "created_at": utcnow()}])
    for kind, text in ((ImportKind.cases, cases_text), (ImportKind.allocations,
                                                        allocations_text)):
        path = tmp_path / f"{kind.value}.csv"
        path.write_text(text)
        report = run_import(db_session, kind=kind, path=path, file_name=path.name,
                            profile=profile, policies=policies, as_of=date(2026, 11, 20),
                            max_bytes=LIMIT)
        assert report.ok, report.errors
        assert report.counts["created"] == 3
    held = db_session.exec(select(Allocation).where(Allocation.worker_id == worker.id)).all()
    assert sorted((a.role, a.end_date) for a in held) == [
        ("co_worker", date(2026, 10, 31)), ("holder", None), ("holder", None)]
