"""The policies in force, structured and in plain English, per programme."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_every_policy_with_its_statement_and_what_applies_where(client: TestClient) -> None:
    response = client.get("/api/v1/policies")
    assert response.status_code == 200
    body = response.json()
    assert body["version"]
    by_id = {p["id"]: p for p in body["policies"]}
    caps = by_id["stage-caps"]
    assert caps["version"] and caps["file"] == "stage-caps.toml"
    assert set(caps["active_for"]) == {"asye", "swip"}
    rule = caps["rules"][0]
    assert rule["kind"] == "stage_cap" and rule["enforcement"] == "block"
    assert rule["override_by"] == ["senior_manager"]
    assert rule["escalation"]["after_working_days"] == 5
    assert [b["cap"] for b in rule["params"]["bands"]] == [5, 10, 15]
    assert "no more than 5 cases" in caps["statement"]
    assert by_id["points-scheme"]["active_for"] == []
    programmes = {p["programme"]: p for p in body["programmes"]}
    assert set(programmes) == {"asye", "swip"}
    asye = programmes["asye"]
    assert asye["heading"].startswith("What we promise our NQSWs")
    active = [p["id"] for p in asye["policies"]]
    assert "stage-caps" in active and "points-scheme" not in active
    assert "24 months" in programmes["swip"]["heading"]
