"""A team manager's work on cases, through the pages as a browser sends it: a real page
session, its CSRF token, dates in the three boxes of the GOV.UK date input.

Each job is done once and refused once, the refusal said beside the question it is about
with nothing written; a change of category shows what it would cause for the holder
before it is saved; a reassignment past a firm limit is refused with the engine's reason,
as on the allocation page; and another team's case reads as one that does not exist.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import sessions
from app.models import Allocation, Breach, Case, Staff
from tests.api.test_who_acts import page_visitor
from tests.scenarios import seed

START = date(2030, 9, 1)  # after today: a write's reconciliation stays inside these dates
EARLY = date(2030, 10, 5)  # the first 3 months: a firm cap of 5


class Browser:
    """One person's browser, signed in with a page session, not following redirects."""

    def __init__(self, app: FastAPI, session: Session, staff: Staff) -> None:
        cookie, self.csrf = page_visitor(app, session, staff)
        self.client = TestClient(app, follow_redirects=False)
        self.client.headers["Accept"] = "text/html"
        self.client.cookies.set(sessions.cookie_name(app.state.settings), cookie)

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def post(self, url: str, **answers: str | date) -> Any:
        data: dict[str, str] = {"csrf_token": self.csrf}
        for name, value in answers.items():
            if isinstance(value, date):  # typed into the Day, Month and Year boxes
                data |= {f"{name}-day": str(value.day), f"{name}-month": str(value.month),
                         f"{name}-year": str(value.year)}
            else:
                data[name] = value
        return self.client.post(url, data=data)


@pytest.fixture
def browse(app_on_test_session: FastAPI, db_session: Session) -> Iterator[Callable[..., Browser]]:
    made: list[Browser] = []

    def as_(staff: Staff) -> Browser:
        made.append(Browser(app_on_test_session, db_session, staff))
        return made[-1]

    yield as_
    for browser in made:
        browser.client.close()


def beside(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error" class="govuk-error-message">'
                      r'<span class="govuk-visually-hidden">Error:</span>(.*?)</p>', page, re.S)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_manager_creates_a_case_and_a_taken_reference_is_refused_beside_it(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    db_session.commit()
    manager = browse(org.team_manager)
    form = manager.get("/cases/new")
    assert form.status_code == 200
    assert 'name="opened_on-day"' in form.text  # the GOV.UK date input
    done = manager.post("/cases/new", reference="CP-7001", category="child_in_need",
                        complexity="3", opened_on=START, team_id=str(org.team_id))
    assert done.status_code == 303, text(done.text)[:400]
    case = db_session.exec(select(Case).where(Case.reference == "CP-7001")).one()
    assert (case.category, case.complexity, case.opened_on, case.team_id) == (
        "child_in_need", 3, START, org.team_id)
    page = manager.get(done.headers["location"])
    assert "Case CP-7001 created, opened on 1 September 2030" in text(page.text)

    again = manager.post("/cases/new", reference="cp-7001", category="child_in_need",
                         complexity="2", opened_on=START, team_id=str(org.team_id))
    assert again.status_code == 409
    assert beside(again.text, "reference") == "A case with reference 'cp-7001' already exists"
    unknown = manager.post("/cases/new", reference="CP-7002", complexity="2",
                           opened_on=START, team_id=str(org.team_id))
    assert unknown.status_code == 422
    assert beside(unknown.text, "category") == "Select category"
    assert len(db_session.exec(select(Case)).all()) == 1


def test_closing_a_case_and_closing_it_twice(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    seed.allocate(db_session, worker, case, start=START)
    db_session.commit()
    manager = browse(org.team_manager)
    early = manager.post(f"/cases/{case.id}/close", on=START - timedelta(days=1))
    assert early.status_code == 422
    assert beside(early.text, "on") == (
        "Closing date 31 August 2030 is before the case opened on 1 September 2030")
    done = manager.post(f"/cases/{case.id}/close", on=EARLY, reason="Family moved away")
    assert done.status_code == 303
    db_session.refresh(case)
    assert case.closed_on == EARLY
    twice = manager.post(f"/cases/{case.id}/close", on=EARLY)
    assert twice.status_code == 409
    assert beside(twice.text, "on") == (
        f"Case {case.reference} was already closed on 5 October 2030")


def test_a_change_of_category_shows_what_it_causes_for_the_holder_before_it_is_saved(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START, name="Nell New")
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    seed.allocate(db_session, worker, case, start=START)
    db_session.commit()
    manager = browse(org.team_manager)
    preview = manager.post(f"/cases/{case.id}/change", category="child_protection_plan",
                           complexity="2", on=EARLY)
    assert preview.status_code == 200
    shown = text(preview.text)
    assert "What it would cause" in shown
    assert "Nell New, case holder" in shown
    assert "No sole holding of complex work early on" in shown  # the engine's finding
    db_session.refresh(case)
    assert case.category == "child_in_need"  # nothing saved yet
    assert db_session.exec(select(Breach).where(Breach.staff_id == worker.id)).all() == []

    saved = manager.post(f"/cases/{case.id}/change", category="child_protection_plan",
                         complexity="2", on=EARLY.isoformat(), confirm="yes")
    assert saved.status_code == 303, text(saved.text)[:400]
    db_session.refresh(case)
    assert case.category == "child_protection_plan"
    breaches = db_session.exec(select(Breach).where(Breach.staff_id == worker.id)).all()
    assert "complexity-gate" in {b.rule_id for b in breaches}
    # What was shown is what was opened: one finding on the page for each breach, those
    # the change causes and those it finds already so.
    assert preview.text.count('class="rf-finding rf-finding--') == len(breaches)

    same = manager.post(f"/cases/{case.id}/change", category="child_protection_plan",
                        complexity="2", on=EARLY)
    assert same.status_code == 422
    assert beside(same.text, "category").startswith("Choose a different category")


def test_ending_and_reassigning_an_allocation(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    holder, _ = seed.nqsw(db_session, org, start=START, name="Hal Holder")
    full, _ = seed.nqsw(db_session, org, start=START, name="Finn Full")
    seed.load(db_session, full, 5, start=START, team_id=org.team_id)
    room, _ = seed.nqsw(db_session, org, start=START, name="Rae Room")
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    first = seed.allocate(db_session, holder, case, start=START)
    db_session.commit()
    manager = browse(org.team_manager)
    url = f"/cases/{case.id}/allocations/{first.id}"

    blocked = manager.post(f"{url}/reassign", worker_id=str(full.id), on=EARLY)
    assert blocked.status_code == 409
    assert beside(blocked.text, "worker-id") == (
        "This breaks a firm limit. Only a senior manager can override it")
    assert "6 cases would exceed the cap of 5" in text(blocked.text)
    assert "Ask a senior manager for an override" in text(blocked.text)
    db_session.refresh(first)
    assert first.end_date is None

    moved = manager.post(f"{url}/reassign", worker_id=str(room.id), on=EARLY)
    assert moved.status_code == 303, text(moved.text)[:400]
    db_session.refresh(first)
    assert first.end_date == EARLY
    successor = db_session.exec(select(Allocation).where(
        Allocation.case_id == case.id, Allocation.worker_id == room.id)).one()
    assert (successor.role, successor.start_date, successor.end_date) == (
        "holder", EARLY, None)
    page = manager.get(moved.headers["location"])
    assert f"Case {case.reference} reassigned to Rae Room from 5 October 2030" in text(page.text)

    ending = f"/cases/{case.id}/allocations/{successor.id}/end"
    early = manager.post(ending, on=EARLY - timedelta(days=1))
    assert early.status_code == 422
    assert beside(early.text, "on") == (
        "The allocation started on 5 October 2030: choose that date or a later one")
    ended = manager.post(ending, on=EARLY + timedelta(days=30), reason="Stepped down")
    assert ended.status_code == 303
    db_session.refresh(successor)
    assert successor.end_date == EARLY + timedelta(days=30)
    history = text(manager.get(f"/cases/{case.id}").text)
    assert "Hal Holder Case holder 1 September 2030 5 October 2030" in history
    assert "Rae Room Case holder 5 October 2030 4 November 2030" in history


def test_a_team_manager_cannot_act_on_another_teams_case(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    ours, theirs = seed.organisation(db_session), seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, theirs, start=START)
    case = seed.case(db_session, opened_on=START, team_id=theirs.team_id)
    allocation = seed.allocate(db_session, worker, case, start=START)
    # Open today, so the list of open cases shows it.
    mine = seed.case(db_session, opened_on=date.today() - timedelta(days=30),
                     team_id=ours.team_id)
    db_session.commit()
    manager = browse(ours.team_manager)
    assert manager.get(f"/cases/{case.id}").status_code == 404
    assert manager.post(f"/cases/{case.id}/close", on=EARLY).status_code == 404
    assert manager.post(f"/cases/{case.id}/allocations/{allocation.id}/end",
                        on=EARLY).status_code == 404
    # Someone else's case named through one of ours is no way in either.
    assert manager.get(f"/cases/{mine.id}/allocations/{allocation.id}/end").status_code == 404
    listed = text(manager.get("/cases").text)
    assert mine.reference in listed and case.reference not in listed
    assert manager.post("/cases/new", reference="X-1", category="child_in_need",
                        complexity="1", opened_on=START,
                        team_id=str(theirs.team_id)).status_code == 403
    db_session.refresh(case)
    assert case.closed_on is None
    assert db_session.exec(select(Case).where(col(Case.reference) == "X-1")).first() is None
