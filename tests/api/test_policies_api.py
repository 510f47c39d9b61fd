"""The policies in force, structured and in plain English, per programme."""

from __future__ import annotations

from typing import Any

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


def test_statements_say_what_the_service_does(client: TestClient) -> None:
    body = client.get("/api/v1/policies").json()
    by_id = {p["id"]: p for p in body["policies"]}
    every = " ".join(p["statement"] for p in body["policies"])
    assert "recorded reason and is reported" not in every
    assert "may agree more, with a recorded reason" not in every
    caps = by_id["stage-caps"]
    assert "(a flexible limit)" in caps["statement"]
    assert "one that breaks a flexible limit is not refused" in caps["statement"]
    assert caps["rules"][0]["params"]["pro_rata_rounding"] == "down"
    assert "rounded down to whole cases (half-time: 2, 5 and 7 cases)" in caps["statement"]
    points = by_id["points-scheme"]
    assert points["active_for"] == []
    assert "This is a flexible rule: an allocation that breaks it is not refused" in (
        points["statement"]
    )
    ramp = by_id["working-towards-90"]["rules"][0]["params"]
    assert ramp["benchmark_roles"] == ["social_worker"]
    assert ramp["benchmark_min_workers"] == 3
    gates = by_id["complexity-gates"]["rules"][0]
    assert gates["params"]["high_complexity"]["roles"] == ["holder"]
    assert "you may co-work one" in gates["statement"]
    supervision = by_id["supervision"]["statement"]
    assert "allocation" not in supervision
    assert "If a promise here is not kept, it is recorded as a breach." in supervision


def test_the_promise_page_shows_each_policy_once_per_paragraph(client_as: Any) -> None:
    page = client_as("asye_coordinator").get("/promise")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert "In your first 3 months you will hold no more than 5 cases." in html
    # The two supervision rules are enforced alike: their consequence is said once.
    supervision = html.split("Supervision and reviews")[1].split("rf-promise")[0]
    assert supervision.count("recorded as a breach") == 1
    assert "points-scheme" not in html  # not active: not promised
