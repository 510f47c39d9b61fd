"""A team manager proposes an individual adjustment; the role the policy names decides.

A proposal is not in force (the NQSW's cap is the policy's) until it is approved; the
approver is told of it and the proposer of the decision; it may be refused with a
reason or withdrawn by its proposer; nobody approves their own proposal, and the
separation-of-duties rule still applies to the approval.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, Notification, Staff
from app.policy.adjustment_approval import approver_roles
from app.policy.registry import load_policy_set
from app.settings import PROJECT_ROOT
from tests.api.test_who_acts import over_the_cap, override
from tests.scenarios import seed

START = date(2030, 9, 1)  # after today: a write's reconciliation stays inside these dates
AFTER_SIX = "2031-04-01"  # month 8: the band "after 6 months", a cap of 15 full-time
# "Part-time (0.8 FTE) and building confidence: a cap of 10 after month 6."
PROPOSAL = {"policy_id": "stage-caps", "parameter": "caseload-cap.bands.2.cap", "value": 10,
            "applies_as": "as_agreed", "valid_from": "2030-09-01",
            "reason": "Part-time and building confidence: a cap of 10 after month 6"}


def cap_today(client: TestClient, staff_id: int) -> tuple[float, str]:
    """The engine's cap for the NQSW in month 8, and how it was reached."""
    band = client.get(f"/api/v1/nqsws/{staff_id}/workload", params={"on": AFTER_SIX})
    assert band.status_code == 200, band.text
    return band.json()["band"]["cap_for_fte"], band.json()["band"]["cap_basis"]


def told(session: Session, person: Staff, kind: str) -> list[Notification]:
    return list(session.exec(select(Notification).where(
        Notification.recipient_id == person.id, Notification.kind == kind)).all())


def actions(session: Session, adjustment_id: int) -> list[tuple[str, int | None]]:
    events = session.exec(select(AuditEvent).where(
        AuditEvent.entity == "adjustment", AuditEvent.entity_id == str(adjustment_id),
    ).order_by(col(AuditEvent.id))).all()
    return [(e.action, e.actor_id) for e in events]


@pytest.fixture
def part_timer(db_session: Session) -> tuple[seed.Org, Staff]:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START, fte=0.8)
    db_session.commit()
    return org, worker


@pytest.fixture
def approved_by(
    app_on_test_session: FastAPI, tmp_path: Path
) -> Iterator[Callable[[list[str]], None]]:
    """`approved_by([...])`: run the app on a copy of the shipped policies whose caps
    policy names these roles as approvers (loaded by the real loader, as at start-up)."""
    state = app_on_test_session.state
    shipped = state.policies

    def use(roles: list[str]) -> None:
        copy = tmp_path / "policies"
        shutil.copytree(PROJECT_ROOT / "policies", copy)
        caps = copy / "stage-caps.toml"
        listed = ", ".join(f'"{r}"' for r in roles)
        caps.write_text(caps.read_text().replace(
            'override_by = ["senior_manager"]',
            f'override_by = ["senior_manager"]\nadjustments_approved_by = [{listed}]', 1))
        policies = load_policy_set(copy)
        assert approver_roles(policies, "stage-caps") == tuple(roles)
        state.policies = policies

    try:
        yield use
    finally:
        state.policies = shipped


def test_a_proposal_is_not_in_force_until_the_coordinator_approves_it(
    client_as: Callable[..., TestClient], db_session: Session,
    part_timer: tuple[seed.Org, Staff],
) -> None:
    org, worker = part_timer
    manager, coordinator = client_as(org.team_manager), client_as(org.coordinator)
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    assert cap_today(manager, worker.id) == (12, "pro_rata")  # 15 pro rata for 0.8 FTE

    proposed = manager.post(f"{url}/proposals", json=PROPOSAL, params={"on": AFTER_SIX})
    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert (body["status"], body["in_force"], body["proposed_by_id"], body["approved_by_id"]) \
        == ("pending", False, org.team_manager.id, None)
    assert cap_today(manager, worker.id) == (12, "pro_rata")  # nothing changes yet
    pending = manager.get(url, params={"status": "pending"}).json()
    assert [a["id"] for a in pending["data"]] == [body["id"]]
    assert manager.get(url, params={"status": "approved"}).json()["count"] == 0

    # The coordinator is told, in words: no rule ids or role codes.
    [notice] = told(db_session, org.coordinator, "adjustment.proposed")
    assert worker.name in notice.subject
    assert "the case cap after 6 months, to 10" in notice.body_text
    assert "the final figure (as agreed)" in notice.body_text
    for code in ("caseload-cap", "asye_coordinator", "as_agreed", "team_manager"):
        assert code not in notice.body_text and code not in (notice.body_html or "")
    assert f"/nqsws/{worker.id}/adjustments/{body['id']}" in notice.body_text

    # The team manager who proposed it cannot approve it; the coordinator does.
    approve = f"{url}/{body['id']}/approve"
    assert manager.post(approve, params={"on": AFTER_SIX}).status_code == 403
    approved = coordinator.post(approve, params={"on": AFTER_SIX})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["in_force"],
            approved.json()["approved_by_id"]) == ("approved", True, org.coordinator.id)
    assert cap_today(manager, worker.id) == (10, "as_agreed")  # the engine's cap changed
    assert coordinator.post(approve).status_code == 409  # decided once
    [decision] = told(db_session, org.team_manager, "adjustment.decided")
    assert "approved" in decision.subject and org.coordinator.name in decision.body_text
    assert actions(db_session, body["id"]) == [
        ("adjustment.propose", org.team_manager.id), ("adjustment.approve", org.coordinator.id)]


def test_a_refused_or_withdrawn_proposal_is_never_in_force(
    client_as: Callable[..., TestClient], db_session: Session,
    part_timer: tuple[seed.Org, Staff],
) -> None:
    org, worker = part_timer
    manager, coordinator = client_as(org.team_manager), client_as(org.coordinator)
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    first = manager.post(f"{url}/proposals", json=PROPOSAL).json()["id"]
    no_reason = coordinator.post(f"{url}/{first}/refuse", json={})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == [
        "body", "reason"]
    refused = coordinator.post(f"{url}/{first}/refuse",
                               json={"reason": "Discuss it at the next review first"})
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["decision_reason"]) == (
        "refused", "Discuss it at the next review first")
    assert coordinator.post(f"{url}/{first}/approve").status_code == 409
    [decision] = told(db_session, org.team_manager, "adjustment.decided")
    assert "refused" in decision.subject
    assert "Discuss it at the next review first" in decision.body_text

    second = manager.post(f"{url}/proposals", json=PROPOSAL).json()["id"]
    # Only the proposer withdraws (not even their senior manager); the approver refuses.
    assert client_as(org.senior_manager).post(f"{url}/{second}/withdraw").status_code == 403
    withdrawn = manager.post(f"{url}/{second}/withdraw", json={"reason": "Agreed informally"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert coordinator.post(f"{url}/{second}/approve").status_code == 409
    assert coordinator.post(f"{url}/{second}/end", json={"on": "2031-05-01"}).status_code == 409
    assert cap_today(manager, worker.id) == (12, "pro_rata")
    assert manager.get(url, params={"in_force": True, "on": AFTER_SIX}).json()["count"] == 0


def test_who_may_propose_and_who_may_decide(
    client_as: Callable[..., TestClient], db_session: Session,
    part_timer: tuple[seed.Org, Staff], approved_by: Callable[[list[str]], None],
) -> None:
    org, worker = part_timer
    elsewhere = seed.organisation(db_session)
    stranger, _ = seed.nqsw(db_session, elsewhere, start=START)
    db_session.commit()
    manager = client_as(org.team_manager)
    # Outside their team the NQSW is as good as unknown to a team manager.
    outside = manager.post(f"/api/v1/nqsws/{stranger.id}/adjustments/proposals", json=PROPOSAL)
    assert outside.status_code == 404
    # An NQSW cannot propose their own.
    assert client_as(worker).post(f"/api/v1/nqsws/{worker.id}/adjustments/proposals",
                                  json=PROPOSAL).status_code == 403

    # This organisation's caps policy names the senior manager as its approver.
    approved_by(["senior_manager"])
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    senior = client_as(org.senior_manager)
    theirs = senior.post(f"{url}/proposals", json=PROPOSAL).json()["id"]
    own = senior.post(f"{url}/{theirs}/approve")
    assert own.status_code == 403 and "you proposed this adjustment" in own.json()[
        "detail"][0]["msg"]
    mine = manager.post(f"{url}/proposals", json=PROPOSAL).json()["id"]
    assert told(db_session, org.senior_manager, "adjustment.proposed")
    not_named = client_as(org.coordinator).post(f"{url}/{mine}/approve")
    assert not_named.status_code == 403
    assert "a senior manager" in not_named.json()["detail"][0]["msg"]
    assert senior.post(f"{url}/{mine}/approve", params={"on": AFTER_SIX}).status_code == 200
    assert cap_today(manager, worker.id) == (10, "as_agreed")


def test_approving_a_proposal_that_settles_your_own_override_is_refused(
    client_as: Callable[..., TestClient], db_session: Session,
    approved_by: Callable[[list[str]], None],
) -> None:
    approved_by(["senior_manager", "asye_coordinator"])
    org = seed.organisation(db_session)
    worker, case = over_the_cap(db_session, org)
    senior = client_as(org.senior_manager)
    override(senior, worker, case, "Duty cover while the team is short")
    raised: dict[str, Any] = {**PROPOSAL, "parameter": "caseload-cap.bands.0.cap", "value": 6,
                              "valid_from": "2030-10-05"}
    url = f"/api/v1/nqsws/{worker.id}/adjustments"
    proposal = client_as(org.team_manager).post(f"{url}/proposals", json=raised).json()["id"]
    refused = senior.post(f"{url}/{proposal}/approve", params={"on": "2030-10-05"})
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["msg"].startswith("you overrode this NQSW's")
    agreed = client_as(org.coordinator).post(f"{url}/{proposal}/approve",
                                             params={"on": "2030-10-05"})
    assert agreed.status_code == 200, agreed.text
