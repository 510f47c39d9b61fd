"""Upload, preview and apply through the API, as the coordinator and as a team manager."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Case
from tests.imports.conftest import EXAMPLES, other_team
from tests.scenarios import seed


def _upload(client: TestClient, kind: str, name: str, data: bytes,
            **form: str) -> dict[str, object]:
    response = client.post("/api/v1/imports?on=2026-11-20",
                           data={"kind": kind, "profile": "lcs", **form},
                           files={"file": (name, data, "text/csv")})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_coordinator_previews_then_applies(
    db_session: Session, northgate: seed.Org, client_as: Callable[..., TestClient]
) -> None:
    client = client_as(northgate.coordinator)
    run = _upload(client, "cases", "lcs-cases.csv", (EXAMPLES / "lcs-cases.csv").read_bytes())
    assert run["status"] == "previewed" and run["created"] == 9 and len(str(run["sha256"])) == 64
    assert db_session.exec(select(Case).where(Case.reference == "LCS-2001")).all() == []
    applied = client.post(f"/api/v1/imports/{run['id']}/apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied" and applied.json()["created"] == 9
    assert db_session.exec(select(Case).where(Case.reference == "LCS-2001")).one()
    again = client.post(f"/api/v1/imports/{run['id']}/apply")
    assert again.status_code == 409  # a preview is applied once
    listed = client.get("/api/v1/imports").json()
    assert listed["count"] >= 2


def test_a_team_manager_imports_for_their_own_team_only(
    db_session: Session, northgate: seed.Org, client_as: Callable[..., TestClient]
) -> None:
    other_team(db_session, northgate, "Southgate Team")
    manager = client_as(northgate.team_manager)
    text = ("Person ID,Current Step,Complexity,Team,Episode Start,Episode End\n"
            "LCS-4001,CIN Plan,Low,Northgate Children's Team,01/10/2026,\n"
            "LCS-4002,CIN Plan,Low,Southgate Team,01/10/2026,\n")
    run = _upload(manager, "cases", "mixed.csv", text.encode())
    assert run["status"] == "failed"
    report = run["report"]
    assert isinstance(report, dict)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "Team")]
    assert manager.post(f"/api/v1/imports/{run['id']}/apply").status_code == 409
    # The coordinator's runs are not the team manager's to see.
    theirs = _upload(client_as(northgate.coordinator), "cases", "all.csv", text.encode())
    assert manager.get(f"/api/v1/imports/{theirs['id']}").status_code == 404
    assert client_as("social_worker", team_id=northgate.team_id).get(
        "/api/v1/imports").status_code == 403
