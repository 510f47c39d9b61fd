"""The allocation page offers every worker of the manager's teams who may take a case,
not only the NQSWs: "Who could take this case?" links a social worker's or an advanced
practitioner's name to it, and the page must find them there, chosen.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.clock import today
from app.models import Allocation
from tests.api.test_case_pages import Browser, text
from tests.scenarios import seed

START = date(2030, 9, 1)  # after today: the allocation's checks stay inside these dates


@pytest.fixture
def browse(app_on_test_session: FastAPI, db_session: Session) -> Iterator[Callable[..., Browser]]:
    made: list[Browser] = []

    def as_(staff: object) -> Browser:
        made.append(Browser(app_on_test_session, db_session, staff))  # type: ignore[arg-type]
        return made[-1]

    yield as_
    for browser in made:
        browser.client.close()


def worker_groups(page: str) -> dict[str, list[str]]:
    """The Worker list's groups, each with the names it offers, in order."""
    select_html = re.search(r'<select[^>]*id="worker-id".*?</select>', page, re.S)
    assert select_html, "no Worker list on the page"
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_html.group(0),
                        re.S)
    return {label: [html.unescape(n.strip()) for n in re.findall(r">([^<]+)</option>", body)]
            for label, body in groups}


def selected_worker(page: str) -> str | None:
    found = re.search(r'<option value="(\d+)" selected>', page)
    return found.group(1) if found else None


def test_a_manager_allocates_to_a_social_worker_of_their_team_from_the_page(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    # In post and on the programme today, when the page lists who is in post.
    seed.nqsw(db_session, org, start=today() - timedelta(days=30), name="Nell New")
    social = seed.person(db_session, "social_worker", team_id=org.team_id,
                         name="Sol Social", experienced=True)
    elsewhere = seed.organisation(db_session)
    seed.person(db_session, "social_worker", team_id=elsewhere.team_id,
                name="Otto Other", experienced=True)
    case = seed.case(db_session, opened_on=START, team_id=org.team_id)
    db_session.commit()
    manager = browse(org.team_manager)

    page = manager.get("/allocate")
    assert page.status_code == 200
    assert '<option value="">Select a worker</option>' in page.text
    assert worker_groups(page.text) == {
        "NQSWs": ["Nell New"],
        "Other workers": sorted([org.ap.name, "Sol Social"]),
    }

    done = manager.post("/allocate", case_reference=case.reference,
                        worker_id=str(social.id), role="holder", start_date=START)
    assert done.status_code == 303, text(done.text)[:600]
    assert done.headers["location"] == f"/cases/{case.id}"
    held = db_session.exec(select(Allocation).where(Allocation.case_id == case.id)).all()
    assert [(a.worker_id, a.role, a.start_date) for a in held] == [
        (social.id, "holder", START)]
    shown = manager.get(done.headers["location"])
    assert shown.status_code == 200 and "Sol Social" in text(shown.text)


def test_the_candidates_allocate_link_opens_the_page_with_that_worker_chosen(
    browse: Callable[..., Browser], db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    started = today() - timedelta(days=30)  # the candidates page answers for today
    seed.nqsw(db_session, org, start=started, name="Nell New")
    social = seed.person(db_session, "social_worker", team_id=org.team_id,
                         name="Sol Social", experienced=True)
    case = seed.case(db_session, opened_on=started, team_id=org.team_id)
    db_session.commit()
    manager = browse(org.team_manager)

    candidates = manager.get(f"/cases/{case.id}/candidates")
    assert candidates.status_code == 200
    link = re.search(rf'href="(/allocate\?worker_id={social.id}&amp;[^"]+)"', candidates.text)
    assert link, "no Allocate link for the social worker"
    page = manager.get(html.unescape(link.group(1)))
    assert page.status_code == 200
    assert selected_worker(page.text) == str(social.id)
    assert f'value="{case.reference}"' in page.text
