"""Lists show each role only what is within its reach (the same rules as single records)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.principal import Principal
from tests.api.test_access_matrix import Family, World, build_world


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session)


@pytest.fixture
def api(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    with TestClient(app_on_test_session) as test_client:
        yield test_client


def ids(api: TestClient, world: World, role: str, url: str) -> set[int]:
    response = api.get(url, params={"limit": 500},
                       headers={"Authorization": f"Bearer {world.tokens[role]}"})
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["data"]}


def everyone(world: World) -> set[int]:
    assert world.neighbour is not None and world.bystander is not None
    people = [*world.own.people.values(), *world.other.people.values(),
              *world.neighbour.people.values(), world.coordinator, world.admin,
              world.bystander]
    return {p.id for p in people if p.id is not None}


def team(family: Family, world: World) -> set[int]:
    """Everyone in a family's team (team 1 also has an AP who supports nobody)."""
    members = {p.id for role, p in family.people.items() if role != "senior_manager"}
    if family is world.own and world.bystander is not None:
        members.add(world.bystander.id)
    return {i for i in members if i is not None}


def test_staff_list_follows_reach(api: TestClient, world: World) -> None:
    own, other = world.own.people, world.other.people
    assert ids(api, world, "nqsw", "/api/v1/staff") == {own["nqsw"].id}
    assert ids(api, world, "advanced_practitioner", "/api/v1/staff") == {
        own["advanced_practitioner"].id, own["nqsw"].id}
    assert world.neighbour is not None
    team_one = team(world.own, world)
    assert ids(api, world, "team_manager", "/api/v1/staff") == team_one
    # The senior manager leads the area: both of its teams.
    assert ids(api, world, "senior_manager", "/api/v1/staff") == team_one | team(
        world.neighbour, world) | {own["senior_manager"].id}
    assert not ids(api, world, "team_manager", "/api/v1/staff") & {p.id for p in other.values()}
    # The coordinator reads everything; an admin keeps the staff list (but no casework).
    assert ids(api, world, "asye_coordinator", "/api/v1/staff") >= everyone(world)
    assert ids(api, world, "admin", "/api/v1/staff") >= everyone(world)


def test_case_list_follows_reach(api: TestClient, world: World) -> None:
    assert world.neighbour is not None
    for role in ("nqsw", "advanced_practitioner", "social_worker", "team_manager"):
        assert ids(api, world, role, "/api/v1/cases") == {world.own.case}, role
    assert ids(api, world, "senior_manager", "/api/v1/cases") == {world.own.case,
                                                                 world.neighbour.case}
    assert ids(api, world, "asye_coordinator", "/api/v1/cases") >= {world.own.case,
                                                                   world.other.case}


def test_allocation_and_breach_lists_follow_reach(api: TestClient, world: World) -> None:
    own_allocations = ids(api, world, "team_manager", "/api/v1/allocations")
    assert world.own.allocation in own_allocations
    assert world.other.allocation not in own_allocations
    assert ids(api, world, "social_worker", "/api/v1/allocations") == own_allocations
    everything = ids(api, world, "asye_coordinator", "/api/v1/allocations")
    assert {world.own.allocation, world.other.allocation} <= everything
    assert world.neighbour is not None
    for role in ("nqsw", "advanced_practitioner", "team_manager"):
        assert ids(api, world, role, "/api/v1/breaches") == {world.own.breach}, role
    assert ids(api, world, "senior_manager", "/api/v1/breaches") == {world.own.breach,
                                                                    world.neighbour.breach}
    assert ids(api, world, "social_worker", "/api/v1/breaches") == set()
    headers = {"Authorization": f"Bearer {world.tokens['team_manager']}"}
    csv = api.get("/api/v1/breaches.csv", headers=headers).text
    assert len(csv.strip().splitlines()) == 2  # the header and team 1's breach
    summary = api.get("/api/v1/breaches/summary", params={"on": "2026-06-01"},
                      headers=headers).json()
    coordinator = api.get("/api/v1/breaches/summary", params={"on": "2026-06-01"},
                          headers={"Authorization": f"Bearer {world.tokens['asye_coordinator']}"})
    assert (summary["total"], coordinator.json()["total"]) == (1, 3)


def test_principal_helpers_give_the_same_reach(db_session: Session, world: World) -> None:
    manager = world.own.people["team_manager"]
    principal = Principal(account_id=0, email="", staff_id=manager.id, role="team_manager",
                          name="", scopes=frozenset({"read"}), via="token", db=db_session)
    assert principal.visible_team_ids() == frozenset({world.own.team})
    assert principal.visible_staff_ids() == frozenset(team(world.own, world))
    assert not principal.is_global_reader
    coordinator = Principal(account_id=0, email="", staff_id=world.coordinator.id,
                            role="asye_coordinator", name="", scopes=frozenset(), via="token",
                            db=db_session)
    assert coordinator.is_global_reader and coordinator.visible_staff_ids() is None
