"""One source for the cap: every page and the API show the engine's figure for the NQSW.

The team list (a team manager's home), its headline tile (how many are over their stage
cap), the coordinator's NQSW list, the NQSW page and the workload API must all show the
cap the stage-cap rule applies on that date: pro rata for a part-time NQSW, an individual
agreement's number as agreed or pro rata as the agreement says, and the stage a pause
holds them at. None of them may show the full-time band cap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Pause, Staff
from app.models.enrolment import Enrolment
from tests.scenarios import seed

START = date(2026, 1, 5)
ON = "2026-08-15"  # month 8: the band after 6 months, cap 15 (flexible)
AFTER_SIX = "caseload-cap.bands.2.cap"


@dataclass
class Expected:
    staff_id: int
    cap: float
    note: str
    over: bool


def _nqsw(db_session: Session, org: seed.Org, fte: float, held: int, name: str) -> tuple[
    Staff, Enrolment
]:
    worker, enrolment = seed.nqsw(db_session, org, start=START, fte=fte, name=name)
    seed.load(db_session, worker, held, start=START)
    return worker, enrolment


def _agree(approver: TestClient, staff_id: int, applies_as: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy_id": "stage-caps", "parameter": AFTER_SIX, "value": 10,
        "reason": "Part-time (0.8 FTE) and building confidence: cap of 10 after month 6.",
        "valid_from": "2026-06-01",
    }
    if applies_as is not None:
        body["applies_as"] = applies_as
    response = approver.post(f"/api/v1/nqsws/{staff_id}/adjustments", json=body,
                             params={"on": "2026-06-01"})
    assert response.status_code == 201, response.text
    return response.json()


def _scenario(
    client_as: Callable[..., TestClient], db_session: Session
) -> tuple[seed.Org, list[Expected]]:
    org = seed.organisation(db_session)
    part_time, _ = _nqsw(db_session, org, 0.6, 10, "Pat Part-time")
    as_agreed, _ = _nqsw(db_session, org, 0.8, 9, "Ann Agreed")
    pro_rata, _ = _nqsw(db_session, org, 0.8, 9, "Pru Pro-rata")
    paused, paused_enrolment = _nqsw(db_session, org, 0.8, 3, "Paul Paused")
    db_session.add(Pause(enrolment_id=paused_enrolment.id,  # type: ignore[arg-type]
                         start_date=date(2026, 3, 1), reason="health"))
    paused_enrolment.status = "paused"
    db_session.commit()
    approver = client_as(org.coordinator)
    assert _agree(approver, as_agreed.id, None)["applies_as"] == "as_agreed"  # type: ignore[arg-type]
    assert _agree(approver, pro_rata.id, "pro_rata")["applies_as"] == "pro_rata"  # type: ignore[arg-type]
    expected = [
        # 15 pro rata for 0.6 FTE is 9: 10 cases are over it (the full-time 15 is not).
        Expected(part_time.id, 9, "15 pro rata for 0.6 FTE", True),  # type: ignore[arg-type]
        # The agreed 10 as written, not pro rata again to 8.
        Expected(as_agreed.id, 10, "as agreed, not pro rata for 0.8 FTE", False),  # type: ignore[arg-type]
        # The agreement says pro rata: 10 for 0.8 FTE is 8.
        Expected(pro_rata.id, 8, "the agreed 10 pro rata for 0.8 FTE", True),  # type: ignore[arg-type]
        # Paused in month 2: still the first band, 5 pro rata for 0.8 FTE is 4.
        Expected(paused.id, 4, "5 pro rata for 0.8 FTE", False),  # type: ignore[arg-type]
    ]
    return org, expected


def _row(html: str, staff_id: int) -> str:
    match = re.search(rf'href="/nqsws/{staff_id}">.*?</tr>', html, re.S)
    assert match is not None, f"no row for NQSW {staff_id}"
    return match.group(0)


def _shown_cap(fragment: str) -> tuple[float, str]:
    """The cap a page shows (`rf-cap`) and the words beside it (`rf-cap-note`)."""
    cap = re.search(r'class="rf-cap" data-cap="([^"]+)">([^<]+)<', fragment)
    assert cap is not None, fragment
    assert cap.group(1) == cap.group(2)
    note = re.search(r'class="govuk-body-s rf-muted rf-cap-note">\(([^)]*)\)<', fragment)
    return float(cap.group(1)), note.group(1) if note else ""


def _tile(html: str) -> int:
    match = re.search(
        r'rf-figure__value">(\d+)</span><span class="rf-figure__label">over their stage cap',
        html,
    )
    assert match is not None
    return int(match.group(1))


def test_every_page_and_the_api_show_the_engines_cap(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org, expected = _scenario(client_as, db_session)
    manager = client_as(org.team_manager)
    coordinator = client_as(org.coordinator)
    team_list = manager.get("/", params={"on": ON})
    nqsw_list = coordinator.get("/nqsws", params={"on": ON, "team_id": org.team_id})
    assert team_list.status_code == 200 and nqsw_list.status_code == 200
    for want in expected:
        api = client.get(f"/api/v1/nqsws/{want.staff_id}/workload", params={"on": ON})
        assert api.status_code == 200, api.text
        band = api.json()["band"]
        finding = next(f for f in api.json()["findings"] if f["rule_id"] == "caseload-cap")
        assert band["cap_for_fte"] == want.cap == finding["limit"], (want, band, finding)
        assert band["cap_note"] == want.note
        assert (finding["outcome"] != "ok") is want.over
        page = manager.get(f"/nqsws/{want.staff_id}", params={"on": ON})
        assert page.status_code == 200
        tile = re.search(r'<li class="rf-figure[^"]*"><span class="rf-figure__value">'
                         r'(?:(?!</li>).)*cases against the cap.*?</li>', page.text, re.S)
        assert tile is not None
        assert _shown_cap(tile.group(0))[0] == want.cap
        assert want.note in tile.group(0)
        for html in (team_list.text, nqsw_list.text):
            assert _shown_cap(_row(html, want.staff_id)) == (want.cap, want.note)
    over = sum(1 for want in expected if want.over)
    assert _tile(team_list.text) == _tile(nqsw_list.text) == over == 2


def test_the_finding_says_how_an_agreed_cap_applies(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    _, expected = _scenario(client_as, db_session)
    reasons = {}
    for want in expected:
        body = client.get(f"/api/v1/nqsws/{want.staff_id}/workload", params={"on": ON}).json()
        reasons[want.cap] = next(
            f["reason"] for f in body["findings"] if f["rule_id"] == "caseload-cap"
        )
    assert "the cap of 10 (as agreed, not pro rata for 0.8 FTE)" in reasons[10]
    assert "the cap of 8 (the agreed 10 pro rata for 0.8 FTE)" in reasons[8]
    assert "the cap of 9 (15 pro rata for 0.6 FTE)" in reasons[9]


def test_a_bad_applies_as_is_refused(
    client: TestClient, client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, _ = _nqsw(db_session, org, 0.8, 1, "Val Value")
    db_session.commit()
    approver = client_as(org.coordinator)
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    body = {"policy_id": "stage-caps", "parameter": AFTER_SIX, "value": 10,
            "reason": "Agreed.", "valid_from": "2026-06-01"}
    bad = approver.post(url, json={**body, "applies_as": "halved"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "applies_as"]
    # Only a figure the rule scales by FTE can be agreed pro rata.
    weight = approver.post(url, json={**body, "parameter": "caseload-cap.coworked_weight",
                                      "value": 1, "applies_as": "pro_rata"})
    assert weight.status_code == 422, weight.text
    assert "only apply as agreed" in weight.text
